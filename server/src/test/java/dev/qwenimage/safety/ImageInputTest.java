package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The model's input is built from the image exactly as nsfwjs builds it. */
class ImageInputTest {
    private static final int SIZE = 224;

    @Test
    void alphaIsDroppedNotComposited() {
        BufferedImage opaque = randomRgb(120, 90, 1);
        BufferedImage translucent = new BufferedImage(120, 90, BufferedImage.TYPE_INT_ARGB);
        Random r = new Random(2);
        for (int y = 0; y < 90; y++) {
            for (int x = 0; x < 120; x++) {
                int alpha = x < 40 ? 0 : r.nextInt(256); // a third fully transparent
                translucent.setRGB(x, y, alpha << 24 | opaque.getRGB(x, y) & 0xFFFFFF);
            }
        }
        assertThat(input(translucent)).isEqualTo(input(opaque));
        NsfwModel model = NsfwModel.loadDefault();
        assertThat(model.classify(translucent)).isEqualTo(model.classify(opaque));
    }

    @Test
    void greyscaleIsTheSameImageAsRgbWithEqualChannels() {
        BufferedImage grey = new BufferedImage(300, 200, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage rgb = new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB);
        WritableRaster raster = grey.getRaster();
        Random r = new Random(3);
        for (int y = 0; y < 200; y++) {
            for (int x = 0; x < 300; x++) {
                int v = (x + y) % 256 ^ r.nextInt(16);
                raster.setSample(x, y, 0, v);
                rgb.setRGB(x, y, v * 0x010101);
            }
        }
        // Java's own getRGB would map the linear grey colour space to sRGB and change the values; nsfwjs sees the raw samples
        assertThat(input(grey)).isEqualTo(input(rgb));
    }

    @Test
    void sixteenBitSamplesAreScaledTo8BitsAsPngjsScalesThem() {
        BufferedImage grey16 = new BufferedImage(64, 64, BufferedImage.TYPE_USHORT_GRAY);
        BufferedImage rgb = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int v16 = (x * 64 + y) * 16 + 5;
                grey16.getRaster().setSample(x, y, 0, v16);
                int v8 = (int) Math.floor(v16 * 255.0 / 65535 + 0.5);
                rgb.setRGB(x, y, v8 * 0x010101);
            }
        }
        assertThat(input(grey16)).isEqualTo(input(rgb));
    }

    @Test
    void everyCommonImageTypeGivesTheSameInput() {
        BufferedImage reference = randomRgb(97, 131, 4);
        float[][] expected = input(reference);
        int[] types = {BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_INT_BGR, BufferedImage.TYPE_3BYTE_BGR,
            BufferedImage.TYPE_4BYTE_ABGR, BufferedImage.TYPE_INT_ARGB_PRE};
        for (int type : types) {
            BufferedImage copy = new BufferedImage(97, 131, type);
            Graphics2D g = copy.createGraphics();
            g.drawImage(reference, 0, 0, null);
            g.dispose();
            assertThat(input(copy)).as("image type %d", type).isEqualTo(expected);
        }
    }

    @Test
    void aSubimageIsReadFromItsOwnCorner() {
        BufferedImage big = randomRgb(400, 300, 5);
        BufferedImage sub = big.getSubimage(50, 70, 200, 150);
        BufferedImage copy = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
        copy.getGraphics().drawImage(sub, 0, 0, null);
        assertThat(input(sub)).isEqualTo(input(copy));
    }

    @Test
    void anImageOfTheModelsSizeIsOnlyDividedBy255() {
        BufferedImage image = randomRgb(SIZE, SIZE, 6);
        float[][] in = input(image);
        for (int y = 0; y < SIZE; y += 37) {
            for (int x = 0; x < SIZE; x += 41) {
                Color c = new Color(image.getRGB(x, y));
                assertThat(in[y * SIZE + x]).containsExactly((float) (c.getRed() / 255.0), (float) (c.getGreen() / 255.0),
                        (float) (c.getBlue() / 255.0));
            }
        }
    }

    @Test
    void resizingAlignsCornersAndInterpolatesLinearly() {
        // alignCorners: output column c samples input column c * (w - 1) / 223, so the corners are the input's corners
        BufferedImage image = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        int[][] values = {{0, 100, 250}, {40, 200, 30}};
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                image.setRGB(x, y, values[y][x] << 16);
            }
        }
        float[][] in = input(image);
        assertThat(red(in, 0, 0)).isEqualTo(0f);
        assertThat(red(in, 0, SIZE - 1)).isEqualTo((float) (250 / 255.0));
        assertThat(red(in, SIZE - 1, 0)).isEqualTo((float) (40 / 255.0));
        assertThat(red(in, SIZE - 1, SIZE - 1)).isEqualTo((float) (30 / 255.0));
        // an inner pixel: bilinear between the four input pixels around its source position, computed as tfjs does
        double x = 111 * (2.0 / 223); // input column 0.9955...
        double y = 111 * (1.0 / 223);
        double top = v(0) + (v(100) - v(0)) * x;
        double bottom = v(40) + (v(200) - v(40)) * x;
        assertThat(red(in, 111, 111)).isEqualTo((float) (top + (bottom - top) * y));
        // a pixel that stays within one input column interpolates only vertically
        assertThat(red(in, 111, 0)).isEqualTo((float) (v(0) + (v(40) - v(0)) * y));
    }

    @Test
    void everyPixelsWeightSumsToOneSoAFlatImageStaysFlat() {
        BufferedImage flat = new BufferedImage(517, 389, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = flat.createGraphics();
        g.setColor(new Color(12, 200, 99));
        g.fillRect(0, 0, 517, 389);
        g.dispose();
        for (float[] pixel : input(flat)) {
            assertThat(pixel).containsExactly((float) (12 / 255.0), (float) (200 / 255.0), (float) (99 / 255.0));
        }
    }

    private static double v(int p) {
        return (float) (p / 255.0);
    }

    private static float red(float[][] in, int row, int col) {
        return in[row * SIZE + col][0];
    }

    private static float[][] input(BufferedImage image) {
        float[][] rows = new float[SIZE * SIZE][3];
        ImageInput.write(image, SIZE, SIZE, rows, new ImageInput.Scratch(SIZE));
        return rows;
    }

    private static BufferedImage randomRgb(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        return img;
    }
}
