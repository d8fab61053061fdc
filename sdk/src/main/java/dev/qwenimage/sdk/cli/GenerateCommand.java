package dev.qwenimage.sdk.cli;

import dev.qwenimage.sdk.GenerateRequest;
import dev.qwenimage.sdk.ImageType;
import dev.qwenimage.sdk.QwenImageClient;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qwen-image generate "prompt"}: makes one image on a Qwen-Image server (this one or the
 * cloud API), shows its progress and saves it. Exit codes: {@value #OK} saved, {@value #TASK_FAILED}
 * the task failed, {@value #USAGE} a usage or configuration error (bad option, no or wrong key,
 * a request the server refuses), {@value #UNAVAILABLE} a network or server error or a timeout.
 */
@Command(name = "generate", sortOptions = false,
        description = {"Generates one image and saves it, showing the task's progress.",
                "Works against this server or any server of the same API, e.g.", "https://api.ppio.com."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the image was saved", "1:the task failed (its reason is printed)",
                "2:usage or configuration error (bad option, missing or refused API key, request refused)",
                "3:network or server error, or the timeout passed"})
public final class GenerateCommand extends ImageCommand {
    @Parameters(index = "0", paramLabel = "PROMPT", description = "What to draw.")
    String prompt;

    @Option(names = "--size", paramLabel = "W*H", order = 3,
            description = "Image size, e.g. 1328*1328 (default: the server's, 1024*1024).")
    String size;

    @Option(names = "--type", paramLabel = "jpeg|png|webp", order = 7, description = "Image format (default: the server's, jpeg).")
    String type;

    private GenerateRequest request;

    /** The command as the launcher runs it: real environment, current folder, terminal detected. */
    public GenerateCommand() {
        this(System.getenv(), Path.of(""), null);
    }

    /**
     * The command with its surroundings given, for embedding and tests.
     *
     * @param env      the environment variables to read defaults from
     * @param workDir  the folder relative paths ({@code ./data/api-key}, the default output) start from
     * @param terminal whether the output is a terminal (a bar redrawn in place), or null to detect it
     */
    public GenerateCommand(Map<String, String> env, Path workDir, Boolean terminal) {
        super(env, workDir, terminal);
    }

    @Override
    void prepare() {
        if (prompt == null || prompt.isBlank()) {
            throw new IllegalArgumentException("the prompt must not be empty");
        }
        GenerateRequest.Builder b = GenerateRequest.builder(prompt);
        if (size != null) {
            b.size(size);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (negative != null) {
            b.negativePrompt(negative);
        }
        if (watermark != null) {
            b.watermark(watermark);
        }
        if (type != null) {
            b.responseImageType(ImageType.fromWireName(type).orElseThrow(() ->
                    new IllegalArgumentException("--type must be jpeg, png or webp; got \"" + type + "\"")));
        }
        request = b.build();
    }

    @Override
    String submit(QwenImageClient client) {
        return client.submit(request);
    }

    @Override
    String describe(Path file, String imageType) {
        return request.size().map(s -> s + " ").orElse("") + imageType;
    }
}
