package dev.qwenimage.engine.ppio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.Engines;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.InputImage;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.engine.ppio.FakePpioCloud.Failure;
import dev.qwenimage.engine.ppio.FakePpioCloud.Plan;
import dev.qwenimage.support.Pictures;
import java.awt.image.BufferedImage;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ppio engine's edits against the fake cloud's {@code POST /v3/async/qwen-image-edit}, failure modes included. */
class PpioEditTest {
    private static final byte[] INPUT = Pictures.png(1024, 768);

    private final FakePpioCloud cloud = new FakePpioCloud();

    @AfterEach
    void stopCloud() {
        cloud.close();
    }

    private Engine engine(String options) {
        EngineSpec spec = EngineSpec.parseAll("QWEN_IMAGE_ENGINES", "ppio:" + cloud.url() + "?key=" + FakePpioCloud.KEY
                + "&poll=20ms" + options).getFirst();
        return Engines.create(spec, ServerConfig.of(Map.of()));
    }

    private static GenerationRequest edit(long seed) {
        return new GenerationRequest("t-1", "replace the sign's text with 欢迎", "blurry", 1024, 768, seed, 20)
                .editing(new InputImage(INPUT, 1024, 768));
    }

    private GenerationResult run(Engine engine, GenerationRequest request) {
        return engine.generate(request, ProgressSink.NONE, new Cancellation());
    }

    @Test
    void theCloudTakesBothKinds() {
        assertThat(engine("").kinds()).containsExactlyInAnyOrder(TaskKind.TEXT_TO_IMAGE, TaskKind.EDIT);
    }

    @Test
    void anEditIsSubmittedToTheEditEndpointWithTheInputAsBase64AndItsImageIsReturned() {
        cloud.plan(Plan.succeedAfter(20, 70));

        GenerationResult result = run(engine(""), edit(42));

        assertThat(result).isInstanceOfSatisfying(GenerationResult.Success.class, ok -> {
            BufferedImage image = ok.image();
            assertThat(image.getWidth()).isEqualTo(1024);
            assertThat(image.getHeight()).isEqualTo(768);
            // the fake cloud mirrors its input: the red left half is now on the right
            int right = image.getRGB(900, 400);
            assertThat((right >> 16) & 0xff).isGreaterThan(right & 0xff);
        });
        FakePpioCloud.Submit submit = cloud.submits().getFirst();
        assertThat(submit.path()).isEqualTo("/v3/async/qwen-image-edit");
        assertThat(submit.authorization()).isEqualTo("Bearer " + FakePpioCloud.KEY);
        assertThat(submit.contentType()).startsWith("application/json");
        JsonNode body = submit.json();
        // exactly the documented fields: no size (the input sets it), negative prompt or steps
        assertThat(fieldNames(body)).containsExactly("prompt", "image", "seed", "output_format");
        assertThat(body.get("prompt").asText()).isEqualTo("replace the sign's text with 欢迎");
        assertThat(Base64.getDecoder().decode(body.get("image").asText())).isEqualTo(INPUT);
        assertThat(body.get("seed").asLong()).isEqualTo(42);
        assertThat(body.get("output_format").asText()).isEqualTo("png");
        assertThat(cloud.imageFetches()).singleElement().satisfies(f -> {
            assertThat(f.path()).endsWith(".png");
            assertThat(f.authorization()).isNull();
        });
    }

    @Test
    void aSeedBeyondTheCloudsRangeIsSentAsItsLow31Bits() {
        run(engine(""), edit((1L << 40) + 5));
        run(engine(""), edit(2147483647L));

        assertThat(cloud.submits()).extracting(s -> s.json().get("seed").asLong()).containsExactly(5L, 2147483647L);
    }

    @Test
    void anEditTheCloudRefusesIsAPermanentFailureWithTheCloudsMessage() {
        cloud.failSubmits(1, Failure.contract(400, "INVALID_IMAGE", "the image is smaller than 256 pixels on a side"));

        GenerationResult result = run(engine(""), edit(1));

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .contains("POST /v3/async/qwen-image-edit answered HTTP 400: INVALID_IMAGE: the image is smaller than 256 pixels on a side"));
        assertThat(cloud.tasksCreated()).isZero();
    }

    @Test
    void serverErrorsThatOutlastRetryForAreATransientFailureAndABriefOneIsRetried() {
        cloud.failSubmits(2, Failure.contract(503, "SERVICE_UNAVAILABLE", "overloaded"));
        GenerationResult retried = run(engine(""), edit(1));

        cloud.failSubmits(1000, Failure.plain(502, "<html>502 Bad Gateway</html>"));
        GenerationResult gaveUp = run(engine("&retry_for=200ms"), edit(1));

        assertThat(retried).isInstanceOf(GenerationResult.Success.class);
        assertThat(gaveUp).isInstanceOfSatisfying(GenerationResult.TransientFailure.class, f -> assertThat(f.reason())
                .contains("POST /v3/async/qwen-image-edit answered HTTP 502"));
    }

    @Test
    void anEditTheCloudFailsIsAPermanentFailureWithItsReason() {
        cloud.plan(Plan.failAfter("the input image could not be processed", 30));

        GenerationResult result = run(engine(""), edit(1));

        assertThat(result).isInstanceOfSatisfying(GenerationResult.PermanentFailure.class, f -> assertThat(f.reason())
                .contains("the cloud failed the task: the input image could not be processed"));
    }

    private static List<String> fieldNames(JsonNode body) {
        List<String> out = new java.util.ArrayList<>();
        body.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
