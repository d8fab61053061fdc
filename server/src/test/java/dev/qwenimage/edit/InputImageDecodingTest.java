package dev.qwenimage.edit;

import static dev.qwenimage.support.Errors.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ImageOrigin;
import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.ScriptedDns;
import dev.qwenimage.support.SharedServer;
import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an edit's input image may be, fetched from a URL (an in-process origin) as a client's would
 * be: the format read from its bytes (JPEG, PNG, WebP; anything else refused by name), a pixel cap
 * judged from the header before any pixel is decoded, the EXIF orientation applied, transparency
 * flattened onto white. The edits run on the preview engine, which mirrors its input left to right
 * under a light tint: where the input's colours end up in the answer shows what was decoded.
 */
class InputImageDecodingTest {
    static final ImageOrigin origin = ImageOrigin.start();

    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of("QWEN_IMAGE_OUTBOUND_ALLOW", ImageOrigin.PUBLIC + "/32"),
            new ScriptedDns());

    @AfterAll
    static void stopOrigin() {
        origin.close();
    }

    /** The URL of {@code bytes}, served under a path of their own. */
    private static String served(byte[] bytes, String name) {
        String p = "/" + UUID.randomUUID() + "/" + name;
        origin.serve(p, "application/octet-stream", bytes);
        return origin.url(p);
    }

    private static Api.Response edit(String image) {
        return server.api().edit("{\"prompt\": \"add a hat\", \"image\": \"" + image + "\"}");
    }

    private static BufferedImage editedPicture(String image) {
        String id = server.api().editOk("{\"prompt\": \"add a hat\", \"image\": \"" + image + "\"}");
        JsonNode result = server.api().awaitFinished(id, Duration.ofSeconds(60));
        assertThat(result.at("/task/status").asText()).as(result.toString()).isEqualTo("TASK_STATUS_SUCCEED");
        return Pictures.decode(Api.fetch(result.at("/images/0/image_url").asText()).body());
    }

    private static int red(int rgb) {
        return (rgb >> 16) & 0xff;
    }

    private static int green(int rgb) {
        return (rgb >> 8) & 0xff;
    }

    private static int blue(int rgb) {
        return rgb & 0xff;
    }

    // --- decompression bombs

    @Test
    void theBombIsARealPng() {
        // the construction below, at a size that can be decoded: a PNG of transparent pixels ImageIO reads
        BufferedImage small = Pictures.decode(Pictures.pngBomb(300, 200));
        assertThat(small.getWidth()).isEqualTo(300);
        assertThat(small.getHeight()).isEqualTo(200);
        assertThat(small.getRGB(299, 199) >>> 24).isZero();
    }

    @Test
    void aPngOf30000By30000PixelsIsRefusedFromItsHeaderWithoutBeingDecoded() {
        // given 3.6 GB of RGBA pixels in a 3.5 MB PNG, sent gzip-encoded: a few KB on the wire
        byte[] bomb = Pictures.pngBomb(30_000, 30_000);
        assertThat(bomb.length).isLessThan(4_000_000);
        assertThat(ImageOrigin.gzip(bomb).length).isLessThan(64 * 1024);
        String p = "/" + UUID.randomUUID() + "/bomb.png";
        origin.serveGzipped(p, "image/png", bomb);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocatedBefore = threads.getTotalThreadAllocatedBytes();

        Api.Response r = edit(origin.url(p));

        // then it is refused by its header's size, before a row is inflated
        long allocated = threads.getTotalThreadAllocatedBytes() - allocatedBefore;
        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).contains("30000x30000 pixels", "900.0 megapixels", "the most taken is 50.0",
                "scale it down");
        assertThat(allocated).as("bytes allocated by the whole JVM while it was refused").isLessThan(400L * 1024 * 1024);
    }

    @Test
    void theSameBombSentAsBase64IsRefusedTheSameWay() {
        Api.Response r = edit(Pictures.base64(Pictures.pngBomb(30_000, 30_000)));

        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).contains("30000x30000 pixels");
    }

    /** A JPEG of {@code side} x {@code side} as far as its header goes: SOI, SOF0, SOS, a few bytes of scan, EOI. */
    static byte[] jpegHeaderOnly(int side) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xC0, 0, 17, 8,
                (byte) (side >> 8), (byte) side, (byte) (side >> 8), (byte) side, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0});
        b.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xDA, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 63, 0});
        b.writeBytes(new byte[64]);
        b.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xD9});
        return b.toByteArray();
    }

    /** A lossless WebP of {@code side} x {@code side} with alpha as far as its VP8L header goes. */
    static byte[] webpHeaderOnly(int side) {
        int bits = (side - 1) | (side - 1) << 14 | 1 << 28;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + 8 + 5 + 27).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.capacity() - 8).put("WEBP".getBytes(StandardCharsets.US_ASCII))
                .put("VP8L".getBytes(StandardCharsets.US_ASCII)).putInt(5 + 27).put((byte) 0x2F).putInt(bits);
        return b.array();
    }

    @ParameterizedTest(name = "a {0} whose header says {1}x{1} is refused without being decoded")
    @CsvSource({"jpeg,65500", "webp,16384"})
    void aHugePictureInAnyFormatIsRefusedFromItsHeader(String format, int side) {
        byte[] bytes = format.equals("jpeg") ? jpegHeaderOnly(side) : webpHeaderOnly(side);

        Api.Response r = edit(served(bytes, "huge." + format));

        assertError(r, 400, "INVALID_IMAGE");
        // a WebP's own cap is lower: its decoder ignores subsampling and holds every pixel
        assertThat(r.json().get("message").asText()).contains(side + "x" + side + " pixels",
                format.equals("webp") ? "the most taken is 16.0 megapixels for a WebP" : "the most taken is 50.0");
    }

    @Test
    void anImageTooSmallToEditIsRefused() {
        Api.Response r = edit(served(Pictures.png(10, 12), "tiny.png"));

        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).contains("10x12", "at least 16");
    }

    // --- EXIF orientation

    @ParameterizedTest(name = "orientation {0}: a 640x480 stored picture is edited at {1}x{2}, its red half at the {3}")
    @CsvSource({"1,1184,880,right", "6,880,1184,top", "8,880,1184,bottom", "3,1184,880,left"})
    void theExifOrientationIsApplied(int orientation, int width, int height, String redSide) {
        // given a landscape JPEG (red left half, blue right half) tagged with an EXIF orientation
        byte[] jpeg = Pictures.withExifOrientation(Pictures.jpeg(640, 480), orientation);

        BufferedImage out = editedPicture(served(jpeg, "phone.jpg"));

        // then the edit is of the upright picture (and the preview mirrors it left to right)
        assertThat(out.getWidth()).isEqualTo(width);
        assertThat(out.getHeight()).isEqualTo(height);
        int top = out.getRGB(width / 2, height / 20);
        int bottom = out.getRGB(width / 2, height - 1 - height / 20);
        int left = out.getRGB(width / 20, height / 2);
        int right = out.getRGB(width - 1 - width / 20, height / 2);
        int[] reds = switch (redSide) {
            case "top" -> new int[] {top, bottom};
            case "bottom" -> new int[] {bottom, top};
            case "left" -> new int[] {left, right};
            default -> new int[] {right, left};
        };
        assertThat(red(reds[0])).as("red side").isGreaterThan(blue(reds[0]) + 60);
        assertThat(blue(reds[1])).as("blue side").isGreaterThan(red(reds[1]) + 60);
    }

    // --- transparency

    @Test
    void transparencyIsFlattenedOntoWhite() {
        // given a PNG whose left half is transparent black and whose right half is opaque blue
        BufferedImage out = editedPicture(served(Pictures.halfTransparentPng(800, 600), "logo.png"));

        // then the transparent half was white (mirrored to the right), not the black its pixels hold
        int once = out.getRGB(out.getWidth() * 9 / 10, out.getHeight() / 10);
        assertThat(List.of(red(once), green(once), blue(once))).as("the flattened half").allSatisfy(c -> assertThat(c).isGreaterThan(160));
        int opaque = out.getRGB(out.getWidth() / 10, out.getHeight() / 10);
        assertThat(blue(opaque)).isGreaterThan(red(opaque) + 60);
    }

    @Test
    void aWebpWithTransparencyIsFlattenedOntoWhiteToo() {
        BufferedImage picture = Pictures.decode(Pictures.halfTransparentPng(640, 480));
        BufferedImage out = editedPicture(served(Pictures.encode(picture, "webp"), "logo.webp"));

        int once = out.getRGB(out.getWidth() * 9 / 10, out.getHeight() / 10);
        assertThat(List.of(red(once), green(once), blue(once))).as("the flattened half").allSatisfy(c -> assertThat(c).isGreaterThan(160));
    }

    // --- formats

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> refusedFormats() {
        BufferedImage picture = Pictures.halves(64, 48);
        return java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of("a GIF", Pictures.encode(picture, "gif")),
                org.junit.jupiter.params.provider.Arguments.of("a BMP", Pictures.encode(picture, "bmp")),
                org.junit.jupiter.params.provider.Arguments.of("a TIFF", Pictures.encode(picture, "tiff")),
                org.junit.jupiter.params.provider.Arguments.of("a HEIC/HEIF", isoMedia("heic")),
                org.junit.jupiter.params.provider.Arguments.of("an AVIF", isoMedia("avif")),
                org.junit.jupiter.params.provider.Arguments.of("an SVG", ("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                        + "width=\"64\" height=\"48\"><rect width=\"64\" height=\"48\" fill=\"red\"/></svg>").getBytes(StandardCharsets.UTF_8)),
                org.junit.jupiter.params.provider.Arguments.of("an HTML or XML page",
                        "<!DOCTYPE html><html><body>Not found</body></html>".getBytes(StandardCharsets.UTF_8)),
                org.junit.jupiter.params.provider.Arguments.of("a PDF", "%PDF-1.7\n%âãÏÓ\n1 0 obj".getBytes(StandardCharsets.ISO_8859_1)),
                org.junit.jupiter.params.provider.Arguments.of("text", "just some words, not a picture".getBytes(StandardCharsets.UTF_8)));
    }

    /** The start of an ISO base media file (HEIC, AVIF): a box size, "ftyp", the brand. */
    private static byte[] isoMedia(String brand) {
        byte[] b = new byte[64];
        b[3] = 24;
        System.arraycopy(("ftyp" + brand + "\0\0\0\0mif1" + brand).getBytes(StandardCharsets.ISO_8859_1), 0, b, 4, 20);
        return b;
    }

    @ParameterizedTest(name = "{0} is refused by name")
    @MethodSource("refusedFormats")
    void otherFormatsAreRefusedNamingWhatTheyAre(String what, byte[] bytes) {
        Api.Response r = edit(served(bytes, "picture"));

        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).startsWith("the image is " + what + ";")
                .contains("only JPEG, PNG and WebP are taken");
    }

    @Test
    void aCutShortPngIsRefusedAsDamaged() {
        byte[] png = Pictures.png(640, 480);
        Api.Response r = edit(served(java.util.Arrays.copyOf(png, 20), "cut.png"));

        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).contains("PNG", "damaged or cut short");
    }

    @Test
    void aJpegWhoseScanIsGarbageIsRefusedNot500() {
        byte[] jpeg = Pictures.jpeg(640, 480);
        for (int i = jpeg.length / 2; i < jpeg.length - 2; i++) {
            jpeg[i] = (byte) 0xFF; // markers where the entropy-coded data was
        }
        Api.Response r = edit(served(jpeg, "garbage.jpg"));

        assertThat(r.status()).as(r.body()).isIn(200, 400);
        if (r.status() == 400) {
            assertError(r, 400, "INVALID_IMAGE");
        }
    }

    @Test
    void anEmptyBodyIsRefused() {
        Api.Response r = edit(served(new byte[0], "empty.jpg"));

        assertError(r, 400, "INVALID_IMAGE");
        assertThat(r.json().get("message").asText()).contains("empty");
    }
}
