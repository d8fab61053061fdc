import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RadialGradientPaint;
import java.awt.RenderingHints;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.geom.Ellipse2D;
import java.awt.geom.GeneralPath;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes the NSFW classifier's parity fixtures (server/src/test/resources/nsfw/fixtures/):
 * synthetic images, deterministic (fixed seeds, java.util.Random), covering the input paths the
 * classifier must treat exactly as nsfwjs does: RGB, RGBA (alpha ignored), grayscale, grey+alpha,
 * palette, sizes from 64x64 to 1024x768 (up- and down-sampling, odd sizes, exactly 224x224 where
 * nsfwjs skips the resize), flat, smooth, noisy and high-frequency content, text, shapes, and
 * skin-tone-heavy compositions. Developers only; the PNGs are committed.
 *
 * <p>Run: {@code java tools/nsfw/MakeFixtures.java server/src/test/resources/nsfw/fixtures}, then
 * {@code node tools/nsfw/reference.js} to recompute the reference probabilities.
 */
public final class MakeFixtures {
    private static Path out;

    public static void main(String[] args) throws IOException {
        out = Path.of(args.length > 0 ? args[0] : "server/src/test/resources/nsfw/fixtures");
        Files.createDirectories(out);

        png("gradient-rgb-224x224", gradient(224, 224));
        png("gradient-diagonal-640x480", diagonal(640, 480));
        png("gradient-large-1024x768", diagonal(1024, 768));
        png("noise-uniform-256x256", noise(256, 256, 1, 255));
        png("noise-dark-160x120", noise(160, 120, 2, 40));
        png("noise-smooth-300x200", smoothNoise(300, 200, 3));
        png("checkerboard-64x64", checker(64, 64, 8));
        png("checkerboard-fine-512x512", checker(512, 512, 1));
        png("stripes-1024x768", stripes(1024, 768));
        png("rings-400x400", rings(400, 400));
        png("grid-lines-333x250", grid(333, 250));
        png("shapes-512x512", shapes(512, 512, 4));
        png("shapes-odd-225x223", shapes(225, 223, 5));
        png("text-latin-800x600", text(800, 600));
        png("text-dense-64x512", textDense(64, 512));
        png("solid-black-100x100", solid(100, 100, Color.BLACK));
        png("solid-white-100x100", solid(100, 100, Color.WHITE));
        png("solid-skin-320x240", solid(320, 240, new Color(224, 172, 138)));
        png("skin-blobs-420x560", skinBlobs(420, 560, 6));
        png("skin-figure-480x640", figure(480, 640, new Color(233, 185, 150), new Color(40, 30, 35)));
        png("skin-figure-dark-512x384", figure(512, 384, new Color(141, 85, 56), new Color(220, 210, 200)));
        png("skin-closeup-560x400", skinCloseup(560, 400, 7));
        png("skin-noise-200x300", skinNoise(200, 300, 8));
        png("beach-800x450", beach(800, 450, 9));
        png("cartoon-face-400x400", cartoon(400, 400));
        png("mandelbrot-500x375", mandelbrot(500, 375));
        png("wide-banner-1024x128", banner(1024, 128));
        png("tiny-odd-65x97", smoothNoise(65, 97, 10));
        png("red-dominant-300x300", tinted(300, 300, 11));

        png("gray-gradient-256x256", toGray(diagonal(256, 256)));
        png("gray-noise-128x128", toGray(noise(128, 128, 12, 255)));
        png("gray-figure-300x400", toGray(figure(300, 400, new Color(233, 185, 150), new Color(60, 60, 60))));
        png("gray-alpha-200x200", grayAlpha(200, 200));
        png("rgba-alpha-gradient-320x320", rgbaGradient(320, 320));
        png("rgba-transparent-hidden-256x192", rgbaHidden(256, 192));
        png("rgba-skin-figure-400x400", rgbaFigure(400, 400));
        png("palette-shapes-300x200", toPalette(shapes(300, 200, 13)));
        png("palette-alpha-150x150", paletteAlpha(150, 150));
    }

    // ---- writing ------------------------------------------------------------------------------

    private static void png(String name, BufferedImage img) throws IOException {
        Path file = out.resolve(name + ".png");
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new IOException("no PNG writer for " + name);
        }
        System.out.printf("%-40s %6d bytes%n", file.getFileName(), Files.size(file));
    }

    // ---- RGB content --------------------------------------------------------------------------

    private static BufferedImage rgb(int w, int h) {
        return new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    }

    private static Graphics2D smooth(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        return g;
    }

    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 255 / (w - 1)) << 16 | (y * 255 / (h - 1)) << 8 | ((x + y) * 255 / (w + h - 2)));
            }
        }
        return img;
    }

    private static BufferedImage diagonal(int w, int h) {
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        g.setPaint(new GradientPaint(0, 0, new Color(20, 40, 120), w, h, new Color(250, 200, 80)));
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static BufferedImage noise(int w, int h, long seed, int amplitude) {
        Random r = new Random(seed);
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt(amplitude + 1) << 16 | r.nextInt(amplitude + 1) << 8 | r.nextInt(amplitude + 1));
            }
        }
        return img;
    }

    /** Value noise: random lattice, bicubic-smoothed; photo-like low frequencies. */
    private static BufferedImage smoothNoise(int w, int h, long seed) {
        Random r = new Random(seed);
        int cell = 24;
        int gw = w / cell + 3;
        int gh = h / cell + 3;
        float[][][] lattice = new float[3][gh][gw];
        for (float[][] plane : lattice) {
            for (float[] row : plane) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = r.nextFloat();
                }
            }
        }
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    float fx = (float) x / cell;
                    float fy = (float) y / cell;
                    int ix = (int) fx;
                    int iy = (int) fy;
                    float tx = smoothstep(fx - ix);
                    float ty = smoothstep(fy - iy);
                    float[][] p = lattice[c];
                    float v = lerp(lerp(p[iy][ix], p[iy][ix + 1], tx), lerp(p[iy + 1][ix], p[iy + 1][ix + 1], tx), ty);
                    rgb = rgb << 8 | Math.round(v * 255);
                }
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    private static float smoothstep(float t) {
        return t * t * (3 - 2 * t);
    }

    private static float lerp(float a, float b, float t) {
        return a + (b - a) * t;
    }

    private static BufferedImage checker(int w, int h, int cell) {
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, ((x / cell + y / cell) & 1) == 0 ? 0xF0F0F0 : 0x101010);
            }
        }
        return img;
    }

    private static BufferedImage stripes(int w, int h) {
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        Color[] colors = {new Color(200, 30, 30), new Color(240, 240, 240), new Color(30, 60, 170)};
        for (int x = 0, i = 0; x < w; x += 37, i++) {
            g.setColor(colors[i % colors.length]);
            g.fillRect(x, 0, 37, h);
        }
        g.dispose();
        return img;
    }

    private static BufferedImage rings(int w, int h) {
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double d = Math.hypot(x - w / 2.0, y - h / 2.0);
                int v = (int) Math.round(127.5 + 127.5 * Math.sin(d * d / 180.0));
                img.setRGB(x, y, v << 16 | (255 - v) << 8 | 128);
            }
        }
        return img;
    }

    private static BufferedImage grid(int w, int h) {
        BufferedImage img = solid(w, h, new Color(250, 250, 245));
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (x % 7 == 0 || y % 5 == 0) {
                    img.setRGB(x, y, 0x2040A0);
                }
            }
        }
        return img;
    }

    private static BufferedImage shapes(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256)));
        g.fillRect(0, 0, w, h);
        for (int i = 0; i < 40; i++) {
            g.setColor(new Color(r.nextInt(256), r.nextInt(256), r.nextInt(256), 120 + r.nextInt(136)));
            int x = r.nextInt(w);
            int y = r.nextInt(h);
            int sw = 10 + r.nextInt(w / 3);
            int sh = 10 + r.nextInt(h / 3);
            switch (i % 4) {
                case 0 -> g.fillOval(x - sw / 2, y - sh / 2, sw, sh);
                case 1 -> g.fillRect(x - sw / 2, y - sh / 2, sw, sh);
                case 2 -> {
                    g.setStroke(new BasicStroke(1 + r.nextInt(8)));
                    g.drawLine(x, y, r.nextInt(w), r.nextInt(h));
                }
                default -> g.fillPolygon(new int[] {x, x + sw, x - sw / 2}, new int[] {y, y + sh / 2, y + sh}, 3);
            }
        }
        g.dispose();
        return img;
    }

    private static BufferedImage text(int w, int h) {
        BufferedImage img = solid(w, h, new Color(252, 250, 240));
        Graphics2D g = smooth(img);
        g.setColor(new Color(20, 20, 30));
        g.setFont(new Font(Font.SERIF, Font.BOLD, 40));
        g.drawString("Field notes, chapter 4", 30, 70);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 18));
        String[] lines = {
            "The quick brown fox jumps over the lazy dog. 0123456789",
            "Sphinx of black quartz, judge my vow. !@#$%^&*()",
            "Pack my box with five dozen liquor jugs.",
            "How vexingly quick daft zebras jump!",
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit,",
            "sed do eiusmod tempor incididunt ut labore et dolore magna.",
        };
        for (int i = 0; i < 20; i++) {
            g.drawString(lines[i % lines.length], 30, 120 + i * 23);
        }
        g.dispose();
        return img;
    }

    private static BufferedImage textDense(int w, int h) {
        BufferedImage img = solid(w, h, Color.WHITE);
        Graphics2D g = smooth(img);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 9));
        for (int y = 10, i = 0; y < h; y += 10, i++) {
            g.drawString(Integer.toHexString(i * 2654435761L > 0 ? (int) (i * 2654435761L) : i), 2, y);
        }
        g.dispose();
        return img;
    }

    private static BufferedImage solid(int w, int h, Color c) {
        BufferedImage img = rgb(w, h);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return img;
    }

    private static final Color[] SKIN = {
        new Color(255, 224, 196), new Color(241, 194, 167), new Color(224, 172, 138), new Color(198, 134, 96),
        new Color(161, 102, 68), new Color(111, 68, 45), new Color(236, 188, 180), new Color(210, 150, 120),
    };

    private static BufferedImage skinBlobs(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = solid(w, h, new Color(90, 60, 70));
        Graphics2D g = smooth(img);
        for (int i = 0; i < 25; i++) {
            Color c = SKIN[r.nextInt(SKIN.length)];
            float cx = r.nextFloat() * w;
            float cy = r.nextFloat() * h;
            float rad = 40 + r.nextFloat() * w / 3;
            g.setPaint(new RadialGradientPaint(cx, cy, rad, new float[] {0f, 1f},
                    new Color[] {c.brighter(), new Color(c.getRed() / 2, c.getGreen() / 2, c.getBlue() / 2, 0)}));
            g.fill(new Ellipse2D.Float(cx - rad, cy - rad * 1.4f, rad * 2, rad * 2.8f));
        }
        g.dispose();
        return img;
    }

    /** A stylised standing figure: head, torso, arms, legs as shaded skin-tone ellipses. */
    private static BufferedImage figure(int w, int h, Color skin, Color background) {
        BufferedImage img = solid(w, h, background);
        Graphics2D g = smooth(img);
        float s = Math.min(w, h) / 400f;
        float cx = w / 2f;
        float top = h * 0.08f;
        shadedEllipse(g, skin, cx - 40 * s, top, 80 * s, 100 * s);                       // head
        shadedEllipse(g, skin, cx - 25 * s, top + 90 * s, 50 * s, 40 * s);               // neck
        shadedEllipse(g, skin, cx - 90 * s, top + 120 * s, 180 * s, 230 * s);            // torso
        shadedEllipse(g, skin, cx - 140 * s, top + 130 * s, 55 * s, 200 * s);            // arms
        shadedEllipse(g, skin, cx + 85 * s, top + 130 * s, 55 * s, 200 * s);
        shadedEllipse(g, skin, cx - 80 * s, top + 320 * s, 75 * s, 260 * s);             // legs
        shadedEllipse(g, skin, cx + 5 * s, top + 320 * s, 75 * s, 260 * s);
        g.setColor(new Color(50, 30, 20));
        g.fill(new Ellipse2D.Float(cx - 45 * s, top - 10 * s, 90 * s, 50 * s));          // hair
        g.dispose();
        return img;
    }

    private static void shadedEllipse(Graphics2D g, Color c, float x, float y, float w, float h) {
        g.setPaint(new RadialGradientPaint(x + w * 0.4f, y + h * 0.35f, Math.max(w, h) * 0.7f, new float[] {0f, 1f},
                new Color[] {c.brighter(), c.darker()}));
        g.fill(new Ellipse2D.Float(x, y, w, h));
    }

    private static BufferedImage skinCloseup(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        g.setPaint(new GradientPaint(0, 0, SKIN[1], w, h, SKIN[3]));
        g.fillRect(0, 0, w, h);
        for (int i = 0; i < 6; i++) {
            float cx = r.nextFloat() * w;
            float cy = r.nextFloat() * h;
            float rad = 80 + r.nextFloat() * 200;
            g.setPaint(new RadialGradientPaint(cx, cy, rad, new float[] {0f, 0.7f, 1f},
                    new Color[] {SKIN[0], SKIN[2], new Color(120, 70, 50, 0)}));
            g.fill(new Ellipse2D.Float(cx - rad, cy - rad, rad * 2, rad * 2));
        }
        g.dispose();
        return img;
    }

    private static BufferedImage skinNoise(int w, int h, long seed) {
        Random r = new Random(seed);
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                Color c = SKIN[2];
                int n = (int) Math.round(r.nextGaussian() * 12);
                img.setRGB(x, y, clamp(c.getRed() + n) << 16 | clamp(c.getGreen() + n) << 8 | clamp(c.getBlue() + n));
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    private static BufferedImage beach(int w, int h, long seed) {
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        g.setPaint(new GradientPaint(0, 0, new Color(90, 160, 230), 0, h * 0.45f, new Color(200, 230, 250)));
        g.fillRect(0, 0, w, (int) (h * 0.45));
        g.setPaint(new GradientPaint(0, h * 0.45f, new Color(30, 110, 160), 0, h * 0.6f, new Color(60, 170, 190)));
        g.fillRect(0, (int) (h * 0.45), w, (int) (h * 0.15) + 1);
        g.setPaint(new GradientPaint(0, h * 0.6f, new Color(230, 210, 160), 0, h, new Color(210, 180, 120)));
        g.fillRect(0, (int) (h * 0.6), w, h);
        g.dispose();
        Random r = new Random(seed);
        BufferedImage person = figure(160, 300, SKIN[r.nextInt(4)], new Color(0, 0, 0));
        Graphics2D g2 = img.createGraphics();
        for (int i = 0; i < 3; i++) {
            int px = 80 + i * 240;
            int py = (int) (h * 0.35);
            for (int y = 0; y < person.getHeight(); y++) {
                for (int x = 0; x < person.getWidth(); x++) {
                    int p = person.getRGB(x, y) & 0xFFFFFF;
                    if (p != 0 && px + x < w && py + y < h) {
                        img.setRGB(px + x, py + y, p);
                    }
                }
            }
        }
        g2.dispose();
        return img;
    }

    private static BufferedImage cartoon(int w, int h) {
        BufferedImage img = solid(w, h, new Color(255, 240, 250));
        Graphics2D g = smooth(img);
        g.setStroke(new BasicStroke(5));
        g.setColor(new Color(255, 220, 200));
        g.fillOval(80, 60, 240, 280);
        g.setColor(Color.BLACK);
        g.drawOval(80, 60, 240, 280);
        g.setColor(new Color(120, 60, 200));
        GeneralPath hair = new GeneralPath();
        hair.moveTo(70, 200);
        hair.curveTo(40, 20, 360, 20, 330, 200);
        hair.curveTo(300, 90, 100, 90, 70, 200);
        g.fill(hair);
        g.setColor(Color.BLACK);
        g.draw(hair);
        for (int side = 0; side < 2; side++) {
            int ex = side == 0 ? 130 : 225;
            g.setColor(Color.WHITE);
            g.fillOval(ex, 170, 50, 65);
            g.setColor(new Color(40, 120, 220));
            g.fillOval(ex + 10, 185, 32, 42);
            g.setColor(Color.BLACK);
            g.fillOval(ex + 19, 197, 14, 18);
            g.drawOval(ex, 170, 50, 65);
        }
        g.setColor(new Color(200, 60, 80));
        g.drawArc(165, 260, 70, 35, 200, 140);
        g.dispose();
        return img;
    }

    private static BufferedImage mandelbrot(int w, int h) {
        BufferedImage img = rgb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double cr = -2.2 + 3.0 * x / w;
                double ci = -1.125 + 2.25 * y / h;
                double zr = 0;
                double zi = 0;
                int n = 0;
                while (n < 64 && zr * zr + zi * zi < 4) {
                    double t = zr * zr - zi * zi + cr;
                    zi = 2 * zr * zi + ci;
                    zr = t;
                    n++;
                }
                img.setRGB(x, y, n == 64 ? 0 : Color.HSBtoRGB(n / 64f, 0.8f, 1f) & 0xFFFFFF);
            }
        }
        return img;
    }

    private static BufferedImage banner(int w, int h) {
        BufferedImage img = rgb(w, h);
        Graphics2D g = smooth(img);
        g.setPaint(new GradientPaint(0, 0, new Color(10, 10, 40), w, 0, new Color(120, 20, 90)));
        g.fillRect(0, 0, w, h);
        g.setColor(new Color(255, 230, 120));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 64));
        g.drawString("GRAND OPENING SALE", 60, 88);
        g.dispose();
        return img;
    }

    private static BufferedImage tinted(int w, int h, long seed) {
        BufferedImage img = smoothNoise(w, h, seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = img.getRGB(x, y);
                img.setRGB(x, y, 0xC00000 | ((p >> 16 & 0xFF) / 4) << 16 | ((p >> 8 & 0xFF) / 3) << 8 | (p & 0xFF) / 3);
            }
        }
        return img;
    }

    // ---- other pixel formats ------------------------------------------------------------------

    private static BufferedImage toGray(BufferedImage src) {
        BufferedImage img = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < src.getHeight(); y++) {
            for (int x = 0; x < src.getWidth(); x++) {
                int p = src.getRGB(x, y);
                r.setSample(x, y, 0, ((p >> 16 & 0xFF) * 299 + (p >> 8 & 0xFF) * 587 + (p & 0xFF) * 114 + 500) / 1000);
            }
        }
        return img;
    }

    private static BufferedImage grayAlpha(int w, int h) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster r = cm.createCompatibleWritableRaster(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setSample(x, y, 0, (x * 7 + y * 3) & 0xFF);
                r.setSample(x, y, 1, x * 255 / (w - 1));
            }
        }
        return new BufferedImage(cm, r, false, null);
    }

    private static BufferedImage argb(int w, int h) {
        return new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    }

    private static BufferedImage rgbaGradient(int w, int h) {
        BufferedImage img = argb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int a = y * 255 / (h - 1);
                img.setRGB(x, y, a << 24 | (255 - x * 255 / (w - 1)) << 16 | (x * 200 / (w - 1)) << 8 | 90);
            }
        }
        return img;
    }

    /** Fully transparent pixels that still carry colour: nsfwjs drops alpha, so the colour counts. */
    private static BufferedImage rgbaHidden(int w, int h) {
        BufferedImage src = shapes(w, h, 14);
        BufferedImage img = argb(w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int alpha = x < w / 2 ? 0 : 255;
                img.setRGB(x, y, alpha << 24 | (src.getRGB(x, y) & 0xFFFFFF));
            }
        }
        return img;
    }

    private static BufferedImage rgbaFigure(int w, int h) {
        BufferedImage img = argb(w, h);
        Graphics2D g = smooth(img);
        g.setComposite(AlphaComposite.Src);
        g.setColor(new Color(0, 0, 0, 0));
        g.fillRect(0, 0, w, h);
        g.dispose();
        BufferedImage fig = figure(w, h, SKIN[1], new Color(255, 255, 255));
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = fig.getRGB(x, y) & 0xFFFFFF;
                img.setRGB(x, y, (p == 0xFFFFFF ? 0 : 0xFF000000) | p);
            }
        }
        return img;
    }

    private static BufferedImage toPalette(BufferedImage src) {
        BufferedImage img = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_BYTE_INDEXED);
        Graphics2D g = img.createGraphics();
        g.drawImage(src, 0, 0, null);
        g.dispose();
        return img;
    }

    private static BufferedImage paletteAlpha(int w, int h) {
        byte[] r = new byte[16];
        byte[] gr = new byte[16];
        byte[] b = new byte[16];
        byte[] a = new byte[16];
        for (int i = 0; i < 16; i++) {
            r[i] = (byte) (i * 17);
            gr[i] = (byte) (255 - i * 13);
            b[i] = (byte) (i * 5 + 60);
            a[i] = (byte) (i < 4 ? 0 : i * 16 + 15);
        }
        IndexColorModel cm = new IndexColorModel(4, 16, r, gr, b, a);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_BINARY, cm);
        WritableRaster raster = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.setSample(x, y, 0, ((x / 10) ^ (y / 10)) & 15);
            }
        }
        return img;
    }
}
