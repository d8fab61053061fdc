package dev.qwenimage.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * Both JPEG encoders give the same picture at about the same size, so that which one a machine
 * has changes only how fast images finish. libjpeg-turbo must be installed under CI=true (.ci/run
 * installs libturbojpeg0); elsewhere its tests skip loudly where it is missing.
 */
class JpegEncoderTest {
    private static final BufferedImage PHOTO = photoLike(640, 480);
    private static JpegEncoder turbo;

    @BeforeAll
    static void loadTurbo() {
        try {
            turbo = TurboJpeg.load();
        } catch (RuntimeException | LinkageError e) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError("CI=true but libturbojpeg cannot be loaded (apt-get install libturbojpeg0): " + e, e);
            }
            System.err.println("\n!!! JpegEncoderTest: libturbojpeg not found (" + e + "); the libjpeg-turbo tests are SKIPPED."
                    + " Install libturbojpeg0 to run them.\n");
        }
    }

    private static JpegEncoder turbo() {
        if (turbo == null) {
            throw new TestAbortedException("libturbojpeg is not installed here");
        }
        return turbo;
    }

    @Test
    void autoChoosesLibjpegTurboWhereItLoadsAndSaysSo() {
        JpegEncoder chosen = JpegEncoder.choose(JpegEncoder.Choice.AUTO);
        assertThat(chosen).isInstanceOf(turbo().getClass());
        assertThat(chosen.describe()).startsWith("libjpeg-turbo (native, in-process: ").contains("turbojpeg");
    }

    @Test
    void imageioIsChosenWhenConfiguredAndNamesItselfPureJava() {
        JpegEncoder chosen = JpegEncoder.choose(JpegEncoder.Choice.IMAGEIO);
        assertThat(chosen).isInstanceOf(ImageIoJpeg.class);
        assertThat(chosen.describe()).startsWith("ImageIO (pure Java; chosen by configuration)");
    }

    @Test
    void bothEncodersGiveThePictureBackAtTheSameSizeWithinFivePerCent() throws IOException {
        byte[] native_ = turbo().encode(PHOTO, 90);
        byte[] java = new ImageIoJpeg("test").encode(PHOTO, 90);
        assertThat((double) native_.length).isCloseTo(java.length, within(java.length * 0.05));
        assertThat(meanError(decode(native_), PHOTO)).isLessThan(4.0);
        assertThat(meanError(decode(java), PHOTO)).isLessThan(4.0);
        assertThat(meanError(decode(native_), decode(java))).isLessThan(1.5);
    }

    @Test
    void qualityIsHonouredByLibjpegTurbo() {
        assertThat(turbo().encode(PHOTO, 30).length).isLessThan(turbo().encode(PHOTO, 90).length / 2);
    }

    @Test
    void aPictureThatIsNotOnePackedArrayIsEncodedFromItsOwnPixels() throws IOException {
        BufferedImage part = PHOTO.getSubimage(100, 50, 300, 200); // shares PHOTO's array, with an offset and a stride
        BufferedImage back = decode(turbo().encode(part, 95));
        assertThat(back.getWidth()).isEqualTo(300);
        assertThat(back.getHeight()).isEqualTo(200);
        assertThat(meanError(back, part)).isLessThan(3.0);

        BufferedImage bgr = new BufferedImage(64, 32, BufferedImage.TYPE_3BYTE_BGR);
        bgr.createGraphics().drawImage(PHOTO, 0, 0, null);
        assertThat(meanError(decode(turbo().encode(bgr, 95)), bgr)).isLessThan(3.0);
    }

    @Test
    void encodesFromManyThreadsAtOnce() throws Exception {
        byte[] expected = turbo().encode(PHOTO, 90);
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var futures = new java.util.ArrayList<java.util.concurrent.Future<byte[]>>();
            for (int i = 0; i < 16; i++) {
                futures.add(pool.submit(() -> turbo().encode(PHOTO, 90)));
            }
            for (var f : futures) {
                assertThat(f.get()).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static BufferedImage decode(byte[] jpeg) throws IOException {
        assertThat(jpeg[0] & 0xff).isEqualTo(0xFF);
        assertThat(jpeg[1] & 0xff).isEqualTo(0xD8);
        return ImageIO.read(new ByteArrayInputStream(jpeg));
    }

    /** Mean absolute difference per channel, 0..255. */
    private static double meanError(BufferedImage a, BufferedImage b) {
        assertThat(a.getWidth()).isEqualTo(b.getWidth());
        assertThat(a.getHeight()).isEqualTo(b.getHeight());
        long sum = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    sum += Math.abs(((p >> shift) & 0xff) - ((q >> shift) & 0xff));
                }
            }
        }
        return sum / (3.0 * a.getWidth() * a.getHeight());
    }

    /** Smooth colour fields with some grain: what JPEG is made for, unlike flat test cards. */
    static BufferedImage photoLike(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Random grain = new Random(7);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double u = x / (double) w;
                double v = y / (double) h;
                int n = grain.nextInt(17) - 8;
                int r = clamp(120 + 100 * Math.sin(6 * u + 2 * v) + n);
                int g = clamp(110 + 90 * Math.cos(5 * v - 3 * u * v) + n);
                int b = clamp(100 + 80 * Math.sin(9 * u * v + 1) + n);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
