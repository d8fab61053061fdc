package dev.qwenimage.edit;

import dev.qwenimage.engine.InputImage;
import dev.qwenimage.safety.NsfwPolicy;
import dev.qwenimage.safety.NsfwVerdict;
import java.util.Optional;

/**
 * From an {@link ImageSource} to the {@link InputImage} an edit works on: fetched (for a URL),
 * size-checked, then decoded and prepared by the {@link InputDecoder}, and, where the operator
 * asks for it ({@code QWEN_IMAGE_NSFW_INPUT=block}), judged by the NSFW classifier: a flagged input
 * is refused before any task is made.
 */
public final class EditInputs {
    private final ImageFetcher fetcher;
    private final InputDecoder decoder;
    private final long maxImageBytes;
    /** Judges inputs when they are checked; {@link NsfwPolicy#off()} when they are not. */
    private final NsfwPolicy inputCheck;

    public EditInputs(ImageFetcher fetcher, InputDecoder decoder, long maxImageBytes) {
        this(fetcher, decoder, maxImageBytes, NsfwPolicy.off());
    }

    public EditInputs(ImageFetcher fetcher, InputDecoder decoder, long maxImageBytes, NsfwPolicy inputCheck) {
        this.fetcher = fetcher;
        this.decoder = decoder;
        this.maxImageBytes = maxImageBytes;
        this.inputCheck = inputCheck;
    }

    public InputImage prepare(ImageSource source) {
        byte[] bytes = switch (source) {
            case ImageSource.Url u -> fetcher.fetch(u.url());
            case ImageSource.Inline i -> i.bytes();
        };
        if (bytes.length > maxImageBytes) {
            throw ImageRejected.tooLarge(bytes.length, maxImageBytes);
        }
        InputImage input = decoder.decode(bytes);
        if (inputCheck.enabled()) {
            Optional<NsfwVerdict> verdict = inputCheck.judge(input.decode());
            if (verdict.isPresent() && verdict.get().flagged()) {
                throw new ImageRejected(INPUT_NSFW, String.format(java.util.Locale.ROOT,
                        "the input image was flagged as NSFW (confidence %.2f); this service does not edit such images",
                        verdict.get().confidence()));
            }
        }
        return input;
    }

    /** The reason of an input the NSFW check refused. */
    public static final String INPUT_NSFW = "INPUT_NSFW";
}
