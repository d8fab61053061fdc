package dev.qwenimage.safety;

/**
 * The arithmetic of the network, on activations stored as one float array per pixel (NHWC with
 * the channels of a pixel in their own array).
 *
 * <p>Why arrays per pixel: HotSpot's C2 compiler turns a loop into SIMD code only when it can
 * prove that its stores do not overlap its loads, and (up to JDK 25 at least) it proves that only
 * when every array in the loop is indexed by the same expression. Each hot loop here therefore
 * runs over the channel index {@code n} from the same base in every array it touches:
 * {@code acc[n] += a0 * w0[n] + a1 * w1[n] + ...}, with weights stored as one array per input
 * channel (or per kernel tap). Written over one flat tensor, the same loops would stay scalar.
 *
 * <p>The hot loops accumulate four products per pass over the output row, so each load and store
 * of the accumulator serves four multiply-adds, and they skip input channels that are zero (the
 * inputs of the projecting 1x1 convolutions come from ReLU6 and are often zero): a skipped term
 * would have added exactly 0.
 */
final class Kernels {
    private Kernels() {
    }

    /**
     * {@code acc[n0..n1) += sum over k of a[k] * w[k][n0..n1)}, for the k in {@code [k0, k1)} whose
     * {@code a[k]} is not zero. {@code idx} and {@code val} are scratch of length >= k1 - k0.
     */
    static void dotRows(float[] a, int k0, int k1, float[][] w, float[] acc, int n0, int n1, int[] idx, float[] val) {
        int m = 0;
        for (int k = k0; k < k1; k++) {
            float v = a[k];
            if (v != 0f) {
                idx[m] = k;
                val[m++] = v;
            }
        }
        int j = 0;
        for (; j + 3 < m; j += 4) {
            float a0 = val[j];
            float a1 = val[j + 1];
            float a2 = val[j + 2];
            float a3 = val[j + 3];
            float[] w0 = w[idx[j]];
            float[] w1 = w[idx[j + 1]];
            float[] w2 = w[idx[j + 2]];
            float[] w3 = w[idx[j + 3]];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n];
            }
        }
        for (; j < m; j++) {
            float a0 = val[j];
            float[] w0 = w[idx[j]];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n];
            }
        }
    }

    /**
     * {@code acc[n0..n1) = clamp(init[n0..n1) + sum over k in [0, kEnd) of a[k] * w[k][n0..n1))},
     * every term computed, with the first four terms added to {@code init} and the clamp applied in
     * the same passes as the last terms: for short reductions the passes over {@code acc} cost as
     * much as the arithmetic.
     */
    static void dotRowsFused(float[] a, int kEnd, float[][] w, float[] init, float[] acc, int n0, int n1, float lo, float hi) {
        int k = 0;
        if (kEnd >= 8) {
            float a0 = a[0];
            float a1 = a[1];
            float a2 = a[2];
            float a3 = a[3];
            float[] w0 = w[0];
            float[] w1 = w[1];
            float[] w2 = w[2];
            float[] w3 = w[3];
            for (int n = n0; n < n1; n++) {
                acc[n] = init[n] + a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n];
            }
            k = 4;
        } else {
            System.arraycopy(init, n0, acc, n0, n1 - n0);
        }
        int last = kEnd - 4;
        for (; k < last; k += 4) {
            float a0 = a[k];
            float a1 = a[k + 1];
            float a2 = a[k + 2];
            float a3 = a[k + 3];
            float[] w0 = w[k];
            float[] w1 = w[k + 1];
            float[] w2 = w[k + 2];
            float[] w3 = w[k + 3];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n];
            }
        }
        for (; k < kEnd - 4; k++) {
            float a0 = a[k];
            float[] w0 = w[k];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n];
            }
        }
        if (kEnd - k == 4) {
            float a0 = a[k];
            float a1 = a[k + 1];
            float a2 = a[k + 2];
            float a3 = a[k + 3];
            float[] w0 = w[k];
            float[] w1 = w[k + 1];
            float[] w2 = w[k + 2];
            float[] w3 = w[k + 3];
            for (int n = n0; n < n1; n++) {
                acc[n] = Math.min(Math.max(acc[n] + a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n], lo), hi);
            }
        } else {
            for (; k < kEnd; k++) {
                float a0 = a[k];
                float[] w0 = w[k];
                for (int n = n0; n < n1; n++) {
                    acc[n] += a0 * w0[n];
                }
            }
            clamp(acc, lo, hi, n0, n1);
        }
    }

    /** {@code acc[n0..n1) += sum over k in [k0, k1) of a[k] * w[k][n0..n1)}, every term computed. */
    static void dotRowsDense(float[] a, int k0, int k1, float[][] w, float[] acc, int n0, int n1) {
        int k = k0;
        for (; k + 3 < k1; k += 4) {
            float a0 = a[k];
            float a1 = a[k + 1];
            float a2 = a[k + 2];
            float a3 = a[k + 3];
            float[] w0 = w[k];
            float[] w1 = w[k + 1];
            float[] w2 = w[k + 2];
            float[] w3 = w[k + 3];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n];
            }
        }
        for (; k < k1; k++) {
            float a0 = a[k];
            float[] w0 = w[k];
            for (int n = n0; n < n1; n++) {
                acc[n] += a0 * w0[n];
            }
        }
    }

    /**
     * One output channel for a block of pixels: {@code out[0..pb) += sum over k in [k0, k1) of
     * wt[k] * at[k][0..pb)}, where {@code at[k]} holds input channel k of the block's pixels.
     */
    static void dotColumns(float[][] at, int k0, int k1, float[] wt, float[] out, int pb) {
        int k = k0;
        for (; k + 3 < k1; k += 4) {
            float w0 = wt[k];
            float w1 = wt[k + 1];
            float w2 = wt[k + 2];
            float w3 = wt[k + 3];
            float[] x0 = at[k];
            float[] x1 = at[k + 1];
            float[] x2 = at[k + 2];
            float[] x3 = at[k + 3];
            for (int i = 0; i < pb; i++) {
                out[i] += w0 * x0[i] + w1 * x1[i] + w2 * x2[i] + w3 * x3[i];
            }
        }
        for (; k < k1; k++) {
            float w0 = wt[k];
            float[] x0 = at[k];
            for (int i = 0; i < pb; i++) {
                out[i] += w0 * x0[i];
            }
        }
    }

    /** {@code acc[n0..n1) = bias[n0..n1)}. */
    static void set(float[] acc, float[] bias, int n0, int n1) {
        System.arraycopy(bias, n0, acc, n0, n1 - n0);
    }

    /** {@code acc[n0..n1) += r[n0..n1)}. */
    static void add(float[] acc, float[] r, int n0, int n1) {
        for (int n = n0; n < n1; n++) {
            acc[n] += r[n];
        }
    }

    /** {@code acc[n0..n1) = min(max(acc, lo), hi)}. */
    static void clamp(float[] acc, float lo, float hi, int n0, int n1) {
        for (int n = n0; n < n1; n++) {
            acc[n] = Math.min(Math.max(acc[n], lo), hi);
        }
    }

    /** {@code acc[0..n) = bias + w0 * x0 + w1 * x1 + w2 * x2}: the first row of a 3x3 depthwise window. */
    static void taps3First(float[] acc, float[] bias, float[] w0, float[] x0, float[] w1, float[] x1, float[] w2, float[] x2,
            int n) {
        for (int c = 0; c < n; c++) {
            acc[c] = bias[c] + w0[c] * x0[c] + w1[c] * x1[c] + w2[c] * x2[c];
        }
    }

    /** {@code acc[0..n) = clamp(acc + w0 * x0 + w1 * x1 + w2 * x2)}: the last row of a 3x3 depthwise window. */
    static void taps3Last(float[] acc, float[] w0, float[] x0, float[] w1, float[] x1, float[] w2, float[] x2, float lo,
            float hi, int n) {
        for (int c = 0; c < n; c++) {
            acc[c] = Math.min(Math.max(acc[c] + w0[c] * x0[c] + w1[c] * x1[c] + w2[c] * x2[c], lo), hi);
        }
    }

    /** {@code acc[0..n) += w0 * x0 + w1 * x1 + w2 * x2}, element-wise (three taps of a depthwise kernel). */
    static void taps3(float[] acc, float[] w0, float[] x0, float[] w1, float[] x1, float[] w2, float[] x2, int n) {
        for (int c = 0; c < n; c++) {
            acc[c] += w0[c] * x0[c] + w1[c] * x1[c] + w2[c] * x2[c];
        }
    }

    /** {@code acc[0..n) += w0 * x0}, element-wise (one tap of a depthwise kernel). */
    static void taps1(float[] acc, float[] w0, float[] x0, int n) {
        for (int c = 0; c < n; c++) {
            acc[c] += w0[c] * x0[c];
        }
    }

    /**
     * Softmax over {@code v[0..n)} in place, step by step as tfjs's CPU kernel: max, subtract,
     * exp, sum (in double, stored as float32), divide.
     */
    static void softmax(float[] v, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.exp(v[i] - max);
            sum += v[i];
        }
        float total = (float) sum;
        for (int i = 0; i < n; i++) {
            v[i] = v[i] / total;
        }
    }
}
