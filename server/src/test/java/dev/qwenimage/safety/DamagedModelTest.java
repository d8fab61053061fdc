package dev.qwenimage.safety;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged or unsupported model fails at load time with a message that names the culprit. */
class DamagedModelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path modelJson;
    private Path shard;

    @BeforeEach
    void copyTheBundledModel() throws IOException {
        modelJson = dir.resolve("model.json");
        shard = dir.resolve("group1-shard1of1.bin");
        Files.write(modelJson, resource("model.json"));
        Files.write(shard, resource("group1-shard1of1.bin"));
    }

    @Test
    void theUndamagedCopyLoads() {
        NsfwModel.load(modelJson);
    }

    @Test
    void truncatedWeightFile() throws IOException {
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, Arrays.copyOf(bytes, bytes.length - 1000));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("group1-shard1of1.bin").hasMessageContaining("truncated or damaged");
    }

    @Test
    void weightFileLongerThanTheManifestSays() throws IOException {
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, Arrays.copyOf(bytes, bytes.length + 4));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("holds " + (bytes.length + 4) + " bytes but its manifest describes only " + bytes.length);
    }

    @Test
    void missingWeightFile() throws IOException {
        Files.delete(shard);
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("cannot read weight file 'group1-shard1of1.bin'").hasMessageContaining("does not exist");
    }

    @Test
    void missingModelFile() {
        assertThatThrownBy(() -> NsfwModel.load(dir.resolve("nothing.json"))).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("nothing.json does not exist");
    }

    @Test
    void modelJsonThatIsNotJson() throws IOException {
        byte[] bytes = Files.readAllBytes(modelJson);
        Files.write(modelJson, Arrays.copyOf(bytes, bytes.length / 2)); // cut in the middle
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("model.json is not valid JSON");
    }

    @Test
    void unknownLayerType() throws IOException {
        edit(root -> layer(root, "average_pooling2d_1").put("class_name", "MaxPooling2D"));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("layer 'average_pooling2d_1' (MaxPooling2D): layer type 'MaxPooling2D' is not supported");
    }

    @Test
    void unsupportedLayerSetting() throws IOException {
        edit(root -> ((ObjectNode) layer(root, "Conv1").get("config")).putArray("dilation_rate").add(2).add(2));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("layer 'Conv1' (Conv2D): dilation_rate [2, 2] is not supported");
    }

    @Test
    void unknownQuantization() throws IOException {
        edit(root -> ((ObjectNode) weight(root, "Conv1/kernel").get("quantization")).put("dtype", "int4"));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("weight 'Conv1/kernel' has quantization dtype 'int4'");
    }

    @Test
    void quantizationWithoutScale() throws IOException {
        edit(root -> ((ObjectNode) weight(root, "dense_3/bias").get("quantization")).remove("scale"));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("weight 'dense_3/bias' is quantized to uint8 without numeric min and scale");
    }

    @Test
    void weightOfTheWrongShape() throws IOException {
        // the same number of values, arranged differently: only the shape check can notice
        edit(root -> ((ObjectNode) weight(root, "Conv1/kernel")).putArray("shape").add(3).add(3).add(32).add(3));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("weight 'Conv1/kernel' has shape [3, 3, 32, 3] but layer 'Conv1' (Conv2D) needs [3, 3, 3, 32]");
    }

    @Test
    void missingWeight() throws IOException {
        edit(root -> weight(root, "bn_Conv1/moving_mean").put("name", "bn_Conv1/moving_average"));
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("layer 'bn_Conv1' (BatchNormalization) needs weight 'bn_Conv1/moving_mean'");
    }

    @Test
    void aGraphModelIsNotALayersModel() throws IOException {
        Files.writeString(modelJson, "{\"format\": \"graph-model\", \"modelTopology\": {\"node\": []}, \"weightsManifest\": []}",
                StandardCharsets.UTF_8);
        assertThatThrownBy(() -> NsfwModel.load(modelJson)).isInstanceOf(NsfwModelException.class)
                .hasMessageContaining("not a TF.js layers model (it is a graph model)");
    }

    private void edit(Consumer<ObjectNode> change) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(modelJson.toFile());
        change.accept(root);
        JSON.writeValue(modelJson.toFile(), root);
    }

    private static ObjectNode layer(ObjectNode root, String name) {
        for (var l : root.path("modelTopology").path("model_config").path("config").path("layers")) {
            if (l.path("name").asText().equals(name)) {
                return (ObjectNode) l;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static ObjectNode weight(ObjectNode root, String name) {
        for (var w : root.path("weightsManifest").get(0).path("weights")) {
            if (w.path("name").asText().equals(name)) {
                return (ObjectNode) w;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static byte[] resource(String file) throws IOException {
        try (InputStream in = DamagedModelTest.class.getResourceAsStream("/nsfw/mobilenet_v2/" + file)) {
            return in.readAllBytes();
        }
    }
}
