package dev.qwenimage.sdk;

import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One text-to-image request. Only {@code prompt} is required; every other field is {@code null}
 * until the caller sets it, and a field left {@code null} is not sent at all, so the server's
 * default applies and a server that does not know an extension (the cloud API knows only prompt,
 * size and watermark) never sees it.
 *
 * <p>A request checks the shape of its fields itself, by the server's rules (README, "Field
 * rules"): a prompt has a character that shows, and neither text field holds a control character
 * other than tab, line feed and carriage return or an unpaired surrogate; a size string is two
 * decimal numbers without sign or leading zero. Ranges (sides 256..1536, seed 0..2<sup>53</sup>-1
 * or -1 for random, the prompt's length) are the server's to check, since servers may differ:
 * its answer is a {@link QwenImageException} with reason {@code INVALID_SIZE} and so on.
 *
 * @param prompt            what to draw
 * @param width             image width in pixels, or {@code null} for the server's default size;
 *                          set together with {@code height}
 * @param height            image height in pixels, or {@code null}
 * @param watermark         whether to add the visible "AI-generated" mark
 * @param seed              the random seed; -1 asks for a random one (extension)
 * @param negativePrompt    what to keep out of the image (extension)
 * @param responseImageType the image format, {@code extra.response_image_type} (extension)
 * @param webhookUrl        an https URL the server posts the final result to, {@code extra.webhook.url}
 * @param idempotencyKey    sent as the {@code Idempotency-Key} header: the same key with the same request
 *                          returns the first task instead of making a second one (extension)
 */
public record GenerateRequest(String prompt, Integer width, Integer height, Boolean watermark, Long seed,
                              String negativePrompt, ImageType responseImageType, URI webhookUrl,
                              String idempotencyKey) {
    private static final Pattern SIZE = Pattern.compile("([1-9][0-9]{0,4})[*xX]([1-9][0-9]{0,4})");
    private static final int MAX_IDEMPOTENCY_KEY = 255;

    public GenerateRequest {
        checkTexts(prompt, negativePrompt);
        if ((width == null) != (height == null)) {
            throw new IllegalArgumentException("width and height are set together");
        }
        if (width != null && (width <= 0 || height <= 0)) {
            throw new IllegalArgumentException("width and height must be positive, got " + width + "*" + height);
        }
        checkIdempotencyKey(idempotencyKey);
    }

    /** The prompt's and the negative prompt's rules, shared with {@link EditRequest}. */
    static void checkTexts(String prompt, String negativePrompt) {
        Objects.requireNonNull(prompt, "prompt");
        TextRules.check("prompt", prompt);
        if (!TextRules.hasVisible(prompt)) {
            throw new IllegalArgumentException("prompt must not be empty or only white space");
        }
        if (negativePrompt != null) {
            TextRules.check("negative_prompt", negativePrompt);
        }
    }

    /** The idempotency key's rule, shared with {@link EditRequest}. */
    static void checkIdempotencyKey(String idempotencyKey) {
        if (idempotencyKey != null) {
            if (idempotencyKey.isEmpty() || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY) {
                throw new IllegalArgumentException("an idempotency key has 1.." + MAX_IDEMPOTENCY_KEY + " characters");
            }
            if (!idempotencyKey.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
                throw new IllegalArgumentException("an idempotency key is printable ASCII without spaces");
            }
        }
    }

    /** A request for {@code prompt} with every other field left to the server. */
    public static GenerateRequest of(String prompt) {
        return builder(prompt).build();
    }

    /** A builder for a request with this prompt. */
    public static Builder builder(String prompt) {
        return new Builder().prompt(prompt);
    }

    /** A builder; {@link Builder#prompt} must be set before {@link Builder#build}. */
    public static Builder builder() {
        return new Builder();
    }

    /** The size as the wire writes it, {@code "<width>*<height>"}, when set. */
    public Optional<String> size() {
        return width == null ? Optional.empty() : Optional.of(width + "*" + height);
    }

    /** A builder preset with this request's fields. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.prompt = prompt;
        b.width = width;
        b.height = height;
        b.watermark = watermark;
        b.seed = seed;
        b.negativePrompt = negativePrompt;
        b.responseImageType = responseImageType;
        b.webhookUrl = webhookUrl;
        b.idempotencyKey = idempotencyKey;
        return b;
    }

    /** Builds a {@link GenerateRequest}; every setter but {@link #prompt} is optional. */
    public static final class Builder {
        private String prompt;
        private Integer width;
        private Integer height;
        private Boolean watermark;
        private Long seed;
        private String negativePrompt;
        private ImageType responseImageType;
        private URI webhookUrl;
        private String idempotencyKey;

        private Builder() {
        }

        public Builder prompt(String prompt) {
            this.prompt = prompt;
            return this;
        }

        /** The image size in pixels. */
        public Builder size(int width, int height) {
            this.width = width;
            this.height = height;
            return this;
        }

        /**
         * The image size as {@code "<width>*<height>"} (also {@code "WxH"}): white space around it
         * is ignored, each side is decimal digits without sign or leading zero.
         *
         * @throws IllegalArgumentException when it is not so written
         */
        public Builder size(String size) {
            Matcher m = SIZE.matcher(Objects.requireNonNull(size, "size").strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("size must be <width>*<height> with each side a whole number "
                        + "(digits only: no sign, no leading zero), e.g. 1328*1328; got \"" + size + "\"");
            }
            return size(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }

        public Builder watermark(boolean watermark) {
            this.watermark = watermark;
            return this;
        }

        /** The seed; -1 asks the server for a random one. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder negativePrompt(String negativePrompt) {
            this.negativePrompt = negativePrompt;
            return this;
        }

        public Builder responseImageType(ImageType type) {
            this.responseImageType = type;
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
         * @throws NullPointerException     when no prompt was set
         * @throws IllegalArgumentException when a field is malformed
         */
        public GenerateRequest build() {
            return new GenerateRequest(prompt, width, height, watermark, seed, negativePrompt, responseImageType,
                    webhookUrl, idempotencyKey);
        }
    }
}
