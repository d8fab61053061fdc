package dev.qwenimage.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The pictures the image benchmarks encode: a real photograph when one is given, else a
 * deterministic photo-like picture (smooth shading, edges and fine texture, as a generated image
 * has), so that encoders see pixels with a photograph's statistics rather than flat colour.
 */
final class Pictures {
    private Pictures() {
    }

    /** {@code file} scaled to {@code size} x {@code size}, or the generated picture when absent. */
    static BufferedImage picture(Optional<Path> file, int size) {
        if (file.isPresent()) {
            try {
                BufferedImage read = ImageIO.read(file.get().toFile());
                if (read == null) {
                    throw new IllegalArgumentException(file.get() + " is not an image ImageIO can read");
                }
                return dev.qwenimage.image.ImagePipeline.resize(read, size, size);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return photoLike(size, size, 7);
    }

    static BufferedImage photoLike(int w, int h, long seed) {
        Random random = new Random(seed);
        double[][] blobs = new double[24][6];
        for (double[] b : blobs) {
            b[0] = random.nextDouble() * w;
            b[1] = random.nextDouble() * h;
            b[2] = (0.05 + random.nextDouble() * 0.25) * w;
            b[3] = random.nextDouble() * 255;
            b[4] = random.nextDouble() * 255;
            b[5] = random.nextDouble() * 255;
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double r = 40 + 120.0 * y / h;
                double g = 60 + 80.0 * x / w;
                double bl = 90 + 60 * Math.sin(x * 0.01 + y * 0.004);
                for (double[] b : blobs) {
                    double dx = x - b[0];
                    double dy = y - b[1];
                    double d = Math.sqrt(dx * dx + dy * dy);
                    if (d < b[2]) { // a hard-edged disc with soft shading: edges as objects have
                        double k = 0.55 * (1 - d / b[2]);
                        r += (b[3] - r) * (0.4 + k);
                        g += (b[4] - g) * (0.4 + k);
                        bl += (b[5] - bl) * (0.4 + k);
                    }
                }
                double texture = 14 * Math.sin(x * 0.31) * Math.cos(y * 0.27) + random.nextGaussian() * 6;
                px[y * w + x] = (clamp(r + texture) << 16) | (clamp(g + texture) << 8) | clamp(bl + texture);
            }
        }
        img.setRGB(0, 0, w, h, px, 0, w);
        return img;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    /** {@code img} as a binary PPM (P6), the input cjpeg and tjbench read. */
    static void writePpm(BufferedImage img, Path file) throws IOException {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] header = ("P6\n" + w + " " + h + "\n255\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] data = new byte[header.length + w * h * 3];
        System.arraycopy(header, 0, data, 0, header.length);
        int[] px = img.getRGB(0, 0, w, h, null, 0, w);
        int o = header.length;
        for (int p : px) {
            data[o++] = (byte) (p >> 16);
            data[o++] = (byte) (p >> 8);
            data[o++] = (byte) p;
        }
        Files.write(file, data);
    }

    /** Peak signal-to-noise ratio of {@code decoded} against {@code original}, in dB (higher: closer). */
    static double psnr(BufferedImage original, BufferedImage decoded) {
        int w = original.getWidth();
        int h = original.getHeight();
        int[] a = original.getRGB(0, 0, w, h, null, 0, w);
        int[] b = decoded.getRGB(0, 0, w, h, null, 0, w);
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                int d = ((a[i] >> shift) & 0xff) - ((b[i] >> shift) & 0xff);
                sum += d * d;
            }
        }
        double mse = sum / (a.length * 3.0);
        return mse == 0 ? 99 : 10 * Math.log10(255 * 255 / mse);
    }
}
