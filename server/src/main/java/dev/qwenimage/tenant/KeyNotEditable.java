package dev.qwenimage.tenant;

/** A bootstrap key, which only its environment variable changes (409). */
public final class KeyNotEditable extends RuntimeException {
    public KeyNotEditable(ApiKey key) {
        super("key " + key.id() + " is a bootstrap key (" + key.name() + "): change QWEN_IMAGE_API_KEYS and restart to change it, "
                + "or create a managed key with POST /admin/v1/keys");
    }
}
