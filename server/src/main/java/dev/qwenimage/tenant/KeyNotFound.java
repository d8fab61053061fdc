package dev.qwenimage.tenant;

/** No key has this id (404). */
public final class KeyNotFound extends RuntimeException {
    public KeyNotFound(String id) {
        super("no API key has the id " + quoted(id) + "; GET /admin/v1/keys lists them");
    }

    static String quoted(String id) {
        String s = id == null ? "" : id;
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
    }
}
