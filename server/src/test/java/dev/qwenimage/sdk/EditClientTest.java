package dev.qwenimage.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.qwenimage.support.Pictures;
import dev.qwenimage.support.SharedServer;
import dev.qwenimage.support.TestServer;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link QwenImageClient#edit} against the real service over HTTP, from a file on disk to the edited picture. */
class EditClientTest {
    @RegisterExtension
    static final SharedServer server = new SharedServer(Map.of("QWEN_IMAGE_PREVIEW_STEP_DELAY", "20ms"));

    @TempDir
    Path dir;

    private static QwenImageClient client() {
        return QwenImageClient.builder().baseUrl(server.api().baseUrl()).apiKey(TestServer.KEY)
                .pollInterval(Duration.ofMillis(50), Duration.ofMillis(200)).build();
    }

    @Test
    void anEditOfAFileComesBackAtTheInputsAspectInTheAskedFormatWithProgress() throws Exception {
        Path photo = Files.write(dir.resolve("photo.jpg"), Pictures.jpeg(1600, 900));
        List<TaskResult> updates = new CopyOnWriteArrayList<>();
        try (QwenImageClient client = client()) {
            GeneratedImage edited = client.edit(EditRequest.builder().prompt("make the sky purple").image(photo)
                    .outputFormat(ImageType.PNG).seed(7).build(), Duration.ofSeconds(60), updates::add);

            assertThat(edited.result().status()).isEqualTo(TaskStatus.SUCCEED);
            assertThat(edited.result().seed()).hasValue(7);
            assertThat(edited.image().imageType()).contains(ImageType.PNG);
            BufferedImage out = Pictures.decode(edited.bytes());
            assertThat(out.getWidth()).isEqualTo(1360);
            assertThat(out.getHeight()).isEqualTo(768);
            assertThat(updates).extracting(TaskResult::progressPercent).isSorted().contains(100);

            // the step-by-step helpers work on an edit's task as on any other
            Path saved = client.download(edited.result(), dir.resolve("edited.png"));
            assertThat(Files.readAllBytes(saved)).isEqualTo(edited.bytes());
        }
    }

    @Test
    void whatTheServerRefusesArrivesWithItsReason() {
        try (QwenImageClient client = client()) {
            QwenImageException e = catchThrowableOfType(QwenImageException.class, () -> client.submit(
                    EditRequest.builder().prompt("add a hat").image("not a picture".getBytes()).build()));

            assertThat(e.status()).isEqualTo(400);
            assertThat(e.reason()).isEqualTo("INVALID_IMAGE");
        }
    }
}
