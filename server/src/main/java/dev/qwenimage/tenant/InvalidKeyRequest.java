package dev.qwenimage.tenant;

/** An admin request with a field that breaks the rules (400), naming the field. */
public final class InvalidKeyRequest extends RuntimeException {
    private final String field;

    public InvalidKeyRequest(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
