package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network is built from the layers' own settings, not from a hard-coded MobileNetV2: small
 * models with other kernel sizes, strides, paddings, activations and layer arrangements give
 * what a plain evaluation of the same layers gives, through every fused and vectorised path.
 */
class NetworkCompilerTest {
    @TempDir
    Path dir;

    @Test
    void everyLayerTypeAndSettingMatchesAPlainEvaluation() throws Exception {
        TinyModel m = new TinyModel(1, false);
        String in = m.input(9, 11, 3);
        String a = m.conv("a", in, 8, 3, 2, "same", true, "relu");      // strided 3x3, 'same' padding, own activation
        String b = m.batchNorm("b", a);                                   // after an activation: not foldable
        String c = m.zeroPadding("c", b, 1, 0, 0, 1);                     // before a 'same' convolution: kept
        String d = m.relu("d_relu", m.batchNorm("d_bn", m.depthwise("d", c, 3, 1, "same", true)), 6.0);
        String e = m.relu("e_relu", m.add("e_add", m.batchNorm("e_bn", m.conv("e", d, 8, 1, 1, "same", false, "linear")), d),
                null);                                                    // conv + BN + residual + ReLU in one operation
        String f = m.add("f", e, d, c);                                   // three operands
        String g = m.avgPool("g", f, 2, 2, "same");                       // partial windows at the border
        String h = m.flatten("h", g);                                     // 12 pixels into one vector
        String out = m.dense("k", m.dropout("j", m.dense("i", h, 16, "relu")), 5, "softmax");
        m.output(out);

        assertMatchesPlainEvaluation(m, 9, 11);
    }

    @Test
    void tiledSparseColumnAndFusedProductsMatchAPlainEvaluation() throws Exception {
        TinyModel m = new TinyModel(2, true); // uint8-quantized weights, as in nsfwjs's model
        String in = m.input(20, 20, 3);
        String a = m.conv("a", in, 12, 3, 1, "same", true, "relu6");    // few outputs, many pixels: by columns
        String b = m.conv("b", a, 96, 1, 1, "valid", true, "relu");      // input from ReLU6: zero terms skipped
        String c = m.batchNorm("c_bn", m.conv("c", b, 80, 1, 1, "same", false, "linear")); // larger than a tile
        String d = m.conv("d", c, 64, 1, 1, "same", true, "linear");     // dense input: init and clamp fused
        String e = m.conv("e", d, 24, 1, 1, "same", true, "relu");       // few outputs: by columns
        String e2 = m.add("e_add", m.conv("e2", e, 24, 1, 1, "same", false, "linear"), e); // residual by columns
        String f = m.zeroPadding("f", e2, 0, 1, 0, 1);                   // folded into the 'valid' convolution
        String g = m.relu("g_relu", m.depthwise("g", f, 3, 2, "valid", false), 6.0);
        String h = m.conv("h", g, 40, 3, 2, "same", true, "relu");       // general convolution by rows
        String p = m.flatten("fl", m.avgPool("p", h, 5, 5, "valid"));   // global average, flatten of one pixel
        m.output(m.dense("out", p, 5, "linear")); // logits: a softmax would saturate and hide differences

        assertMatchesPlainEvaluation(m, 20, 20);
    }

    @Test
    void mobileNetV2RunsAsFusedOperationsOnly() {
        Network net = NsfwModel.loadDefault().network();
        // 52 batch norms, 35 ReLUs, 10 adds, 5 paddings, 2 dropouts and a flatten are folded away
        assertThat(net.ops).hasSize(56);
        assertThat(net.ops).noneMatch(op -> op instanceof Network.ChannelAffine || op instanceof Network.Sum
                || op instanceof Network.Pad || op instanceof Network.Flatten);
        assertThat(net.ops.stream().filter(op -> op.name().contains("_add"))).hasSize(10);
        assertThat(net.ops.get(0).name()).isEqualTo("Conv1+bn_Conv1+Conv1_relu");
    }

    private void assertMatchesPlainEvaluation(TinyModel m, int h, int w) throws Exception {
        NsfwModel model = NsfwModel.load(m.write(dir));
        Random r = new Random(7);
        for (int trial = 0; trial < 3; trial++) {
            BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            double[][][] pixels = new double[h][w][3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = r.nextInt(1 << 24);
                    image.setRGB(x, y, rgb);
                    for (int c = 0; c < 3; c++) {
                        pixels[y][x][c] = (float) ((rgb >>> (16 - 8 * c) & 0xFF) / 255.0);
                    }
                }
            }
            double[] expected = m.evaluate(pixels);
            float[] actual = model.infer(image);
            for (int i = 0; i < 5; i++) {
                assertThat((double) actual[i]).as("output %d, trial %d", i, trial)
                        .isCloseTo(expected[i], within(2e-5 * Math.max(1, Math.abs(expected[i]))));
            }
        }
    }
}
