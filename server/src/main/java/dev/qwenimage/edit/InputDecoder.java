package dev.qwenimage.edit;

import com.drew.imaging.ImageProcessingException;
import com.drew.imaging.jpeg.JpegMetadataReader;
import com.drew.lang.ByteArrayReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.MetadataException;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import dev.qwenimage.engine.InputImage;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns the bytes a client sent (or the service fetched) into the {@link InputImage} an engine
 * edits, refusing what is not safe or not usable before it costs anything:
 * <ol>
 *   <li>the format is sniffed from the first bytes, never taken from a name or a header: JPEG, PNG
 *       and WebP are taken; GIF, BMP, TIFF, HEIC/AVIF, SVG, PDF and anything else are refused by name;</li>
 *   <li>the width and height are read from the header, and an image of more than {@code maxPixels}
 *       is refused before a single pixel is decoded (a 30,000 x 30,000 PNG is a few KB on the wire
 *       and 3.6 GB in memory: a decompression bomb);</li>
 *   <li>a large image is decoded subsampled, so memory stays near what the edit needs;</li>
 *   <li>only then is anything else read: the EXIF block alone (no other metadata is parsed), whose
 *       orientation is applied (a phone's portrait photo stays portrait); transparency is flattened
 *       onto white, and the picture is scaled to the edit's working size ({@link EditSize}) and
 *       stored as PNG.</li>
 * </ol>
 */
public final class InputDecoder {
    /** The smallest side taken: below this there is nothing to edit. */
    public static final int MIN_SIDE = 16;
    /** Decoding stops subsampling once the picture would have fewer than this many times the working pixels. */
    private static final long DECODE_HEADROOM = 4;

    private final long maxPixels;

    /** @param maxPixels the most pixels (width x height, as the header states them) an input may have */
    public InputDecoder(long maxPixels) {
        if (maxPixels < MIN_SIDE * MIN_SIDE) {
            throw new IllegalArgumentException("maxPixels must be at least " + MIN_SIDE * MIN_SIDE);
        }
        this.maxPixels = maxPixels;
    }

    /** The formats taken, by what their bytes start with. */
    enum Format {
        JPEG("jpeg"), PNG("png"), WEBP("webp");

        final String readerName;

        Format(String readerName) {
            this.readerName = readerName;
        }
    }

    /** The input as the engines get it; {@link ImageRejected} with {@code INVALID_IMAGE} when it cannot be. */
    public InputImage decode(byte[] bytes) {
        Format format = sniff(bytes);
        // decoded pixels are the large part of an edit's memory: at most as many decodes at once as cores
        try {
            DECODES.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageRejected(ImageRejected.INVALID_IMAGE, "the service is stopping; send the edit again");
        }
        try {
            BufferedImage picture = read(bytes, format);
            EditSize size = EditSize.forInput(picture.getWidth(), picture.getHeight());
            BufferedImage working = scaleFlat(picture, size.width(), size.height());
            return new InputImage(png(working), size.width(), size.height());
        } catch (ImageRejected e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            // a decoder's own failure (a native codec's error, a case ImageIO does not handle) is the file's problem to the client
            throw invalid("the image is a " + name(format) + " that cannot be decoded (" + why(e)
                    + "); re-save it as an RGB JPEG or PNG and send it again");
        } finally {
            DECODES.release();
        }
    }

    /** Decodes running at once, process-wide. */
    private static final java.util.concurrent.Semaphore DECODES =
            new java.util.concurrent.Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()), true);

    /**
     * The most pixels a WebP may have whatever the setting: its decoder (libwebp through
     * webp-imageio) ignores subsampling and decodes every pixel, 4 bytes each.
     */
    static final long MAX_WEBP_PIXELS = 16_000_000;

    /** The format {@code bytes} are in, or the refusal naming what they are instead. */
    static Format sniff(byte[] b) {
        if (b.length == 0) {
            throw invalid("the image is empty (0 bytes); send a JPEG, PNG or WebP image");
        }
        if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) {
            return Format.JPEG;
        }
        if (starts(b, 0, new int[] {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
            return Format.PNG;
        }
        if (starts(b, 0, "RIFF") && starts(b, 8, "WEBP")) {
            return Format.WEBP;
        }
        String what;
        if (starts(b, 0, "GIF8")) {
            what = "a GIF";
        } else if (starts(b, 0, "BM")) {
            what = "a BMP";
        } else if (starts(b, 0, new int[] {'I', 'I', 0x2A, 0}) || starts(b, 0, new int[] {'M', 'M', 0, 0x2A})) {
            what = "a TIFF";
        } else if (starts(b, 4, "ftyp")) {
            String brand = b.length >= 12 ? new String(b, 8, 4, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
            what = brand.startsWith("avi") ? "an AVIF" : brand.startsWith("he") || brand.startsWith("mif") ? "a HEIC/HEIF"
                    : "an ISO media file (" + brand.strip() + ")";
        } else if (starts(b, 0, "%PDF")) {
            what = "a PDF";
        } else if (starts(b, 0, new int[] {0, 0, 1, 0})) {
            what = "an ICO";
        } else if (looksLikeText(b)) {
            String head = new String(b, 0, Math.min(b.length, 256), java.nio.charset.StandardCharsets.ISO_8859_1)
                    .strip().toLowerCase(Locale.ROOT);
            what = head.contains("<svg") ? "an SVG" : head.startsWith("<") ? "an HTML or XML page" : "text";
        } else {
            what = "not a picture this service reads";
        }
        return refuse(what);
    }

    private static Format refuse(String what) {
        throw invalid("the image is " + what + "; only JPEG, PNG and WebP are taken: convert it to one of those and send it again");
    }

    private static boolean looksLikeText(byte[] b) {
        int n = Math.min(b.length, 64);
        for (int i = 0; i < n; i++) {
            int c = b[i] & 0xff;
            if (c < 0x09 || (c > 0x0D && c < 0x20 && c != 0x1B)) {
                return false;
            }
        }
        return true;
    }

    private static boolean starts(byte[] b, int at, String ascii) {
        int[] want = ascii.chars().toArray();
        return starts(b, at, want);
    }

    private static boolean starts(byte[] b, int at, int[] want) {
        if (b.length < at + want.length) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            if ((b[at + i] & 0xff) != want[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The EXIF orientation (1..8; 1 when there is none or it cannot be read: the picture is then
     * taken as stored). Only the EXIF block is read (a JPEG's APP1 segment, a PNG's {@code eXIf}
     * chunk, a WebP's {@code EXIF} chunk): no other metadata is parsed, so nothing compressed in a
     * text or ICC chunk is ever inflated.
     */
    static int orientation(byte[] bytes, Format format) {
        try {
            Metadata metadata = format == Format.JPEG
                    ? JpegMetadataReader.readMetadata(new ByteArrayInputStream(bytes), List.of(new ExifReader())) : new Metadata();
            switch (format) {
                case JPEG -> {
                }
                case PNG -> exifChunk(bytes, 8, "eXIf", false).ifPresent(tiff -> exif(tiff, metadata));
                case WEBP -> exifChunk(bytes, 12, "EXIF", true).ifPresent(tiff -> exif(tiff, metadata));
            }
            for (ExifIFD0Directory dir : metadata.getDirectoriesOfType(ExifIFD0Directory.class)) {
                if (dir.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
                    int o = dir.getInt(ExifIFD0Directory.TAG_ORIENTATION);
                    return o >= 1 && o <= 8 ? o : 1;
                }
            }
        } catch (ImageProcessingException | IOException | MetadataException | RuntimeException e) {
            // no readable metadata: the picture is taken as stored
        }
        return 1;
    }

    private static void exif(byte[] tiff, Metadata metadata) {
        int skip = ExifReader.startsWithJpegExifPreamble(tiff) ? ExifReader.JPEG_SEGMENT_PREAMBLE.length() : 0;
        new ExifReader().extract(new ByteArrayReader(tiff, skip), metadata);
    }

    /**
     * The payload of the first chunk named {@code type}, walking chunk headers from {@code at}: PNG's
     * (4-byte big-endian length, type, data, CRC) or RIFF's (type, 4-byte little-endian length, data,
     * padded to even).
     */
    static Optional<byte[]> exifChunk(byte[] b, int at, String type, boolean riff) {
        int i = at;
        while (i + 8 <= b.length) {
            String name;
            long length;
            int data;
            if (riff) {
                name = new String(b, i, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
                length = (b[i + 4] & 0xffL) | (b[i + 5] & 0xffL) << 8 | (b[i + 6] & 0xffL) << 16 | (b[i + 7] & 0xffL) << 24;
            } else {
                length = (b[i] & 0xffL) << 24 | (b[i + 1] & 0xffL) << 16 | (b[i + 2] & 0xffL) << 8 | (b[i + 3] & 0xffL);
                name = new String(b, i + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
            data = i + 8;
            if (length > b.length - data) {
                return Optional.empty();
            }
            if (name.equals(type)) {
                return Optional.of(java.util.Arrays.copyOfRange(b, data, data + (int) length));
            }
            if (!riff && name.equals("IEND")) {
                return Optional.empty();
            }
            long next = data + length + (riff ? (length & 1) : 4);
            if (next > Integer.MAX_VALUE) {
                return Optional.empty();
            }
            i = (int) next;
        }
        return Optional.empty();
    }

    private BufferedImage read(byte[] bytes, Format format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.readerName);
        if (!readers.hasNext()) {
            throw new IllegalStateException("no " + format.readerName + " decoder available");
        }
        ImageReader reader = readers.next();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            int w;
            int h;
            try {
                w = reader.getWidth(0);
                h = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw invalid("the image is a " + name(format) + " whose header cannot be read (" + why(e)
                        + "); the file is damaged or cut short: send the whole file");
            }
            long pixels = (long) w * h;
            long cap = format == Format.WEBP ? Math.min(maxPixels, MAX_WEBP_PIXELS) : maxPixels;
            if (pixels > cap) {
                throw invalid("the image is " + w + "x" + h + " pixels (" + millions(pixels) + " megapixels); the most taken is "
                        + millions(cap) + " megapixels" + (cap < maxPixels ? " for a WebP" : "") + ": scale it down and send it again");
            }
            if (w < MIN_SIDE || h < MIN_SIDE) {
                throw invalid("the image is " + w + "x" + h + " pixels; each side must be at least " + MIN_SIDE + " pixels");
            }
            // the size is within bounds: only now is anything but the header read
            int orientation = orientation(bytes, format);
            ImageReadParam param = reader.getDefaultReadParam();
            int step = (int) Math.floor(Math.sqrt(pixels / (double) (DECODE_HEADROOM * EditSize.PIXEL_BUDGET)));
            if (step > 1) {
                param.setSourceSubsampling(step, step, 0, 0);
            }
            BufferedImage image;
            try {
                image = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                throw invalid("the image is a " + name(format) + " that cannot be decoded (" + why(e)
                        + "); the file is damaged or in a variant this service does not read (e.g. CMYK): re-save it as an RGB JPEG or PNG");
            }
            if (image == null) {
                throw invalid("the image is a " + name(format) + " that cannot be decoded");
            }
            return orient(image, orientation);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            reader.dispose();
        }
    }

    /** {@code image} turned upright as EXIF {@code orientation} says (1: as stored; 5..8 swap width and height). */
    static BufferedImage orient(BufferedImage image, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return image;
        }
        int w = image.getWidth();
        int h = image.getHeight();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        int[] in = image.getRGB(0, 0, w, h, null, 0, w);
        int[] out = new int[in.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2 -> { sx = w - 1 - x; sy = y; }          // mirrored
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }  // upside down
                    case 4 -> { sx = x; sy = h - 1 - y; }          // mirrored top to bottom
                    case 5 -> { sx = y; sy = x; }                  // transposed
                    case 6 -> { sx = y; sy = h - 1 - x; }          // to be turned 90 degrees clockwise
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }  // transversed
                    default -> { sx = w - 1 - y; sy = x; }         // 8: to be turned 90 degrees counter-clockwise
                }
                out[y * ow + x] = in[sy * w + sx];
            }
        }
        BufferedImage turned = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_ARGB);
        turned.setRGB(0, 0, ow, oh, out, 0, ow);
        return turned;
    }

    /**
     * {@code image} over white, scaled to {@code w} x {@code h}: halved while it is at least twice as
     * large (each halving averages every pixel, so nothing aliases), then bilinear to the size.
     */
    static BufferedImage scaleFlat(BufferedImage image, int w, int h) {
        BufferedImage current = image;
        while (current.getWidth() >= 2 * w && current.getHeight() >= 2 * h) {
            current = draw(current, current.getWidth() / 2, current.getHeight() / 2, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        }
        // within 2x of the target, bilinear loses nothing the model would see, at a third of bicubic's cost
        return draw(current, w, h, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    }

    private static BufferedImage draw(BufferedImage src, int w, int h, Object interpolation) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * {@code image} as a PNG written for speed, not size (ImageIO's fastest setting: a third of the
     * default's time, about 3 MB at one megapixel): the copy lives only until its task ends.
     */
    private static byte[] png(BufferedImage image) {
        Iterator<javax.imageio.ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IllegalStateException("no PNG encoder available");
        }
        javax.imageio.ImageWriter writer = writers.next();
        ByteArrayOutputStream out = new ByteArrayOutputStream(image.getWidth() * image.getHeight() * 3 + 4096);
        try (javax.imageio.stream.MemoryCacheImageOutputStream stream = new javax.imageio.stream.MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(1.0f);
            writer.write(null, new javax.imageio.IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static String name(Format f) {
        return switch (f) {
            case JPEG -> "JPEG";
            case PNG -> "PNG";
            case WEBP -> "WebP";
        };
    }

    private static String why(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.length() > 120 ? m.substring(0, 120) + "…" : m;
    }

    private static String millions(long pixels) {
        return String.format(Locale.ROOT, "%.1f", pixels / 1_000_000.0);
    }

    private static ImageRejected invalid(String message) {
        return new ImageRejected(ImageRejected.INVALID_IMAGE, message);
    }

    /** Empty when {@code bytes} would be taken as a format at all (for callers that only check). */
    static Optional<String> formatProblem(byte[] bytes) {
        try {
            sniff(bytes);
            return Optional.empty();
        } catch (ImageRejected e) {
            return Optional.of(e.getMessage());
        }
    }
}
