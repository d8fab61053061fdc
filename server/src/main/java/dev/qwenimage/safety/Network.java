package dev.qwenimage.safety;

import java.util.List;

/**
 * A compiled network: the model's layers turned into a short list of fused operations over
 * buffer slots ({@link NetworkCompiler} builds it). Immutable and shared by all threads; the
 * activations of one run live in a {@link Workspace}.
 */
final class Network {
    /** Shape of an activation: {@code h} rows by {@code w} columns of {@code c} channels; a vector is 1 x 1 x c. */
    record Shape(int h, int w, int c) {
        int pixels() {
            return h * w;
        }

        @Override
        public String toString() {
            return h + "x" + w + "x" + c;
        }
    }

    /** One fused operation; {@code name} lists the layers it implements. */
    sealed interface Op {
        String name();

        /** Multiply-adds per run, for profiling. */
        long macs();

        void run(Workspace ws);
    }

    final Shape input;
    final int outputSize;
    final List<Op> ops;
    final int inputSlot;
    final int outputSlot;
    /** Per slot: how many pixel rows, and how many floats a row holds. */
    final int[] slotPixels;
    final int[] slotWidth;
    /** Scratch sizes: the largest reduction length, and the largest im2col patch. */
    final int maxReduction;
    final int maxColumnK;
    final int maxColumnN;

    /** Pixels per block in the column products (see {@link #columnBlock}). */
    static final int COLUMN_BLOCK = 128;

    Network(Shape input, int outputSize, List<Op> ops, int inputSlot, int outputSlot, int[] slotPixels, int[] slotWidth,
            int maxReduction, int maxColumnK, int maxColumnN) {
        this.input = input;
        this.outputSize = outputSize;
        this.ops = List.copyOf(ops);
        this.inputSlot = inputSlot;
        this.outputSlot = outputSlot;
        this.slotPixels = slotPixels.clone();
        this.slotWidth = slotWidth.clone();
        this.maxReduction = maxReduction;
        this.maxColumnK = maxColumnK;
        this.maxColumnN = maxColumnN;
    }

    /** Runs every operation on the input already written into {@code ws}'s input slot; returns the output row. */
    float[] run(Workspace ws) {
        for (Op op : ops) {
            op.run(ws);
        }
        return ws.slots[outputSlot][0];
    }

    /** Buffers for one run at a time: one array per pixel row of each slot, and kernel scratch. */
    static final class Workspace {
        final float[][][] slots;
        final int[] idx;
        final float[] val;
        final float[] patch;
        final ImageInput.Scratch resize;
        /** Column scratch: input channels by a block of pixels, output channels by a block of pixels. */
        final float[][] at;
        final float[][] ot;

        Workspace(Network net) {
            slots = new float[net.slotPixels.length][][];
            for (int s = 0; s < slots.length; s++) {
                slots[s] = new float[net.slotPixels[s]][net.slotWidth[s]];
            }
            idx = new int[net.maxReduction];
            val = new float[net.maxReduction];
            patch = new float[net.maxReduction];
            resize = new ImageInput.Scratch(net.input.w());
            at = new float[net.maxColumnK][COLUMN_BLOCK];
            ot = new float[net.maxColumnN][COLUMN_BLOCK];
        }

        float[][] input(Network net) {
            return slots[net.inputSlot];
        }
    }

    /** What follows the sum in a convolution: optional residual input (a fused Add), then clamping (ReLU, ReLU6). */
    record Epilogue(int residualSlot, float lo, float hi) {
        static final Epilogue NONE = new Epilogue(-1, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);

        boolean clamps() {
            return lo != Float.NEGATIVE_INFINITY || hi != Float.POSITIVE_INFINITY;
        }

        Epilogue withResidual(int slot) {
            return new Epilogue(slot, lo, hi);
        }

        Epilogue withClamp(float newLo, float newHi) {
            return new Epilogue(residualSlot, Math.max(lo, newLo), Math.min(hi, newHi));
        }
    }

    /**
     * 1x1 convolution with stride 1, and Dense (a 1x1 convolution of a 1x1 input): the pixel rows
     * times {@code w} ({@code K} rows of {@code N} output channels). Three ways, chosen when the
     * network is compiled:
     * <ul>
     *   <li>few output channels ({@code wt != null}): by columns, see {@link #columnBlock};</li>
     *   <li>input from a ReLU ({@code sparseInput}): by rows, skipping the zero inputs;</li>
     *   <li>otherwise by rows, with the bias and the clamp fused into the first and last passes.</li>
     * </ul>
     * Products larger than a cache tile run tile by tile ({@code kBlock} x {@code nBlock} of
     * {@code w}), every pixel passing over a tile while it stays in the level-1 cache.
     */
    record Pointwise(String name, int inSlot, int outSlot, int pixels, int k, int n, float[][] w, float[] bias,
            Epilogue epilogue, boolean softmax, boolean sparseInput, int kBlock, int nBlock, float[][] wt) implements Op {
        @Override
        public long macs() {
            return (long) pixels * k * n;
        }

        @Override
        public void run(Workspace ws) {
            float[][] in = ws.slots[inSlot];
            float[][] out = ws.slots[outSlot];
            float[][] res = epilogue.residualSlot() >= 0 ? ws.slots[epilogue.residualSlot()] : null;
            if (wt != null) {
                byColumns(ws, in, out, res);
            } else if (!sparseInput && kBlock >= k && res == null) {
                byRowsFused(in, out);
            } else {
                byRowTiles(ws, in, out, res);
            }
            if (softmax) {
                for (int p = 0; p < pixels; p++) {
                    Kernels.softmax(out[p], n);
                }
            }
        }

        private void byColumns(Workspace ws, float[][] in, float[][] out, float[][] res) {
            float[][] at = ws.at;
            for (int p0 = 0; p0 < pixels; p0 += COLUMN_BLOCK) {
                int pb = Math.min(COLUMN_BLOCK, pixels - p0);
                for (int i = 0; i < pb; i++) {
                    float[] a = in[p0 + i];
                    for (int c = 0; c < k; c++) {
                        at[c][i] = a[c];
                    }
                }
                columnBlock(at, k, n, wt, bias, epilogue, res, out, p0, pb, ws.ot, kBlock);
            }
        }

        private void byRowsFused(float[][] in, float[][] out) {
            for (int n0 = 0; n0 < n; n0 += nBlock) {
                int n1 = Math.min(n, n0 + nBlock);
                for (int p = 0; p < pixels; p++) {
                    Kernels.dotRowsFused(in[p], k, w, bias, out[p], n0, n1, epilogue.lo(), epilogue.hi());
                }
            }
        }

        private void byRowTiles(Workspace ws, float[][] in, float[][] out, float[][] res) {
            boolean clamps = epilogue.clamps();
            for (int n0 = 0; n0 < n; n0 += nBlock) {
                int n1 = Math.min(n, n0 + nBlock);
                for (int k0 = 0; k0 < k; k0 += kBlock) {
                    int k1 = Math.min(k, k0 + kBlock);
                    for (int p = 0; p < pixels; p++) {
                        float[] acc = out[p];
                        if (k0 == 0) {
                            Kernels.set(acc, bias, n0, n1);
                            if (res != null) {
                                Kernels.add(acc, res[p], n0, n1);
                            }
                        }
                        if (sparseInput) {
                            Kernels.dotRows(in[p], k0, k1, w, acc, n0, n1, ws.idx, ws.val);
                        } else {
                            Kernels.dotRowsDense(in[p], k0, k1, w, acc, n0, n1);
                        }
                        if (k1 == k && clamps) {
                            Kernels.clamp(acc, epilogue.lo(), epilogue.hi(), n0, n1);
                        }
                    }
                }
            }
        }
    }

    /**
     * Any other convolution (here the first 3x3 one, stride 2): the receptive fields (zeros outside
     * the image) times {@code w}, one row per (ky, kx, input channel). With few output channels
     * ({@code wt != null}) by columns over blocks of pixels ({@link #columnBlock}), else pixel by
     * pixel through a patch.
     */
    record Conv(String name, int inSlot, int outSlot, Shape in, Shape out, int kh, int kw, int sh, int sw, int padTop,
            int padLeft, float[][] w, float[] bias, Epilogue epilogue, float[][] wt) implements Op {
        @Override
        public long macs() {
            return (long) out.pixels() * kh * kw * in.c() * out.c();
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[][] dst = ws.slots[outSlot];
            float[][] res = epilogue.residualSlot() >= 0 ? ws.slots[epilogue.residualSlot()] : null;
            float[] patch = ws.patch;
            int cin = in.c();
            int k = kh * kw * cin;
            int n = out.c();
            if (wt != null) {
                float[][] at = ws.at;
                int pixels = out.pixels();
                for (int p0 = 0; p0 < pixels; p0 += COLUMN_BLOCK) {
                    int pb = Math.min(COLUMN_BLOCK, pixels - p0);
                    // im2col, transposed: row (ky, kx, c) of at holds that input sample for each pixel of the block,
                    // filled along runs of pixels in the same output row
                    for (int i = 0; i < pb; ) {
                        int oy = (p0 + i) / out.w();
                        int ox0 = p0 + i - oy * out.w();
                        int len = Math.min(out.w() - ox0, pb - i);
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * sh + ky - padTop;
                            boolean rowInside = iy >= 0 && iy < in.h();
                            int rowBase = iy * in.w();
                            for (int kx = 0; kx < kw; kx++) {
                                for (int c = 0; c < cin; c++) {
                                    float[] to = at[(ky * kw + kx) * cin + c];
                                    if (!rowInside) {
                                        java.util.Arrays.fill(to, i, i + len, 0f);
                                        continue;
                                    }
                                    for (int j = 0, ix = ox0 * sw + kx - padLeft; j < len; j++, ix += sw) {
                                        to[i + j] = ix >= 0 && ix < in.w() ? src[rowBase + ix][c] : 0f;
                                    }
                                }
                            }
                        }
                        i += len;
                    }
                    columnBlock(at, k, n, wt, bias, epilogue, res, dst, p0, pb, ws.ot, k);
                }
                return;
            }
            for (int oy = 0; oy < out.h(); oy++) {
                for (int ox = 0; ox < out.w(); ox++) {
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * sh + ky - padTop;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * sw + kx - padLeft;
                            int at = (ky * kw + kx) * cin;
                            if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) {
                                java.util.Arrays.fill(patch, at, at + cin, 0f);
                            } else {
                                System.arraycopy(src[iy * in.w() + ix], 0, patch, at, cin);
                            }
                        }
                    }
                    float[] acc = dst[oy * out.w() + ox];
                    Kernels.set(acc, bias, 0, n);
                    if (res != null) {
                        Kernels.add(acc, res[oy * out.w() + ox], 0, n);
                    }
                    Kernels.dotRows(patch, 0, k, w, acc, 0, n, ws.idx, ws.val);
                    if (epilogue.clamps()) {
                        Kernels.clamp(acc, epilogue.lo(), epilogue.hi(), 0, n);
                    }
                }
            }
        }
    }

    /**
     * The output rows {@code [p0, p0 + pb)} of a product whose input block is already transposed
     * into {@code at} (input channel by pixel): each output channel is computed for all the block's
     * pixels at once ({@code wt} is the transposed weight matrix), then written back pixel by pixel.
     * For outputs with few channels, whose rows are too short to keep the vector units busy.
     */
    static void columnBlock(float[][] at, int k, int n, float[][] wt, float[] bias, Epilogue epilogue, float[][] res,
            float[][] out, int p0, int pb, float[][] ot, int kTile) {
        for (int c = 0; c < n; c++) {
            float[] o = ot[c];
            java.util.Arrays.fill(o, 0, pb, bias[c]);
            if (res != null) {
                for (int i = 0; i < pb; i++) {
                    o[i] += res[p0 + i][c];
                }
            }
        }
        for (int k0 = 0; k0 < k; k0 += kTile) {
            int k1 = Math.min(k, k0 + kTile);
            for (int c = 0; c < n; c++) {
                Kernels.dotColumns(at, k0, k1, wt[c], ot[c], pb);
            }
        }
        if (epilogue.clamps()) {
            for (int c = 0; c < n; c++) {
                Kernels.clamp(ot[c], epilogue.lo(), epilogue.hi(), 0, pb);
            }
        }
        for (int i = 0; i < pb; i++) {
            float[] d = out[p0 + i];
            for (int c = 0; c < n; c++) {
                d[c] = ot[c][i];
            }
        }
    }

    /** Depthwise convolution (depth multiplier 1): {@code taps} holds one row of channel weights per (ky, kx). */
    record Depthwise(String name, int inSlot, int outSlot, Shape in, Shape out, int kh, int kw, int sh, int sw, int padTop,
            int padLeft, float[][] taps, float[] bias, Epilogue epilogue) implements Op {
        @Override
        public long macs() {
            return (long) out.pixels() * kh * kw * out.c();
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[][] dst = ws.slots[outSlot];
            float[][] res = epilogue.residualSlot() >= 0 ? ws.slots[epilogue.residualSlot()] : null;
            int c = out.c();
            int w = in.w();
            boolean threeByThree = kh == 3 && kw == 3 && res == null;
            for (int oy = 0; oy < out.h(); oy++) {
                int iy0 = oy * sh - padTop;
                boolean rowsInside = iy0 >= 0 && iy0 + 2 < in.h();
                for (int ox = 0; ox < out.w(); ox++) {
                    float[] acc = dst[oy * out.w() + ox];
                    int ix0 = ox * sw - padLeft;
                    if (threeByThree && rowsInside && ix0 >= 0 && ix0 + 2 < w) { // whole window inside: three passes, init and clamp fused
                        int r0 = iy0 * w + ix0;
                        int r1 = r0 + w;
                        int r2 = r1 + w;
                        Kernels.taps3First(acc, bias, taps[0], src[r0], taps[1], src[r0 + 1], taps[2], src[r0 + 2], c);
                        Kernels.taps3(acc, taps[3], src[r1], taps[4], src[r1 + 1], taps[5], src[r1 + 2], c);
                        Kernels.taps3Last(acc, taps[6], src[r2], taps[7], src[r2 + 1], taps[8], src[r2 + 2], epilogue.lo(),
                                epilogue.hi(), c);
                        continue;
                    }
                    Kernels.set(acc, bias, 0, c);
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * sh + ky - padTop;
                        if (iy < 0 || iy >= in.h()) {
                            continue;
                        }
                        int row = iy * w;
                        int t = ky * kw;
                        if (kw == 3 && ix0 >= 0 && ix0 + 2 < w) {
                            Kernels.taps3(acc, taps[t], src[row + ix0], taps[t + 1], src[row + ix0 + 1], taps[t + 2],
                                    src[row + ix0 + 2], c);
                        } else {
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ix0 + kx;
                                if (ix >= 0 && ix < w) {
                                    Kernels.taps1(acc, taps[t + kx], src[row + ix], c);
                                }
                            }
                        }
                    }
                    if (res != null) {
                        Kernels.add(acc, res[oy * out.w() + ox], 0, c);
                    }
                    if (epilogue.clamps()) {
                        Kernels.clamp(acc, epilogue.lo(), epilogue.hi(), 0, c);
                    }
                }
            }
        }
    }

    /** BatchNormalization or ReLU that could not be folded into a convolution: {@code x * scale + shift}, then the epilogue. */
    record ChannelAffine(String name, int inSlot, int outSlot, int pixels, int c, float[] scale, float[] shift,
            Epilogue epilogue) implements Op {
        @Override
        public long macs() {
            return (long) pixels * c;
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[][] dst = ws.slots[outSlot];
            float[][] res = epilogue.residualSlot() >= 0 ? ws.slots[epilogue.residualSlot()] : null;
            for (int p = 0; p < pixels; p++) {
                float[] x = src[p];
                float[] y = dst[p];
                for (int i = 0; i < c; i++) {
                    y[i] = x[i] * scale[i] + shift[i];
                }
                if (res != null) {
                    Kernels.add(y, res[p], 0, c);
                }
                if (epilogue.clamps()) {
                    Kernels.clamp(y, epilogue.lo(), epilogue.hi(), 0, c);
                }
            }
        }
    }

    /** Element-wise sum of several inputs (an Add not fused into a convolution), then clamping. */
    record Sum(String name, int[] inSlots, int outSlot, int pixels, int c, float lo, float hi) implements Op {
        @Override
        public long macs() {
            return (long) pixels * c * (inSlots.length - 1);
        }

        @Override
        public void run(Workspace ws) {
            float[][] dst = ws.slots[outSlot];
            for (int p = 0; p < pixels; p++) {
                float[] y = dst[p];
                System.arraycopy(ws.slots[inSlots[0]][p], 0, y, 0, c);
                for (int i = 1; i < inSlots.length; i++) {
                    Kernels.add(y, ws.slots[inSlots[i]][p], 0, c);
                }
                Kernels.clamp(y, lo, hi, 0, c);
            }
        }
    }

    /** ZeroPadding2D that could not be folded into the next convolution. */
    record Pad(String name, int inSlot, int outSlot, Shape in, Shape out, int top, int left) implements Op {
        @Override
        public long macs() {
            return 0;
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[][] dst = ws.slots[outSlot];
            for (int y = 0; y < out.h(); y++) {
                for (int x = 0; x < out.w(); x++) {
                    float[] d = dst[y * out.w() + x];
                    int iy = y - top;
                    int ix = x - left;
                    if (iy < 0 || iy >= in.h() || ix < 0 || ix >= in.w()) {
                        java.util.Arrays.fill(d, 0, out.c(), 0f);
                    } else {
                        System.arraycopy(src[iy * in.w() + ix], 0, d, 0, out.c());
                    }
                }
            }
        }
    }

    /** AveragePooling2D: the mean over the window's pixels inside the input (TF's "same" excludes the padding). */
    record AvgPool(String name, int inSlot, int outSlot, Shape in, Shape out, int ph, int pw, int sh, int sw, int padTop,
            int padLeft) implements Op {
        @Override
        public long macs() {
            return (long) out.pixels() * ph * pw * out.c();
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[][] dst = ws.slots[outSlot];
            int c = out.c();
            for (int oy = 0; oy < out.h(); oy++) {
                for (int ox = 0; ox < out.w(); ox++) {
                    float[] acc = dst[oy * out.w() + ox];
                    java.util.Arrays.fill(acc, 0, c, 0f);
                    int count = 0;
                    for (int ky = 0; ky < ph; ky++) {
                        int iy = oy * sh + ky - padTop;
                        for (int kx = 0; kx < pw; kx++) {
                            int ix = ox * sw + kx - padLeft;
                            if (iy >= 0 && iy < in.h() && ix >= 0 && ix < in.w()) {
                                Kernels.add(acc, src[iy * in.w() + ix], 0, c);
                                count++;
                            }
                        }
                    }
                    float inv = count;
                    for (int i = 0; i < c; i++) {
                        acc[i] = acc[i] / inv;
                    }
                }
            }
        }
    }

    /** Flatten of an input with more than one pixel: the rows laid end to end (channels-last order). */
    record Flatten(String name, int inSlot, int outSlot, int pixels, int c) implements Op {
        @Override
        public long macs() {
            return 0;
        }

        @Override
        public void run(Workspace ws) {
            float[][] src = ws.slots[inSlot];
            float[] dst = ws.slots[outSlot][0];
            for (int p = 0; p < pixels; p++) {
                System.arraycopy(src[p], 0, dst, p * c, c);
            }
        }
    }
}
