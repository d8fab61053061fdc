package dev.qwenimage.safety;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SinglePixelPackedSampleModel;

/**
 * Turns an image into the model's input exactly as nsfwjs does in {@code NSFWJS.infer}: the
 * pixels as integers, {@code / 255} in float32, then {@code tf.image.resizeBilinear(size,
 * alignCorners = true)} unless the image already has the model's size. The resize replicates the
 * arithmetic of tfjs's CPU kernel (tfjs-backend-cpu ResizeBilinear: source position
 * {@code r * (inH - 1) / (outH - 1)}, interpolation in double, result stored as float32).
 *
 * <p>Which pixels: what a Node user of nsfwjs gets from pngjs or jpeg-js followed by the RGBA to
 * RGB copy in nsfwjs's README (and what {@code tf.node.decodeImage(bytes, 3)} gives): 8-bit R, G,
 * B as stored, <b>alpha dropped, not composited</b> (a fully transparent pixel counts with its
 * stored colour), grey replicated into R = G = B, palette entries looked up, samples of other
 * depths scaled to 8 bits as pngjs scales them ({@code floor(v * 255 / max + 0.5)}). Embedded
 * colour profiles are ignored, as those decoders ignore them. Images with premultiplied alpha or
 * unusual layouts go through {@link BufferedImage#getRGB}.
 */
final class ImageInput {
    /** {@code p / 255} as tfjs computes it: in double, stored as float32. */
    private static final float[] UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            UNIT[i] = (float) (i / 255.0);
        }
    }

    private ImageInput() {
    }

    /** Per-thread buffers of {@link #write}, for an output {@code outW} pixels wide. */
    static final class Scratch {
        final int[] xs;
        final double[] colFrac;
        final int[] top;
        final int[] bottom;

        Scratch(int outW) {
            xs = new int[2 * outW];
            colFrac = new double[outW];
            top = new int[2 * outW];
            bottom = new int[2 * outW];
        }
    }

    /**
     * Writes the model input for {@code image} into {@code rows}: {@code outH * outW} rows of at
     * least 3 floats (R, G, B), row-major.
     */
    static void write(BufferedImage image, int outH, int outW, float[][] rows, Scratch scratch) {
        Pixels px = Pixels.of(image);
        int inH = image.getHeight();
        int inW = image.getWidth();
        int[] xs = scratch.xs;
        double[] colFrac = scratch.colFrac;
        double colRatio = ratio(inW, outW);
        for (int c = 0; c < outW; c++) {
            double src = colRatio * c;
            int floor = Math.max(0, (int) Math.floor(src));
            xs[2 * c] = floor;
            xs[2 * c + 1] = Math.min(inW - 1, (int) Math.ceil(src));
            colFrac[c] = src - floor;
        }
        boolean same = inH == outH && inW == outW; // nsfwjs skips the resize (the result would be the same)
        int[] top = scratch.top;
        int[] bottom = scratch.bottom;
        double rowRatio = ratio(inH, outH);
        for (int r = 0; r < outH; r++) {
            double src = rowRatio * r;
            int y0 = Math.max(0, (int) Math.floor(src));
            int y1 = Math.min(inH - 1, (int) Math.ceil(src));
            double rowFrac = src - y0;
            px.gather(y0, xs, 2 * outW, top);
            if (y1 != y0) {
                px.gather(y1, xs, 2 * outW, bottom);
            } else {
                System.arraycopy(top, 0, bottom, 0, 2 * outW);
            }
            for (int c = 0; c < outW; c++) {
                float[] out = rows[r * outW + c];
                int tl = top[2 * c];
                int tr = top[2 * c + 1];
                int bl = bottom[2 * c];
                int br = bottom[2 * c + 1];
                if (same) {
                    out[0] = UNIT[tl >>> 16 & 0xFF];
                    out[1] = UNIT[tl >>> 8 & 0xFF];
                    out[2] = UNIT[tl & 0xFF];
                } else {
                    double fx = colFrac[c];
                    for (int ch = 0, shift = 16; ch < 3; ch++, shift -= 8) {
                        double vtl = UNIT[tl >>> shift & 0xFF];
                        double vtr = UNIT[tr >>> shift & 0xFF];
                        double vbl = UNIT[bl >>> shift & 0xFF];
                        double vbr = UNIT[br >>> shift & 0xFF];
                        double t = vtl + (vtr - vtl) * fx;
                        double b = vbl + (vbr - vbl) * fx;
                        out[ch] = (float) (t + (b - t) * rowFrac);
                    }
                }
            }
        }
    }

    /** tfjs's effectiveInputSize / effectiveOutputSize with alignCorners. */
    private static double ratio(int in, int out) {
        return out > 1 ? (double) (in - 1) / (out - 1) : (double) in / out;
    }

    /** The image's pixels as 0xRRGGBB, read as described on {@link ImageInput}. */
    abstract static class Pixels {
        /** {@code out[i] = pixel (xs[i], y)} for i in [0, n). */
        abstract void gather(int y, int[] xs, int n, int[] out);

        static Pixels of(BufferedImage image) {
            ColorModel cm = image.getColorModel();
            Raster raster = image.getRaster();
            if (cm instanceof IndexColorModel icm) {
                return new Indexed(raster, icm);
            }
            if (cm.isAlphaPremultiplied()) {
                return new ViaGetRgb(image);
            }
            int type = cm.getColorSpace().getType();
            boolean rgb = type == ColorSpace.TYPE_RGB && cm.getNumColorComponents() == 3;
            boolean grey = type == ColorSpace.TYPE_GRAY && cm.getNumColorComponents() == 1;
            if (cm instanceof DirectColorModel dcm && rgb && raster.getDataBuffer() instanceof DataBufferInt ints
                    && raster.getSampleModel() instanceof SinglePixelPackedSampleModel sm
                    && dcm.getComponentSize(0) == 8 && dcm.getComponentSize(1) == 8 && dcm.getComponentSize(2) == 8) {
                return new PackedInt(raster, ints, sm);
            }
            if (cm instanceof ComponentColorModel && (rgb || grey)) {
                int bits = cm.getComponentSize(0);
                boolean all8 = true;
                for (int i = 0; i < cm.getNumColorComponents(); i++) {
                    all8 &= cm.getComponentSize(i) == 8;
                }
                if (all8 && raster.getDataBuffer() instanceof DataBufferByte bytes
                        && raster.getSampleModel() instanceof ComponentSampleModel sm && sameBank(sm, cm.getNumColorComponents())) {
                    return new InterleavedByte(raster, bytes, sm, grey);
                }
                if (bits <= 16 && raster.getTransferType() != DataBuffer.TYPE_FLOAT
                        && raster.getTransferType() != DataBuffer.TYPE_DOUBLE) {
                    return new Samples(raster, cm, grey);
                }
            }
            return new ViaGetRgb(image);
        }

        private static boolean sameBank(ComponentSampleModel sm, int bands) {
            int[] banks = sm.getBankIndices();
            for (int b = 1; b < bands; b++) {
                if (banks[b] != banks[0]) {
                    return false;
                }
            }
            return true;
        }
    }

    /** TYPE_INT_RGB, TYPE_INT_ARGB, TYPE_INT_BGR and the like: one int per pixel, 8-bit masks. */
    private static final class PackedInt extends Pixels {
        private final int[] data;
        private final int base;
        private final int stride;
        private final int tx;
        private final int[] masks;
        private final int[] shifts;

        PackedInt(Raster raster, DataBufferInt buffer, SinglePixelPackedSampleModel sm) {
            data = buffer.getData();
            stride = sm.getScanlineStride();
            tx = -raster.getSampleModelTranslateX();
            base = buffer.getOffset() - raster.getSampleModelTranslateY() * stride;
            masks = sm.getBitMasks();
            shifts = sm.getBitOffsets();
        }

        @Override
        void gather(int y, int[] xs, int n, int[] out) {
            int row = base + y * stride + tx;
            int rm = masks[0];
            int gm = masks[1];
            int bm = masks[2];
            int rs = shifts[0];
            int gs = shifts[1];
            int bs = shifts[2];
            for (int i = 0; i < n; i++) {
                int v = data[row + xs[i]];
                out[i] = ((v & rm) >>> rs) << 16 | ((v & gm) >>> gs) << 8 | (v & bm) >>> bs;
            }
        }
    }

    /** TYPE_3BYTE_BGR, TYPE_4BYTE_ABGR, TYPE_BYTE_GRAY, and ImageIO's interleaved RGB(A) and grey(+alpha). */
    private static final class InterleavedByte extends Pixels {
        private final byte[] data;
        private final int base;
        private final int stride;
        private final int pixelStride;
        private final int r;
        private final int g;
        private final int b;

        InterleavedByte(Raster raster, DataBufferByte buffer, ComponentSampleModel sm, boolean grey) {
            int bank = sm.getBankIndices()[0];
            data = buffer.getData(bank);
            stride = sm.getScanlineStride();
            pixelStride = sm.getPixelStride();
            base = buffer.getOffsets()[bank] - raster.getSampleModelTranslateY() * stride
                    - raster.getSampleModelTranslateX() * pixelStride;
            int[] offsets = sm.getBandOffsets();
            r = offsets[0];
            g = grey ? offsets[0] : offsets[1];
            b = grey ? offsets[0] : offsets[2];
        }

        @Override
        void gather(int y, int[] xs, int n, int[] out) {
            int row = base + y * stride;
            for (int i = 0; i < n; i++) {
                int p = row + xs[i] * pixelStride;
                out[i] = (data[p + r] & 0xFF) << 16 | (data[p + g] & 0xFF) << 8 | data[p + b] & 0xFF;
            }
        }
    }

    /** Palette images: the entry's colour, its alpha dropped. */
    private static final class Indexed extends Pixels {
        private final Raster raster;
        private final int[] palette;

        Indexed(Raster raster, IndexColorModel cm) {
            this.raster = raster;
            palette = new int[cm.getMapSize()];
            for (int i = 0; i < palette.length; i++) {
                palette[i] = cm.getRed(i) << 16 | cm.getGreen(i) << 8 | cm.getBlue(i);
            }
        }

        @Override
        void gather(int y, int[] xs, int n, int[] out) {
            for (int i = 0; i < n; i++) {
                out[i] = palette[raster.getSample(xs[i], y, 0)];
            }
        }
    }

    /** Other component layouts (16-bit samples, separate banks): raw samples scaled to 8 bits as pngjs scales them. */
    private static final class Samples extends Pixels {
        private final Raster raster;
        private final boolean grey;
        private final double[] max;
        private final int[] pixel;

        Samples(Raster raster, ColorModel cm, boolean grey) {
            this.raster = raster;
            this.grey = grey;
            max = new double[3];
            for (int i = 0; i < 3; i++) {
                max[i] = (1 << cm.getComponentSize(grey ? 0 : i)) - 1;
            }
            pixel = new int[raster.getNumBands()];
        }

        @Override
        void gather(int y, int[] xs, int n, int[] out) {
            for (int i = 0; i < n; i++) {
                raster.getPixel(xs[i], y, pixel);
                int r = to8(pixel[0], max[0]);
                out[i] = grey ? r * 0x010101 : r << 16 | to8(pixel[1], max[1]) << 8 | to8(pixel[2], max[2]);
            }
        }

        private static int to8(int v, double max) {
            return max == 255 ? v : (int) Math.floor(v * 255.0 / max + 0.5);
        }
    }

    /** Anything else: Java's own conversion to non-premultiplied sRGB. */
    private static final class ViaGetRgb extends Pixels {
        private final BufferedImage image;

        ViaGetRgb(BufferedImage image) {
            this.image = image;
        }

        @Override
        void gather(int y, int[] xs, int n, int[] out) {
            for (int i = 0; i < n; i++) {
                out[i] = image.getRGB(xs[i], y) & 0xFFFFFF;
            }
        }
    }
}
