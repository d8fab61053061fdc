package dev.qwenimage.edit;

/** Where an edit's input image comes from. */
public sealed interface ImageSource {

    /** An {@code http(s)} URL the service fetches (through the outbound guard). */
    record Url(String url) implements ImageSource {
    }

    /** The image's bytes, sent inline (base64, bare or as a {@code data:} URI) and already decoded. */
    record Inline(byte[] bytes) implements ImageSource {
        @Override
        public String toString() {
            return "Inline[" + bytes.length + " bytes]";
        }
    }
}
