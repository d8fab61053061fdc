package dev.qwenimage.safety;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.safety.Network.Epilogue;
import dev.qwenimage.safety.Network.Op;
import dev.qwenimage.safety.Network.Shape;
import dev.qwenimage.safety.TfjsLayersModel.Layer;
import dev.qwenimage.safety.TfjsLayersModel.Weight;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * Turns a TF.js layers model into a {@link Network}. Every layer's settings come from its Keras
 * config (kernel size, strides, padding, bias, epsilon, activation...); a layer type or setting
 * this class does not implement is refused with a message that names the layer.
 *
 * <p>Fusions, each only where the intermediate tensor has no other reader:
 * <ul>
 *   <li>ZeroPadding2D followed by a "valid" convolution: the padding becomes the convolution's;</li>
 *   <li>BatchNormalization after a convolution without activation: folded into its weights and bias
 *       ({@code scale = gamma / sqrt(variance + epsilon)}, {@code shift = beta - mean * scale});</li>
 *   <li>Add after such a convolution: the other operand is added in the convolution's epilogue;</li>
 *   <li>ReLU (with max_value: ReLU6) after any of these: a clamp in the epilogue;</li>
 *   <li>Dropout (inference: identity) and Flatten of a single pixel: no operation at all.</li>
 * </ul>
 */
final class NetworkCompiler {
    /**
     * Floats of a weight tile that should stay in the level-1 data cache (32 KiB or more) while
     * the pixels pass over it, with room left for the rows being read and written.
     */
    static final int TILE_FLOATS = 6 * 1024;

    /**
     * Output channels per tile of a large 1x1 convolution: long enough that the vector loop runs
     * mostly in its unrolled body, short enough to leave a useful depth of input channels in a tile.
     */
    static final int N_BLOCK = 512;

    private final TfjsLayersModel model;
    private final Map<String, Layer> byName = new HashMap<>();
    private final Map<String, List<String>> consumers = new HashMap<>();
    private final Set<String> absorbed = new HashSet<>();
    /** Value (tensor) produced by each emitted layer name; aliases share a value. */
    private final Map<String, Integer> valueOf = new HashMap<>();
    private final List<Shape> valueShapes = new ArrayList<>();
    private final Map<String, int[]> pendingPads = new HashMap<>();
    private final List<Pending> pending = new ArrayList<>();
    private final Set<Integer> reluOutputs = new HashSet<>();
    private int maxReduction = 1;
    private int maxColumnK = 1;
    private int maxColumnN = 1;

    /**
     * Outputs with at most this many channels are computed over blocks of pixels (see
     * Network.columnBlock): a row of 32 floats or fewer is two AVX-512 vectors, too short for the
     * vector loop to pay for its entry.
     */
    static final int COLUMN_MAX_N = 32;

    /** An operation whose buffers are not assigned yet. */
    private record Pending(int[] inputs, int output, Builder builder) {
    }

    @FunctionalInterface
    private interface Builder {
        Op build(IntUnaryOperator slotOf);
    }

    private NetworkCompiler(TfjsLayersModel model) {
        this.model = model;
    }

    static Network compile(TfjsLayersModel model) {
        return new NetworkCompiler(model).compile();
    }

    private Network compile() {
        for (Layer l : model.layers) {
            if (byName.put(l.name(), l) != null) {
                throw fail("two layers are named '" + l.name() + "'");
            }
            for (String in : l.inputs()) {
                if (!byName.containsKey(in)) {
                    throw fail(l.describe() + " reads '" + in + "', which is not an earlier layer");
                }
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(l.name());
            }
        }
        if (model.inputLayers.size() != 1 || model.outputLayers.size() != 1) {
            throw fail("the model must have one input and one output, it has " + model.inputLayers + " -> " + model.outputLayers);
        }
        for (Layer l : model.layers) {
            if (!absorbed.contains(l.name())) {
                emit(l);
            }
        }
        String outName = model.outputLayers.get(0);
        Integer out = valueOf.get(outName);
        if (out == null) {
            throw fail("output layer '" + outName + "' is not computed by the model");
        }
        Shape outShape = valueShapes.get(out);
        if (outShape.pixels() != 1) {
            throw fail("the output must be a vector, it is " + outShape);
        }
        return allocate(valueOf.get(model.inputLayers.get(0)), out);
    }

    // ---- layers -------------------------------------------------------------------------------

    private void emit(Layer l) {
        switch (l.className()) {
            case "InputLayer" -> input(l);
            case "ZeroPadding2D" -> zeroPadding(l);
            case "Conv2D" -> conv(l, false);
            case "DepthwiseConv2D" -> conv(l, true);
            case "BatchNormalization" -> standaloneBatchNorm(l);
            case "ReLU" -> standaloneRelu(l);
            case "Add" -> add(l);
            case "AveragePooling2D" -> avgPool(l);
            case "Flatten" -> flatten(l);
            case "Dense" -> dense(l);
            case "Dropout" -> alias(l, single(l));
            default -> throw fail(l.describe() + ": layer type '" + l.className() + "' is not supported (supported: InputLayer,"
                    + " ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Add, AveragePooling2D, Flatten, Dense,"
                    + " Dropout)");
        }
    }

    private void input(Layer l) {
        JsonNode shape = l.config().path("batch_input_shape");
        if (!shape.isArray() || shape.size() != 4) {
            throw fail(l.describe() + ": batch_input_shape must be [batch, height, width, channels], it is " + shape);
        }
        define(l.name(), new Shape(positive(l, shape.get(1), "height"), positive(l, shape.get(2), "width"),
                positive(l, shape.get(3), "channels")));
    }

    private void zeroPadding(Layer l) {
        channelsLast(l);
        int[] pad = padding2d(l, l.config().get("padding")); // top, bottom, left, right
        Shape in = shapeOf(single(l));
        Layer next = soleConsumer(l.name());
        if (next != null && (next.className().equals("Conv2D") || next.className().equals("DepthwiseConv2D"))
                && "valid".equals(next.config().path("padding").asText())) {
            absorbed.add(l.name());
            pendingPads.put(next.name(), pad);
            return;
        }
        Shape out = new Shape(in.h() + pad[0] + pad[1], in.w() + pad[2] + pad[3], in.c());
        int src = valueOf.get(single(l));
        int dst = define(l.name(), out);
        pending.add(new Pending(new int[] {src}, dst, s -> new Network.Pad(l.name(), s.applyAsInt(src), s.applyAsInt(dst), in, out,
                pad[0], pad[2])));
    }

    private void conv(Layer l, boolean depthwise) {
        JsonNode cfg = l.config();
        channelsLast(l);
        int[] kernel = pair(l, "kernel_size");
        int[] strides = pair(l, "strides");
        int[] dilation = cfg.has("dilation_rate") ? pair(l, "dilation_rate") : new int[] {1, 1};
        if (dilation[0] != 1 || dilation[1] != 1) {
            throw fail(l.describe() + ": dilation_rate " + Arrays.toString(dilation) + " is not supported");
        }
        String inputName = single(l);
        int[] pad = pendingPads.get(l.name());
        if (pad != null) {
            inputName = single(byName.get(inputName)); // the absorbed ZeroPadding2D's input
        }
        Shape in = shapeOf(inputName);
        int padH = pad == null ? 0 : pad[0] + pad[1];
        int padW = pad == null ? 0 : pad[2] + pad[3];
        int[] geometry = geometry(l, text(l, "padding"), in.h() + padH, in.w() + padW, kernel, strides);
        int outH = geometry[0];
        int outW = geometry[1];
        int padTop = geometry[2] + (pad == null ? 0 : pad[0]);
        int padLeft = geometry[3] + (pad == null ? 0 : pad[2]);
        int cin = in.c();
        int cout;
        float[][] rows;
        if (depthwise) {
            int multiplier = cfg.path("depth_multiplier").asInt(1);
            if (multiplier != 1) {
                throw fail(l.describe() + ": depth_multiplier " + multiplier + " is not supported (only 1)");
            }
            cout = cin;
            Weight k = model.weight(l, "depthwise_kernel", kernel[0], kernel[1], cin, 1);
            rows = split(k.values(), kernel[0] * kernel[1], cin);
        } else {
            cout = positive(l, cfg.get("filters"), "filters");
            Weight k = model.weight(l, "kernel", kernel[0], kernel[1], cin, cout);
            rows = split(k.values(), kernel[0] * kernel[1] * cin, cout);
        }
        float[] bias = bool(l, "use_bias") ? model.weight(l, "bias", cout).values().clone() : new float[cout];
        Epilogue epilogue = activation(l, text(l, "activation"));

        // fuse what follows: BatchNormalization, then ReLU, or Add (then ReLU)
        String last = l.name();
        if (!epilogue.clamps()) {
            Layer bn = soleConsumer(last);
            if (bn != null && bn.className().equals("BatchNormalization")) {
                float[][] affine = batchNorm(bn, cout);
                for (float[] row : rows) {
                    for (int c = 0; c < cout; c++) {
                        row[c] = (float) ((double) row[c] * affine[0][c]);
                    }
                }
                for (int c = 0; c < cout; c++) {
                    bias[c] = (float) ((double) bias[c] * affine[0][c] + affine[1][c]);
                }
                absorbed.add(bn.name());
                last = bn.name();
            }
        }
        Shape out = new Shape(outH, outW, cout);
        Fused fused = fuseEpilogue(last, epilogue, out);
        int src = valueOf.get(inputName);
        int dst = define(fused.last, out, fused.epilogue.lo() >= 0);
        int[] inputs = fused.residual >= 0 ? new int[] {src, fused.residual} : new int[] {src};
        Epilogue e0 = fused.epilogue;
        boolean pointwise = !depthwise && kernel[0] == 1 && kernel[1] == 1 && strides[0] == 1 && strides[1] == 1
                && padTop == 0 && padLeft == 0 && outH == in.h() && outW == in.w();
        String name = last.equals(l.name()) ? fused.name() : l.name() + "+" + fused.name(); // conv [+ BN] + ...
        if (depthwise) {
            pending.add(new Pending(inputs, dst, s -> new Network.Depthwise(name, s.applyAsInt(src), s.applyAsInt(dst), in, out,
                    kernel[0], kernel[1], strides[0], strides[1], padTop, padLeft, rows, bias, resolve(e0, s))));
        } else if (pointwise) {
            pending.add(pointwise(name, src, dst, out.pixels(), cin, cout, rows, bias, e0, false, inputs));
        } else {
            maxReduction = Math.max(maxReduction, kernel[0] * kernel[1] * cin);
            float[][] wt = columns(out.pixels(), kernel[0] * kernel[1] * cin, cout, rows);
            pending.add(new Pending(inputs, dst, s -> new Network.Conv(name, s.applyAsInt(src), s.applyAsInt(dst), in, out,
                    kernel[0], kernel[1], strides[0], strides[1], padTop, padLeft, rows, bias, resolve(e0, s), wt)));
        }
    }

    private Pending pointwise(String name, int src, int dst, int pixels, int k, int n, float[][] rows, float[] bias, Epilogue e,
            boolean softmax, int[] inputs) {
        maxReduction = Math.max(maxReduction, k);
        int nBlock = n;
        int kBlock = k;
        if ((long) k * n > TILE_FLOATS && pixels > 1) {
            nBlock = Math.min(n, N_BLOCK);
            kBlock = Math.max(4, TILE_FLOATS / nBlock / 4 * 4);
        }
        float[][] wt = softmax ? null : columns(pixels, k, n, rows);
        if (wt != null) {
            kBlock = Math.max(4, (TILE_FLOATS - n * Network.COLUMN_BLOCK) / Network.COLUMN_BLOCK / 4 * 4);
        }
        int kb = kBlock;
        int nb = nBlock;
        boolean sparse = sparse(src);
        return new Pending(inputs, dst, s -> new Network.Pointwise(name, s.applyAsInt(src), s.applyAsInt(dst), pixels, k, n, rows,
                bias, resolve(e, s), softmax, sparse, kb, nb, wt));
    }

    /** The transposed weights when the product should run over blocks of pixels (few output channels, many pixels), else null. */
    private float[][] columns(int pixels, int k, int n, float[][] rows) {
        if (n > COLUMN_MAX_N || pixels < Network.COLUMN_BLOCK) {
            return null;
        }
        maxColumnK = Math.max(maxColumnK, k);
        maxColumnN = Math.max(maxColumnN, n);
        float[][] wt = new float[n][k];
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < n; c++) {
                wt[c][r] = rows[r][c];
            }
        }
        return wt;
    }

    /** Whether a value comes out of a ReLU (clamped at 0 from below), so that many of its entries are 0. */
    private boolean sparse(int value) {
        return reluOutputs.contains(value);
    }

    /** The epilogue with its residual value id replaced by that value's slot. */
    private static Epilogue resolve(Epilogue e, IntUnaryOperator slotOf) {
        return e.residualSlot() < 0 ? e : e.withResidual(slotOf.applyAsInt(e.residualSlot()));
    }

    /** What an epilogue absorbed: the last layer it stands for, the residual value (or -1), the layers' names. */
    private record Fused(String last, Epilogue epilogue, int residual, List<String> names) {
        String name() {
            return String.join("+", names);
        }
    }

    /** Absorbs ReLU, or Add (then ReLU), after {@code last} into the epilogue (residual kept as a value id). */
    private Fused fuseEpilogue(String last, Epilogue epilogue, Shape out) {
        List<String> names = new ArrayList<>();
        Layer first = byName.get(last);
        names.add(first.name());
        int residual = -1;
        Layer next = soleConsumer(last);
        if (next != null && next.className().equals("ReLU")) {
            epilogue = relu(next, epilogue);
            absorbed.add(next.name());
            names.add(next.name());
            last = next.name();
        } else if (next != null && next.className().equals("Add") && next.inputs().size() == 2 && !epilogue.clamps()) {
            String other = next.inputs().get(0).equals(last) ? next.inputs().get(1) : next.inputs().get(0);
            Integer otherValue = valueOf.get(other);
            if (otherValue != null && shapeOf(other).equals(out)) {
                residual = otherValue;
                epilogue = epilogue.withResidual(otherValue);
                absorbed.add(next.name());
                names.add(next.name());
                last = next.name();
                Layer relu = soleConsumer(last);
                if (relu != null && relu.className().equals("ReLU")) {
                    epilogue = relu(relu, epilogue);
                    absorbed.add(relu.name());
                    names.add(relu.name());
                    last = relu.name();
                }
            }
        }
        return new Fused(last, epilogue, residual, names);
    }

    private void standaloneBatchNorm(Layer l) {
        Shape in = shapeOf(single(l));
        float[][] affine = batchNorm(l, in.c());
        affineOp(l, affine[0], affine[1], Epilogue.NONE);
    }

    private void standaloneRelu(Layer l) {
        Shape in = shapeOf(single(l));
        float[] one = new float[in.c()];
        Arrays.fill(one, 1f);
        affineOp(l, one, new float[in.c()], relu(l, Epilogue.NONE));
    }

    private void affineOp(Layer l, float[] scale, float[] shift, Epilogue epilogue) {
        Shape in = shapeOf(single(l));
        Fused fused = epilogue.clamps() ? new Fused(l.name(), epilogue, -1, List.of(l.name())) : fuseEpilogue(l.name(), epilogue, in);
        int src = valueOf.get(single(l));
        int dst = define(fused.last, in, fused.epilogue.lo() >= 0);
        int[] inputs = fused.residual >= 0 ? new int[] {src, fused.residual} : new int[] {src};
        Epilogue e = fused.epilogue;
        String name = fused.name();
        pending.add(new Pending(inputs, dst, s -> new Network.ChannelAffine(name, s.applyAsInt(src), s.applyAsInt(dst), in.pixels(),
                in.c(), scale, shift, resolve(e, s))));
    }

    private void add(Layer l) {
        if (l.inputs().size() < 2) {
            throw fail(l.describe() + " needs at least two inputs");
        }
        Shape shape = shapeOf(l.inputs().get(0));
        int[] inputs = new int[l.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            if (!shapeOf(l.inputs().get(i)).equals(shape)) {
                throw fail(l.describe() + ": inputs have different shapes " + shape + " and " + shapeOf(l.inputs().get(i)));
            }
            inputs[i] = valueOf.get(l.inputs().get(i));
        }
        String last = l.name();
        Epilogue e = Epilogue.NONE;
        Layer relu = soleConsumer(last);
        String name = l.name();
        if (relu != null && relu.className().equals("ReLU")) {
            e = relu(relu, e);
            absorbed.add(relu.name());
            last = relu.name();
            name += "+" + relu.name();
        }
        int dst = define(last, shape, e.lo() >= 0);
        float lo = e.lo();
        float hi = e.hi();
        String opName = name;
        pending.add(new Pending(inputs, dst, s -> {
            int[] slots = new int[inputs.length];
            for (int i = 0; i < slots.length; i++) {
                slots[i] = s.applyAsInt(inputs[i]);
            }
            return new Network.Sum(opName, slots, s.applyAsInt(dst), shape.pixels(), shape.c(), lo, hi);
        }));
    }

    private void avgPool(Layer l) {
        channelsLast(l);
        int[] pool = pair(l, "pool_size");
        int[] strides = l.config().path("strides").isNull() || !l.config().has("strides") ? pool : pair(l, "strides");
        Shape in = shapeOf(single(l));
        int[] g = geometry(l, text(l, "padding"), in.h(), in.w(), pool, strides);
        Shape out = new Shape(g[0], g[1], in.c());
        int src = valueOf.get(single(l));
        int dst = define(l.name(), out);
        pending.add(new Pending(new int[] {src}, dst, s -> new Network.AvgPool(l.name(), s.applyAsInt(src), s.applyAsInt(dst), in, out,
                pool[0], pool[1], strides[0], strides[1], g[2], g[3])));
    }

    private void flatten(Layer l) {
        String dataFormat = l.config().path("data_format").asText("channels_last");
        if (!dataFormat.equals("channels_last")) {
            throw fail(l.describe() + ": data_format '" + dataFormat + "' is not supported (only channels_last)");
        }
        Shape in = shapeOf(single(l));
        Shape out = new Shape(1, 1, in.pixels() * in.c());
        int src = valueOf.get(single(l));
        if (in.pixels() == 1) {
            valueOf.put(l.name(), src); // same storage: one row of c floats
            return;
        }
        int dst = define(l.name(), out);
        pending.add(new Pending(new int[] {src}, dst, s -> new Network.Flatten(l.name(), s.applyAsInt(src), s.applyAsInt(dst),
                in.pixels(), in.c())));
    }

    private void dense(Layer l) {
        Shape in = shapeOf(single(l));
        int units = positive(l, l.config().get("units"), "units");
        float[][] rows = split(model.weight(l, "kernel", in.c(), units).values(), in.c(), units);
        float[] bias = bool(l, "use_bias") ? model.weight(l, "bias", units).values().clone() : new float[units];
        String activation = text(l, "activation");
        boolean softmax = activation.equals("softmax");
        Epilogue e = softmax ? Epilogue.NONE : activation(l, activation);
        Shape out = new Shape(in.h(), in.w(), units);
        int src = valueOf.get(single(l));
        int dst = define(l.name(), out, e.lo() >= 0);
        pending.add(pointwise(l.name(), src, dst, in.pixels(), in.c(), units, rows, bias, e, softmax, new int[] {src}));
    }

    private void alias(Layer l, String input) {
        valueOf.put(l.name(), valueOf.get(input));
    }

    // ---- layer settings -----------------------------------------------------------------------

    /** [scale, shift] per channel of an inference-mode BatchNormalization, as tfjs-core's batchNorm computes it. */
    private float[][] batchNorm(Layer l, int c) {
        JsonNode cfg = l.config();
        int axis = cfg.path("axis").asInt(-1);
        if (axis != -1 && axis != 3) {
            throw fail(l.describe() + ": axis " + axis + " is not supported (only the channel axis, -1 or 3)");
        }
        if (!cfg.path("epsilon").isNumber()) {
            throw fail(l.describe() + ": epsilon is missing");
        }
        double epsilon = cfg.path("epsilon").asDouble();
        float[] gamma = cfg.path("scale").asBoolean(true) ? model.weight(l, "gamma", c).values() : null;
        float[] beta = cfg.path("center").asBoolean(true) ? model.weight(l, "beta", c).values() : null;
        float[] mean = model.weight(l, "moving_mean", c).values();
        float[] variance = model.weight(l, "moving_variance", c).values();
        float[] scale = new float[c];
        float[] shift = new float[c];
        for (int i = 0; i < c; i++) {
            double s = (gamma == null ? 1.0 : gamma[i]) / Math.sqrt(variance[i] + epsilon);
            scale[i] = (float) s;
            shift[i] = (float) ((beta == null ? 0.0 : beta[i]) - mean[i] * s);
        }
        return new float[][] {scale, shift};
    }

    private Epilogue activation(Layer l, String activation) {
        return switch (activation) {
            case "linear" -> Epilogue.NONE;
            case "relu" -> Epilogue.NONE.withClamp(0f, Float.POSITIVE_INFINITY);
            case "relu6" -> Epilogue.NONE.withClamp(0f, 6f);
            default -> throw fail(l.describe() + ": activation '" + activation + "' is not supported here (linear, relu, relu6;"
                    + " softmax on Dense)");
        };
    }

    /** tfjs-layers' ReLU: relu, then clipByValue(0, max_value) when max_value is set; Keras's slope and threshold must be 0. */
    private Epilogue relu(Layer l, Epilogue e) {
        JsonNode cfg = l.config();
        if (cfg.path("negative_slope").asDouble(0) != 0 || cfg.path("threshold").asDouble(0) != 0) {
            throw fail(l.describe() + ": negative_slope and threshold other than 0 are not supported");
        }
        JsonNode max = cfg.get("max_value");
        float hi = max == null || max.isNull() ? Float.POSITIVE_INFINITY : (float) max.asDouble();
        return e.withClamp(0f, hi);
    }

    /** [outH, outW, padTop, padLeft] of a window op, with TensorFlow's "same" and "valid" rules. */
    private int[] geometry(Layer l, String padding, int h, int w, int[] kernel, int[] strides) {
        return switch (padding) {
            case "valid" -> {
                int oh = (h - kernel[0]) / strides[0] + 1;
                int ow = (w - kernel[1]) / strides[1] + 1;
                if (h < kernel[0] || w < kernel[1]) {
                    throw fail(l.describe() + ": input " + h + "x" + w + " is smaller than the window");
                }
                yield new int[] {oh, ow, 0, 0};
            }
            case "same" -> {
                int oh = (h + strides[0] - 1) / strides[0];
                int ow = (w + strides[1] - 1) / strides[1];
                int padH = Math.max((oh - 1) * strides[0] + kernel[0] - h, 0);
                int padW = Math.max((ow - 1) * strides[1] + kernel[1] - w, 0);
                yield new int[] {oh, ow, padH / 2, padW / 2};
            }
            default -> throw fail(l.describe() + ": padding '" + padding + "' is not supported (same, valid)");
        };
    }

    private int[] padding2d(Layer l, JsonNode p) {
        if (p == null) {
            throw fail(l.describe() + ": padding is missing");
        }
        if (p.isInt()) {
            int v = p.asInt();
            return new int[] {v, v, v, v};
        }
        if (p.isArray() && p.size() == 2 && p.get(0).isInt() && p.get(1).isInt()) {
            return new int[] {p.get(0).asInt(), p.get(0).asInt(), p.get(1).asInt(), p.get(1).asInt()};
        }
        if (p.isArray() && p.size() == 2 && p.get(0).isArray() && p.get(1).isArray() && p.get(0).size() == 2 && p.get(1).size() == 2) {
            return new int[] {p.get(0).get(0).asInt(), p.get(0).get(1).asInt(), p.get(1).get(0).asInt(), p.get(1).get(1).asInt()};
        }
        throw fail(l.describe() + ": padding " + p + " is not an int, [h, w] or [[top, bottom], [left, right]]");
    }

    private void channelsLast(Layer l) {
        String dataFormat = l.config().path("data_format").asText("channels_last");
        if (!dataFormat.equals("channels_last")) {
            throw fail(l.describe() + ": data_format '" + dataFormat + "' is not supported (only channels_last)");
        }
    }

    private int[] pair(Layer l, String field) {
        JsonNode p = l.config().get(field);
        if (p != null && p.isInt()) {
            return new int[] {p.asInt(), p.asInt()};
        }
        if (p == null || !p.isArray() || p.size() != 2 || !p.get(0).isInt() || !p.get(1).isInt()
                || p.get(0).asInt() < 1 || p.get(1).asInt() < 1) {
            throw fail(l.describe() + ": " + field + " must be two positive integers, it is " + p);
        }
        return new int[] {p.get(0).asInt(), p.get(1).asInt()};
    }

    private String text(Layer l, String field) {
        JsonNode t = l.config().get(field);
        if (t == null || !t.isTextual()) {
            throw fail(l.describe() + ": " + field + " is missing");
        }
        return t.asText();
    }

    private boolean bool(Layer l, String field) {
        JsonNode b = l.config().get(field);
        if (b == null || !b.isBoolean()) {
            throw fail(l.describe() + ": " + field + " is missing");
        }
        return b.asBoolean();
    }

    private int positive(Layer l, JsonNode v, String what) {
        if (v == null || !v.isInt() || v.asInt() < 1) {
            throw fail(l.describe() + ": " + what + " must be a positive integer, it is " + v);
        }
        return v.asInt();
    }

    // ---- graph helpers ------------------------------------------------------------------------

    private String single(Layer l) {
        if (l.inputs().size() != 1) {
            throw fail(l.describe() + " must have exactly one input, it has " + l.inputs());
        }
        return l.inputs().get(0);
    }

    /** The only layer reading {@code name}'s output, or null when there are none or several. */
    private Layer soleConsumer(String name) {
        List<String> c = consumers.getOrDefault(name, List.of());
        if (c.size() != 1 || model.outputLayers.contains(name)) {
            return null;
        }
        return byName.get(c.get(0));
    }

    private Shape shapeOf(String layer) {
        Integer v = valueOf.get(layer);
        if (v == null) {
            throw fail("layer '" + layer + "' is read before it is computed");
        }
        return valueShapes.get(v);
    }

    private int define(String layer, Shape shape, boolean reluOutput) {
        int id = define(layer, shape);
        if (reluOutput) {
            reluOutputs.add(id);
        }
        return id;
    }

    private int define(String layer, Shape shape) {
        valueShapes.add(shape);
        int id = valueShapes.size() - 1;
        valueOf.put(layer, id);
        return id;
    }

    private static float[][] split(float[] values, int rows, int cols) {
        float[][] out = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(values, r * cols, out[r], 0, cols);
        }
        return out;
    }

    private NsfwModelException fail(String message) {
        return new NsfwModelException(model.source + ": " + message);
    }

    // ---- buffers ------------------------------------------------------------------------------

    /**
     * Gives each value a slot: a set of pixel rows reused by values of the same pixel count whose
     * lives do not overlap. An operation's output never shares a slot with its inputs.
     */
    private Network allocate(int inputValue, int outputValue) {
        int values = valueShapes.size();
        int[] lastUse = new int[values];
        Arrays.fill(lastUse, -1);
        for (int i = 0; i < pending.size(); i++) {
            for (int v : pending.get(i).inputs()) {
                lastUse[v] = i;
            }
        }
        lastUse[outputValue] = Integer.MAX_VALUE;
        int[] slotOfValue = new int[values];
        Arrays.fill(slotOfValue, -1);
        List<int[]> slots = new ArrayList<>(); // {pixels, width}
        List<Boolean> free = new ArrayList<>();
        slotOfValue[inputValue] = newSlot(slots, free, valueShapes.get(inputValue));
        for (int i = 0; i < pending.size(); i++) {
            Pending p = pending.get(i);
            Shape shape = valueShapes.get(p.output());
            int chosen = -1;
            for (int s = 0; s < slots.size() && chosen < 0; s++) {
                if (free.get(s) && slots.get(s)[0] == shape.pixels()) {
                    chosen = s;
                }
            }
            if (chosen < 0) {
                chosen = newSlot(slots, free, shape);
            } else {
                free.set(chosen, false);
                slots.get(chosen)[1] = Math.max(slots.get(chosen)[1], shape.c());
            }
            slotOfValue[p.output()] = chosen;
            for (int v : p.inputs()) {
                if (lastUse[v] == i) {
                    free.set(slotOfValue[v], true);
                }
            }
        }
        List<Op> ops = new ArrayList<>();
        for (Pending p : pending) {
            ops.add(p.builder().build(v -> slotOfValue[v]));
        }
        int[] pixels = slots.stream().mapToInt(s -> s[0]).toArray();
        int[] widths = slots.stream().mapToInt(s -> s[1]).toArray();
        return new Network(valueShapes.get(inputValue), valueShapes.get(outputValue).c(), ops, slotOfValue[inputValue],
                slotOfValue[outputValue], pixels, widths, maxReduction, maxColumnK, maxColumnN);
    }

    private static int newSlot(List<int[]> slots, List<Boolean> free, Shape shape) {
        slots.add(new int[] {shape.pixels(), shape.c()});
        free.add(false);
        return slots.size() - 1;
    }
}
