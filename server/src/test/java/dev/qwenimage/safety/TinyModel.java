package dev.qwenimage.safety;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Builds small TF.js layers models (model.json + one weight shard, as the TF.js converter writes
 * them) with random weights, and evaluates the same layers the plain way: direct loops in double
 * precision over [height][width][channels] arrays, following the Keras/TF.js definitions. The
 * classifier's compiled, fused and vectorised network is checked against this evaluation.
 */
final class TinyModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Random random;
    private final boolean quantize;
    private final ArrayNode layers = JSON.createArrayNode();
    private final List<ObjectNode> weightSpecs = new ArrayList<>();
    private final ByteArrayOutputStream weightBytes = new ByteArrayOutputStream();
    private final Map<String, Function<Map<String, double[][][]>, double[][][]>> evaluators = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();
    private String output;
    private String input;

    /** @param quantize store weights as uint8 with min and scale, as nsfwjs's model does; else float32 */
    TinyModel(long seed, boolean quantize) {
        this.random = new Random(seed);
        this.quantize = quantize;
    }

    String input(int h, int w, int c) {
        ObjectNode cfg = JSON.createObjectNode();
        ArrayNode shape = cfg.putArray("batch_input_shape");
        shape.addNull();
        shape.add(h).add(w).add(c);
        cfg.put("dtype", "float32").put("name", "input_1");
        layer("input_1", "InputLayer", cfg);
        input = "input_1";
        shapes.put("input_1", new int[] {h, w, c});
        evaluators.put("input_1", m -> m.get("input_1"));
        return "input_1";
    }

    String conv(String name, String in, int filters, int kernel, int stride, String padding, boolean bias, String activation) {
        int[] s = shapes.get(in);
        double[] k = weight(name + "/kernel", kernel, kernel, s[2], filters);
        double[] b = bias ? weight(name + "/bias", filters) : new double[filters];
        ObjectNode cfg = JSON.createObjectNode().put("name", name).put("filters", filters).put("padding", padding)
                .put("data_format", "channels_last").put("activation", activation).put("use_bias", bias);
        cfg.putArray("kernel_size").add(kernel).add(kernel);
        cfg.putArray("strides").add(stride).add(stride);
        cfg.putArray("dilation_rate").add(1).add(1);
        layer(name, "Conv2D", cfg, in);
        int[] g = geometry(padding, s[0], s[1], kernel, stride);
        shapes.put(name, new int[] {g[0], g[1], filters});
        evaluators.put(name, m -> {
            double[][][] x = m.get(in);
            double[][][] y = new double[g[0]][g[1]][filters];
            for (int oy = 0; oy < g[0]; oy++) {
                for (int ox = 0; ox < g[1]; ox++) {
                    for (int f = 0; f < filters; f++) {
                        double sum = b[f];
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                int iy = oy * stride + ky - g[2];
                                int ix = ox * stride + kx - g[3];
                                if (iy >= 0 && iy < s[0] && ix >= 0 && ix < s[1]) {
                                    for (int c = 0; c < s[2]; c++) {
                                        sum += x[iy][ix][c] * k[((ky * kernel + kx) * s[2] + c) * filters + f];
                                    }
                                }
                            }
                        }
                        y[oy][ox][f] = activate(activation, sum);
                    }
                }
            }
            return y;
        });
        return name;
    }

    String depthwise(String name, String in, int kernel, int stride, String padding, boolean bias) {
        int[] s = shapes.get(in);
        double[] k = weight(name + "/depthwise_kernel", kernel, kernel, s[2], 1);
        double[] b = bias ? weight(name + "/bias", s[2]) : new double[s[2]];
        ObjectNode cfg = JSON.createObjectNode().put("name", name).put("padding", padding).put("data_format", "channels_last")
                .put("activation", "linear").put("use_bias", bias).put("depth_multiplier", 1);
        cfg.putArray("kernel_size").add(kernel).add(kernel);
        cfg.putArray("strides").add(stride).add(stride);
        cfg.putArray("dilation_rate").add(1).add(1);
        layer(name, "DepthwiseConv2D", cfg, in);
        int[] g = geometry(padding, s[0], s[1], kernel, stride);
        shapes.put(name, new int[] {g[0], g[1], s[2]});
        evaluators.put(name, m -> {
            double[][][] x = m.get(in);
            double[][][] y = new double[g[0]][g[1]][s[2]];
            for (int oy = 0; oy < g[0]; oy++) {
                for (int ox = 0; ox < g[1]; ox++) {
                    for (int c = 0; c < s[2]; c++) {
                        double sum = b[c];
                        for (int ky = 0; ky < kernel; ky++) {
                            for (int kx = 0; kx < kernel; kx++) {
                                int iy = oy * stride + ky - g[2];
                                int ix = ox * stride + kx - g[3];
                                if (iy >= 0 && iy < s[0] && ix >= 0 && ix < s[1]) {
                                    sum += x[iy][ix][c] * k[(ky * kernel + kx) * s[2] + c];
                                }
                            }
                        }
                        y[oy][ox][c] = sum;
                    }
                }
            }
            return y;
        });
        return name;
    }

    String batchNorm(String name, String in) {
        int c = shapes.get(in)[2];
        double[] gamma = weight(name + "/gamma", c);
        double[] beta = weight(name + "/beta", c);
        double[] mean = weight(name + "/moving_mean", c);
        double[] variance = positive(name + "/moving_variance", c);
        double epsilon = 0.001;
        layer(name, "BatchNormalization", JSON.createObjectNode().put("name", name).put("axis", -1).put("epsilon", epsilon)
                .put("center", true).put("scale", true), in);
        shapes.put(name, shapes.get(in));
        evaluators.put(name, m -> map(m.get(in), (ch, v) -> (v - mean[ch]) * gamma[ch] / Math.sqrt(variance[ch] + epsilon) + beta[ch]));
        return name;
    }

    String relu(String name, String in, Double max) {
        ObjectNode cfg = JSON.createObjectNode().put("name", name).put("negative_slope", 0.0).put("threshold", 0.0);
        if (max == null) {
            cfg.putNull("max_value");
        } else {
            cfg.put("max_value", max);
        }
        layer(name, "ReLU", cfg, in);
        shapes.put(name, shapes.get(in));
        double hi = max == null ? Double.POSITIVE_INFINITY : max;
        evaluators.put(name, m -> map(m.get(in), (ch, v) -> Math.min(Math.max(v, 0), hi)));
        return name;
    }

    String zeroPadding(String name, String in, int top, int bottom, int left, int right) {
        ObjectNode cfg = JSON.createObjectNode().put("name", name).put("data_format", "channels_last");
        ArrayNode p = cfg.putArray("padding");
        p.addArray().add(top).add(bottom);
        p.addArray().add(left).add(right);
        layer(name, "ZeroPadding2D", cfg, in);
        int[] s = shapes.get(in);
        shapes.put(name, new int[] {s[0] + top + bottom, s[1] + left + right, s[2]});
        evaluators.put(name, m -> {
            double[][][] x = m.get(in);
            double[][][] y = new double[s[0] + top + bottom][s[1] + left + right][s[2]];
            for (int i = 0; i < s[0]; i++) {
                for (int j = 0; j < s[1]; j++) {
                    y[i + top][j + left] = x[i][j].clone();
                }
            }
            return y;
        });
        return name;
    }

    String add(String name, String... ins) {
        layer(name, "Add", JSON.createObjectNode().put("name", name), ins);
        shapes.put(name, shapes.get(ins[0]));
        evaluators.put(name, m -> {
            double[][][] y = map(m.get(ins[0]), (ch, v) -> v);
            for (int i = 1; i < ins.length; i++) {
                double[][][] x = m.get(ins[i]);
                for (int a = 0; a < y.length; a++) {
                    for (int b = 0; b < y[a].length; b++) {
                        for (int c = 0; c < y[a][b].length; c++) {
                            y[a][b][c] += x[a][b][c];
                        }
                    }
                }
            }
            return y;
        });
        return name;
    }

    String avgPool(String name, String in, int pool, int stride, String padding) {
        ObjectNode cfg = JSON.createObjectNode().put("name", name).put("padding", padding).put("data_format", "channels_last");
        cfg.putArray("pool_size").add(pool).add(pool);
        cfg.putArray("strides").add(stride).add(stride);
        layer(name, "AveragePooling2D", cfg, in);
        int[] s = shapes.get(in);
        int[] g = geometry(padding, s[0], s[1], pool, stride);
        shapes.put(name, new int[] {g[0], g[1], s[2]});
        evaluators.put(name, m -> {
            double[][][] x = m.get(in);
            double[][][] y = new double[g[0]][g[1]][s[2]];
            for (int oy = 0; oy < g[0]; oy++) {
                for (int ox = 0; ox < g[1]; ox++) {
                    for (int c = 0; c < s[2]; c++) {
                        double sum = 0;
                        int n = 0;
                        for (int ky = 0; ky < pool; ky++) {
                            for (int kx = 0; kx < pool; kx++) {
                                int iy = oy * stride + ky - g[2];
                                int ix = ox * stride + kx - g[3];
                                if (iy >= 0 && iy < s[0] && ix >= 0 && ix < s[1]) {
                                    sum += x[iy][ix][c];
                                    n++;
                                }
                            }
                        }
                        y[oy][ox][c] = sum / n;
                    }
                }
            }
            return y;
        });
        return name;
    }

    String flatten(String name, String in) {
        layer(name, "Flatten", JSON.createObjectNode().put("name", name).put("data_format", "channels_last"), in);
        int[] s = shapes.get(in);
        shapes.put(name, new int[] {1, 1, s[0] * s[1] * s[2]});
        evaluators.put(name, m -> {
            double[][][] x = m.get(in);
            double[] flat = new double[s[0] * s[1] * s[2]];
            int i = 0;
            for (double[][] row : x) {
                for (double[] px : row) {
                    for (double v : px) {
                        flat[i++] = v;
                    }
                }
            }
            return new double[][][] {{flat}};
        });
        return name;
    }

    String dense(String name, String in, int units, String activation) {
        int k = shapes.get(in)[2];
        double[] w = weight(name + "/kernel", k, units);
        double[] b = weight(name + "/bias", units);
        layer(name, "Dense", JSON.createObjectNode().put("name", name).put("units", units).put("activation", activation)
                .put("use_bias", true), in);
        shapes.put(name, new int[] {1, 1, units});
        evaluators.put(name, m -> {
            double[] x = m.get(in)[0][0];
            double[] y = new double[units];
            for (int u = 0; u < units; u++) {
                double sum = b[u];
                for (int i = 0; i < k; i++) {
                    sum += x[i] * w[i * units + u];
                }
                y[u] = activation.equals("softmax") ? sum : activate(activation, sum);
            }
            if (activation.equals("softmax")) {
                double max = java.util.Arrays.stream(y).max().orElseThrow();
                double total = 0;
                for (int u = 0; u < units; u++) {
                    y[u] = Math.exp(y[u] - max);
                    total += y[u];
                }
                for (int u = 0; u < units; u++) {
                    y[u] /= total;
                }
            }
            return new double[][][] {{y}};
        });
        return name;
    }

    String dropout(String name, String in) {
        layer(name, "Dropout", JSON.createObjectNode().put("name", name).put("rate", 0.5), in);
        shapes.put(name, shapes.get(in));
        evaluators.put(name, m -> m.get(in));
        return name;
    }

    void output(String name) {
        this.output = name;
    }

    /** Writes model.json and group1-shard1of1.bin into {@code dir}; returns the model.json path. */
    Path write(Path dir) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode topology = root.putObject("modelTopology");
        topology.put("keras_version", "2.2.4").put("backend", "tensorflow");
        ObjectNode modelConfig = topology.putObject("model_config");
        modelConfig.put("class_name", "Model");
        ObjectNode config = modelConfig.putObject("config");
        config.put("name", "tiny");
        config.set("layers", layers);
        config.putArray("input_layers").addArray().add(input).add(0).add(0);
        config.putArray("output_layers").addArray().add(output).add(0).add(0);
        ObjectNode group = root.putArray("weightsManifest").addObject();
        group.putArray("paths").add("group1-shard1of1.bin");
        ArrayNode specs = group.putArray("weights");
        weightSpecs.forEach(specs::add);
        Files.createDirectories(dir);
        Path json = dir.resolve("model.json");
        Files.write(json, JSON.writeValueAsBytes(root));
        Files.write(dir.resolve("group1-shard1of1.bin"), weightBytes.toByteArray());
        return json;
    }

    /** The output for an input already scaled to [0, 1]: [height][width][channels]. */
    double[] evaluate(double[][][] in) {
        Map<String, double[][][]> values = new LinkedHashMap<>();
        values.put(input, in);
        for (Map.Entry<String, Function<Map<String, double[][][]>, double[][][]>> e : evaluators.entrySet()) {
            values.put(e.getKey(), e.getValue().apply(values));
        }
        return values.get(output)[0][0];
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void layer(String name, String className, ObjectNode config, String... inbound) {
        ObjectNode l = layers.addObject();
        l.put("name", name).put("class_name", className);
        l.set("config", config);
        ArrayNode nodes = l.putArray("inbound_nodes");
        if (inbound.length > 0) {
            ArrayNode node = nodes.addArray();
            for (String in : inbound) {
                node.addArray().add(in).add(0).add(0).addObject();
            }
        }
    }

    /** A random weight in [-0.5, 0.5), stored (quantized or not) and returned as the loader will see it. */
    private double[] weight(String name, int... shape) {
        return store(name, shape, () -> random.nextDouble() - 0.5);
    }

    private double[] positive(String name, int... shape) {
        return store(name, shape, () -> 0.2 + random.nextDouble());
    }

    private double[] store(String name, int[] shape, java.util.function.DoubleSupplier values) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        double[] raw = new double[n];
        for (int i = 0; i < n; i++) {
            raw[i] = values.getAsDouble();
        }
        ObjectNode spec = JSON.createObjectNode().put("name", name).put("dtype", "float32");
        ArrayNode s = spec.putArray("shape");
        for (int d : shape) {
            s.add(d);
        }
        double[] seen = new double[n];
        if (quantize) {
            double min = java.util.Arrays.stream(raw).min().orElse(0);
            double max = java.util.Arrays.stream(raw).max().orElse(0);
            double scale = (max - min) / 255;
            spec.putObject("quantization").put("min", min).put("scale", scale).put("dtype", "uint8");
            for (int i = 0; i < n; i++) {
                int q = (int) Math.round((raw[i] - min) / scale);
                weightBytes.write(q);
                seen[i] = (float) (q * scale + min);
            }
        } else {
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                b.putFloat((float) raw[i]);
                seen[i] = (float) raw[i];
            }
            weightBytes.writeBytes(b.array());
        }
        weightSpecs.add(spec);
        return seen;
    }

    private static double activate(String activation, double v) {
        return switch (activation) {
            case "linear" -> v;
            case "relu" -> Math.max(v, 0);
            case "relu6" -> Math.min(Math.max(v, 0), 6);
            default -> throw new IllegalArgumentException(activation);
        };
    }

    /** [outH, outW, padTop, padLeft] by TensorFlow's rules. */
    private static int[] geometry(String padding, int h, int w, int k, int s) {
        if (padding.equals("valid")) {
            return new int[] {(h - k) / s + 1, (w - k) / s + 1, 0, 0};
        }
        int oh = (h + s - 1) / s;
        int ow = (w + s - 1) / s;
        return new int[] {oh, ow, Math.max((oh - 1) * s + k - h, 0) / 2, Math.max((ow - 1) * s + k - w, 0) / 2};
    }

    @FunctionalInterface
    private interface ChannelFunction {
        double apply(int channel, double v);
    }

    private static double[][][] map(double[][][] x, ChannelFunction f) {
        double[][][] y = new double[x.length][x[0].length][x[0][0].length];
        for (int a = 0; a < x.length; a++) {
            for (int b = 0; b < x[a].length; b++) {
                for (int c = 0; c < x[a][b].length; c++) {
                    y[a][b][c] = f.apply(c, x[a][b][c]);
                }
            }
        }
        return y;
    }
}
