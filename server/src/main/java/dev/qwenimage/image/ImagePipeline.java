package dev.qwenimage.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Optional;
import dev.qwenimage.safety.NsfwPolicy;
import dev.qwenimage.safety.NsfwVerdict;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Turns an engine's raw image into the file clients download: resized to exactly the requested
 * size, judged by the NSFW policy (and blurred or refused as it says), marked with the visible
 * watermark when the client asked for it, encoded as JPEG, and labelled as AI-generated in its
 * metadata. The NSFW check sees the picture as generated, before any mark is drawn on it.
 */
public final class ImagePipeline {
    private final int quality;
    private final JpegEncoder jpeg;
    private final Watermark watermark;
    private final Optional<AigcLabel> label;
    private final NsfwPolicy nsfw;

    /** What became of an image. */
    public sealed interface Outcome {
        /** The file to store (of the type asked for), and the NSFW verdict when detection ran. */
        record Finished(byte[] file, ImageType type, Optional<NsfwVerdict> nsfw) implements Outcome {
        }

        /** The NSFW policy refused the image; nothing is stored. */
        record Blocked(NsfwVerdict verdict) implements Outcome {
            public String reason() {
                return String.format(java.util.Locale.ROOT,
                        "the generated image was blocked by the NSFW filter (confidence %.2f)", verdict.confidence());
            }
        }
    }

    /** Plain pipeline: resize and encode only (no watermark text needed, no label, no NSFW check). */
    public ImagePipeline(int jpegQuality) {
        this(jpegQuality, JpegEncoder.choose(JpegEncoder.Choice.AUTO), new Watermark("AI生成", Watermark.Corner.BOTTOM_RIGHT),
                Optional.empty(), NsfwPolicy.off());
    }

    /** @param jpegQuality 1..100 */
    public ImagePipeline(int jpegQuality, JpegEncoder jpeg, Watermark watermark, Optional<AigcLabel> label, NsfwPolicy nsfw) {
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new IllegalArgumentException("JPEG quality must be 1..100");
        }
        this.quality = jpegQuality;
        this.jpeg = jpeg;
        this.watermark = watermark;
        this.label = label;
        this.nsfw = nsfw;
    }

    /** The finished JPEG of {@code image} at exactly {@code width} x {@code height}, nothing else applied. */
    public byte[] process(BufferedImage image, int width, int height) {
        return encodeJpeg(resize(image, width, height));
    }

    /**
     * Every step for one task's image: exact size, NSFW verdict and action, watermark if
     * {@code withWatermark}, JPEG, AIGC label carrying {@code taskId}.
     */
    public Outcome finish(BufferedImage image, int width, int height, boolean withWatermark, ImageType type, String taskId) {
        BufferedImage rgb = resize(image, width, height);
        Optional<NsfwVerdict> verdict = nsfw.judge(rgb);
        if (verdict.isPresent() && verdict.get().flagged()) {
            switch (nsfw.action()) {
                case BLOCK -> {
                    return new Outcome.Blocked(verdict.get());
                }
                case BLUR -> rgb = obscure(rgb);
                case FLAG -> {
                }
            }
        }
        if (withWatermark) {
            if (rgb == image) {
                rgb = copy(rgb); // never draw on the engine's own buffer
            }
            watermark.apply(rgb);
        }
        byte[] file = encode(rgb, type);
        if (label.isPresent()) {
            file = label.get().embed(file, type, taskId);
        }
        return new Outcome.Finished(file, type, verdict);
    }

    /**
     * A blur strong enough that nothing in the picture can be made out: the image shrunk to about
     * 24 pixels across and smoothly scaled back up.
     */
    public static BufferedImage obscure(BufferedImage rgb) {
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        double shrink = 24.0 / Math.max(w, h);
        BufferedImage small = scale(rgb, Math.max(2, (int) Math.round(w * shrink)), Math.max(2, (int) Math.round(h * shrink)),
                RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        return scale(small, w, h, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }

    private static BufferedImage copy(BufferedImage rgb) {
        return scale(rgb, rgb.getWidth(), rgb.getHeight(), RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    }

    private static BufferedImage scale(BufferedImage src, int w, int h, Object interpolation) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** {@code image} scaled to exactly {@code width} x {@code height} as opaque RGB (bicubic). */
    public static BufferedImage resize(BufferedImage image, int width, int height) {
        if (image.getWidth() == width && image.getHeight() == height && image.getType() == BufferedImage.TYPE_INT_RGB) {
            return image;
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** {@code rgb} as a file of {@code type}: JPEG and lossy WebP at the configured quality, PNG lossless. */
    public byte[] encode(BufferedImage rgb, ImageType type) {
        return switch (type) {
            case JPEG -> encodeJpeg(rgb);
            case PNG -> write(rgb, "png", null);
            case WEBP -> write(rgb, "webp", param -> {
                param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                param.setCompressionType(param.getCompressionTypes()[0]); // "Lossy"
                param.setCompressionQuality(quality / 100f);
            });
        };
    }

    static byte[] write(BufferedImage rgb, String format, java.util.function.Consumer<ImageWriteParam> settings) {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
        if (!writers.hasNext()) {
            throw new IllegalStateException("no " + format + " encoder available");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(rgb.getWidth() * rgb.getHeight() / 2);
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            if (settings != null) {
                settings.accept(param);
            }
            writer.write(null, new IIOImage(rgb, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(format + " encoding failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    public byte[] encodeJpeg(BufferedImage rgb) {
        return jpeg.encode(rgb, quality);
    }
}
