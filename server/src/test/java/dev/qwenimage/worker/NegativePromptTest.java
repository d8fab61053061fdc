package dev.qwenimage.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.qwenimage.QwenImageServer;
import dev.qwenimage.config.ServerConfig;
import dev.qwenimage.support.Api;
import dev.qwenimage.support.ScriptedEngine;
import dev.qwenimage.support.TestServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NegativePromptTest {
    @TempDir
    Path dataDir;

    @Test
    void theNegativePromptAndSeedReachTheEngine() {
        ScriptedEngine engine = new ScriptedEngine();
        try (QwenImageServer server = QwenImageServer.start(ServerConfig.of(Map.of("QWEN_IMAGE_PORT", "0",
                "QWEN_IMAGE_HOST", "127.0.0.1", "QWEN_IMAGE_DATA_DIR", dataDir.toString(),
                "QWEN_IMAGE_API_KEYS", TestServer.KEY)), Clock.systemUTC(), engine)) {
            Api api = new Api(server.localUrl(), TestServer.KEY);
            api.awaitFinished(api.submitOk("{\"prompt\": \"a castle\", \"negative_prompt\": \" blurry, low quality \", "
                    + "\"seed\": 99, \"size\": \"256*256\"}"), Duration.ofSeconds(30));
            assertThat(engine.requests().getFirst().negativePrompt()).isEqualTo("blurry, low quality");
            assertThat(engine.requests().getFirst().seed()).isEqualTo(99);
        }
    }
}
