package dev.qwenimage.edit;

import dev.qwenimage.engine.InputImage;

/**
 * From an {@link ImageSource} to the {@link InputImage} an edit works on: fetched (for a URL),
 * size-checked, then decoded and prepared by the {@link InputDecoder}.
 */
public final class EditInputs {
    private final ImageFetcher fetcher;
    private final InputDecoder decoder;
    private final long maxImageBytes;

    public EditInputs(ImageFetcher fetcher, InputDecoder decoder, long maxImageBytes) {
        this.fetcher = fetcher;
        this.decoder = decoder;
        this.maxImageBytes = maxImageBytes;
    }

    public InputImage prepare(ImageSource source) {
        byte[] bytes = switch (source) {
            case ImageSource.Url u -> fetcher.fetch(u.url());
            case ImageSource.Inline i -> i.bytes();
        };
        if (bytes.length > maxImageBytes) {
            throw new ImageRejected(ImageRejected.IMAGE_TOO_LARGE, "the image is " + dev.qwenimage.health.Bytes.human(bytes.length)
                    + "; the most an edit takes is " + dev.qwenimage.health.Bytes.human(maxImageBytes) + ": send a smaller file");
        }
        return decoder.decode(bytes);
    }
}
