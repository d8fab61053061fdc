package dev.qwenimage.sdk;

import java.net.URI;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One edit request ({@code POST /v3/async/qwen-image-edit}): a picture and the instruction of what
 * to change in it. {@code prompt} and {@code image} are required; every other field is {@code null}
 * until the caller sets it, and a field left {@code null} is not sent, so the server's default
 * applies. The output keeps the input's aspect ratio at about one megapixel; there is no size.
 *
 * <p>The prompt follows the same rules as a {@link GenerateRequest}'s; the picture's size and
 * format, and the seed's range, are the server's to check (400 {@code IMAGE_TOO_LARGE},
 * {@code INVALID_IMAGE}, {@code INVALID_SEED}...).
 *
 * @param prompt         the edit instruction, e.g. "make the sky purple"
 * @param image          the picture: a link the server fetches or the file's bytes
 * @param seed           the random seed; -1 asks for a random one
 * @param outputFormat   the output's format, {@code output_format} (the server's default: jpeg)
 * @param watermark      whether to add the visible "AI-generated" mark
 * @param negativePrompt what to keep out of the picture (extension)
 * @param webhookUrl     an https URL the server posts the final result to, {@code extra.webhook.url}
 * @param idempotencyKey sent as the {@code Idempotency-Key} header (extension), as for {@link GenerateRequest}
 */
public record EditRequest(String prompt, EditImage image, Long seed, ImageType outputFormat, Boolean watermark,
                          String negativePrompt, URI webhookUrl, String idempotencyKey) {
    public EditRequest {
        GenerateRequest.checkTexts(prompt, negativePrompt);
        Objects.requireNonNull(image, "image");
        GenerateRequest.checkIdempotencyKey(idempotencyKey);
    }

    /** A builder for an edit of {@code image} by {@code prompt}. */
    public static Builder builder(String prompt, EditImage image) {
        return new Builder().prompt(prompt).image(image);
    }

    /** A builder; {@link Builder#prompt} and an image must be set before {@link Builder#build}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link EditRequest}; every setter but {@link #prompt} and the image is optional. */
    public static final class Builder {
        private String prompt;
        private EditImage image;
        private Long seed;
        private ImageType outputFormat;
        private Boolean watermark;
        private String negativePrompt;
        private URI webhookUrl;
        private String idempotencyKey;

        private Builder() {
        }

        public Builder prompt(String prompt) {
            this.prompt = prompt;
            return this;
        }

        public Builder image(EditImage image) {
            this.image = image;
            return this;
        }

        /** The picture's file as bytes. */
        public Builder image(byte[] bytes) {
            return image(EditImage.bytes(bytes));
        }

        /** The picture's file, read now ({@link java.io.UncheckedIOException} when it cannot be). */
        public Builder image(Path file) {
            return image(EditImage.file(file));
        }

        /** A link to the picture, which the server fetches. */
        public Builder imageUrl(String url) {
            return image(EditImage.url(url));
        }

        /** The seed; -1 asks the server for a random one. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder outputFormat(ImageType format) {
            this.outputFormat = format;
            return this;
        }

        public Builder watermark(boolean watermark) {
            this.watermark = watermark;
            return this;
        }

        public Builder negativePrompt(String negativePrompt) {
            this.negativePrompt = negativePrompt;
            return this;
        }

        public Builder webhookUrl(URI url) {
            this.webhookUrl = url;
            return this;
        }

        public Builder webhookUrl(String url) {
            return webhookUrl(url == null ? null : URI.create(url));
        }

        public Builder idempotencyKey(String key) {
            this.idempotencyKey = key;
            return this;
        }

        /**
         * The request.
         *
         * @throws NullPointerException     when no prompt or no image was set
         * @throws IllegalArgumentException when a field is malformed
         */
        public EditRequest build() {
            return new EditRequest(prompt, image, seed, outputFormat, watermark, negativePrompt, webhookUrl, idempotencyKey);
        }
    }
}
