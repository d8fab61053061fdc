package dev.qwenimage.safety;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TensorFlow.js layers model as its files describe it: the Keras topology from model.json
 * ({@code modelTopology.model_config}, a functional {@code Model}) and the weights the
 * {@code weightsManifest} lays out in its binary shards, dequantized exactly as tfjs-core's
 * {@code io.decodeWeights} does ({@code value = q * scale + min}, computed in double and stored as
 * float32).
 */
final class TfjsLayersModel {
    /** Reads a weight shard named by a manifest path (relative to model.json). */
    @FunctionalInterface
    interface ShardReader {
        byte[] read(String path) throws IOException;
    }

    /** One weight: its manifest name ({@code layer/kernel}), shape and float32 values. */
    record Weight(String name, int[] shape, float[] values) {
        int size() {
            return values.length;
        }
    }

    /** One layer of the topology, with its inputs (layer names) and its raw Keras config. */
    record Layer(String name, String className, JsonNode config, List<String> inputs) {
        String describe() {
            return "layer '" + name + "' (" + className + ")";
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    final String source;
    final List<Layer> layers;
    final List<String> inputLayers;
    final List<String> outputLayers;
    final Map<String, Weight> weights;

    private TfjsLayersModel(String source, List<Layer> layers, List<String> inputLayers, List<String> outputLayers,
            Map<String, Weight> weights) {
        this.source = source;
        this.layers = layers;
        this.inputLayers = inputLayers;
        this.outputLayers = outputLayers;
        this.weights = weights;
    }

    /**
     * @param source    what to call the model in error messages (its path)
     * @param modelJson the bytes of model.json
     * @param shards    reads the weight files the manifest names
     */
    static TfjsLayersModel read(String source, byte[] modelJson, ShardReader shards) {
        JsonNode root;
        try {
            root = JSON.readTree(modelJson);
        } catch (JsonProcessingException e) {
            throw new NsfwModelException(source + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new NsfwModelException("cannot read " + source + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new NsfwModelException(source + " is not a JSON object");
        }
        JsonNode config = root.path("modelTopology").path("model_config");
        if (config.isMissingNode()) {
            throw new NsfwModelException(source + " has no modelTopology.model_config: not a TF.js layers model"
                    + (root.has("modelTopology") && root.path("modelTopology").has("node") ? " (it is a graph model)" : ""));
        }
        String modelClass = config.path("class_name").asText();
        if (!modelClass.equals("Model") && !modelClass.equals("Functional")) {
            throw new NsfwModelException(source + ": model class '" + modelClass + "' is not supported (only functional Keras models)");
        }
        JsonNode modelConfig = config.path("config");
        List<Layer> layers = new ArrayList<>();
        for (JsonNode l : array(source, modelConfig, "layers")) {
            String name = text(source, l, "name");
            String className = text(source, l, "class_name");
            JsonNode nodes = l.path("inbound_nodes");
            List<String> inputs = new ArrayList<>();
            if (nodes.size() > 1) {
                throw new NsfwModelException(source + ": layer '" + name + "' is called " + nodes.size()
                        + " times; shared layers are not supported");
            }
            if (nodes.size() == 1) {
                for (JsonNode in : nodes.get(0)) {
                    if (!in.isArray() || in.size() < 3 || in.get(1).asInt() != 0 || in.get(2).asInt() != 0) {
                        throw new NsfwModelException(source + ": layer '" + name + "' has an inbound node this loader cannot read: " + in);
                    }
                    inputs.add(in.get(0).asText());
                }
            }
            layers.add(new Layer(name, className, l.path("config"), List.copyOf(inputs)));
        }
        List<String> inputLayers = endpoints(source, modelConfig, "input_layers");
        List<String> outputLayers = endpoints(source, modelConfig, "output_layers");
        return new TfjsLayersModel(source, List.copyOf(layers), inputLayers, outputLayers, readWeights(source, root, shards));
    }

    private static List<String> endpoints(String source, JsonNode modelConfig, String field) {
        List<String> names = new ArrayList<>();
        for (JsonNode e : array(source, modelConfig, field)) {
            if (!e.isArray() || e.size() < 1) {
                throw new NsfwModelException(source + ": " + field + " entry " + e + " is not [name, node, tensor]");
            }
            names.add(e.get(0).asText());
        }
        return List.copyOf(names);
    }

    private static Map<String, Weight> readWeights(String source, JsonNode root, ShardReader shards) {
        Map<String, Weight> weights = new LinkedHashMap<>();
        JsonNode manifest = root.path("weightsManifest");
        if (!manifest.isArray()) {
            throw new NsfwModelException(source + " has no weightsManifest array");
        }
        int group = 0;
        for (JsonNode g : manifest) {
            group++;
            List<String> paths = new ArrayList<>();
            for (JsonNode p : array(source, g, "paths")) {
                paths.add(p.asText());
            }
            byte[] data = concat(source, paths, shards);
            ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            for (JsonNode spec : array(source, g, "weights")) {
                Weight w = decode(source, spec, buf, paths);
                if (weights.put(w.name(), w) != null) {
                    throw new NsfwModelException(source + ": weight '" + w.name() + "' appears twice in the manifest");
                }
            }
            if (buf.hasRemaining()) {
                throw new NsfwModelException(source + ": weights group " + group + " " + paths + " holds " + data.length
                        + " bytes but its manifest describes only " + buf.position() + " (wrong or damaged weight file)");
            }
        }
        return weights;
    }

    private static byte[] concat(String source, List<String> paths, ShardReader shards) {
        List<byte[]> parts = new ArrayList<>();
        int total = 0;
        for (String p : paths) {
            byte[] bytes;
            try {
                bytes = shards.read(p);
            } catch (IOException e) {
                throw new NsfwModelException("cannot read weight file '" + p + "' of " + source + ": " + e.getMessage(), e);
            }
            parts.add(bytes);
            total = Math.addExact(total, bytes.length);
        }
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] b : parts) {
            System.arraycopy(b, 0, all, at, b.length);
            at += b.length;
        }
        return all;
    }

    /** One manifest entry, read from the group's buffer at its current position (tfjs-core io_utils decodeWeight). */
    private static Weight decode(String source, JsonNode spec, ByteBuffer buf, List<String> paths) {
        String name = text(source, spec, "name");
        String what = source + ": weight '" + name + "'";
        String dtype = text(source, spec, "dtype");
        if (!dtype.equals("float32")) {
            throw new NsfwModelException(what + " has dtype '" + dtype + "'; only float32 weights are supported");
        }
        JsonNode shapeNode = spec.path("shape");
        if (!shapeNode.isArray()) {
            throw new NsfwModelException(what + " has no shape");
        }
        int[] shape = new int[shapeNode.size()];
        long size = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asInt(-1);
            if (shape[i] < 0) {
                throw new NsfwModelException(what + " has an invalid shape " + shapeNode);
            }
            size *= shape[i];
        }
        if (size > Integer.MAX_VALUE / 4) {
            throw new NsfwModelException(what + " is too large: " + size + " values");
        }
        int n = (int) size;
        float[] values = new float[n];
        JsonNode q = spec.get("quantization");
        if (q == null || q.isNull()) {
            need(what, buf, 4L * n, paths);
            buf.asFloatBuffer().get(values);
            buf.position(buf.position() + 4 * n);
            return new Weight(name, shape, values);
        }
        String qtype = q.path("dtype").asText("");
        switch (qtype) {
            case "uint8", "uint16" -> {
                JsonNode min = q.get("min");
                JsonNode scale = q.get("scale");
                if (min == null || scale == null || !min.isNumber() || !scale.isNumber()) {
                    throw new NsfwModelException(what + " is quantized to " + qtype + " without numeric min and scale: " + q);
                }
                double m = min.doubleValue();
                double s = scale.doubleValue();
                if (qtype.equals("uint8")) {
                    need(what, buf, n, paths);
                    for (int i = 0; i < n; i++) {
                        values[i] = (float) ((buf.get() & 0xFF) * s + m);
                    }
                } else {
                    need(what, buf, 2L * n, paths);
                    for (int i = 0; i < n; i++) {
                        values[i] = (float) ((buf.getShort() & 0xFFFF) * s + m);
                    }
                }
            }
            case "float16" -> {
                need(what, buf, 2L * n, paths);
                for (int i = 0; i < n; i++) {
                    values[i] = Float.float16ToFloat(buf.getShort());
                }
            }
            default -> throw new NsfwModelException(what + " has quantization dtype '" + qtype
                    + "'; supported are uint8, uint16 and float16");
        }
        return new Weight(name, shape, values);
    }

    private static void need(String what, ByteBuffer buf, long bytes, List<String> paths) {
        if (buf.remaining() < bytes) {
            throw new NsfwModelException(what + " needs " + bytes + " bytes at offset " + buf.position() + " but the weight file "
                    + paths + " has only " + buf.limit() + " bytes in all (truncated or damaged)");
        }
    }

    private static JsonNode array(String source, JsonNode node, String field) {
        JsonNode a = node.get(field);
        if (a == null || !a.isArray()) {
            throw new NsfwModelException(source + ": '" + field + "' is missing or not an array");
        }
        return a;
    }

    private static String text(String source, JsonNode node, String field) {
        JsonNode t = node.get(field);
        if (t == null || !t.isTextual()) {
            throw new NsfwModelException(source + ": '" + field + "' is missing or not a string in " + abbreviate(node));
        }
        return t.asText();
    }

    private static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }

    /** The weight {@code layer/name}, checked against the shape the layer needs. */
    Weight weight(Layer layer, String suffix, int... expectedShape) {
        Weight w = weights.get(layer.name() + "/" + suffix);
        if (w == null) {
            throw new NsfwModelException(source + ": " + layer.describe() + " needs weight '" + layer.name() + "/" + suffix
                    + "', which the manifest does not list");
        }
        if (!Arrays.equals(w.shape(), expectedShape)) {
            throw new NsfwModelException(source + ": weight '" + w.name() + "' has shape " + Arrays.toString(w.shape())
                    + " but " + layer.describe() + " needs " + Arrays.toString(expectedShape));
        }
        return w;
    }
}
