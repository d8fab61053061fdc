package dev.qwenimage.sdk.cli;

import dev.qwenimage.sdk.EditImage;
import dev.qwenimage.sdk.EditRequest;
import dev.qwenimage.sdk.ImageType;
import dev.qwenimage.sdk.QwenImageClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qwen-image edit photo.jpg "make the sky purple"}: edits one picture with Qwen-Image-Edit
 * on a server of the API ({@code POST /v3/async/qwen-image-edit}), shows its progress and saves
 * the result, as {@link GenerateCommand} does for a prompt. The picture is a file, sent in the
 * request, or an http(s) URL, which the server fetches. The output keeps the input's aspect ratio.
 */
@Command(name = "edit", sortOptions = false,
        description = {"Edits one picture as the prompt says and saves the result, showing the task's progress.",
                "The output keeps the picture's aspect ratio at about one megapixel."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the image was saved", "1:the task failed (its reason is printed)",
                "2:usage or configuration error (bad option, no such file, missing or refused API key, request refused)",
                "3:network or server error, or the timeout passed"})
public final class EditCommand extends ImageCommand {
    @Parameters(index = "0", paramLabel = "IMAGE",
            description = "The picture to edit: a file (JPEG, PNG or WebP) or an http(s) URL the server fetches.")
    String image;

    @Parameters(index = "1", paramLabel = "PROMPT", description = "What to change, e.g. \"make the sky purple\".")
    String prompt;

    @Option(names = {"--format", "--type"}, paramLabel = "jpeg|png|webp", order = 7,
            description = "Image format (default: the extension of -o's file name, if it is jpg, jpeg, png or webp; "
                    + "else the server's, jpeg).")
    String format;

    private EditRequest request;

    /** The command as the launcher runs it: real environment, current folder, terminal detected. */
    public EditCommand() {
        this(System.getenv(), Path.of(""), null);
    }

    /**
     * The command with its surroundings given, for embedding and tests.
     *
     * @param env      the environment variables to read defaults from
     * @param workDir  the folder relative paths (the input, {@code ./data/api-key}, the default output) start from
     * @param terminal whether the output is a terminal (a bar redrawn in place), or null to detect it
     */
    public EditCommand(Map<String, String> env, Path workDir, Boolean terminal) {
        super(env, workDir, terminal);
    }

    @Override
    void prepare() {
        if (prompt == null || prompt.isBlank()) {
            throw new IllegalArgumentException("the prompt must not be empty: say what to change, e.g. \"make the sky purple\"");
        }
        EditRequest.Builder b = EditRequest.builder().prompt(prompt).image(input());
        if (seed != null) {
            b.seed(seed);
        }
        if (negative != null) {
            b.negativePrompt(negative);
        }
        if (watermark != null) {
            b.watermark(watermark);
        }
        outputFormat().ifPresent(b::outputFormat);
        request = b.build();
    }

    /** The picture: a URL as it is, else the file's bytes. */
    private EditImage input() {
        String lower = image.strip().toLowerCase(Locale.ROOT);
        if (lower.startsWith("http://") || lower.startsWith("https://")) {
            return EditImage.url(image.strip());
        }
        if (lower.matches("^[a-z][a-z0-9+.-]+://.*")) {
            throw new IllegalArgumentException("the picture is a file or an http(s) URL; got " + image);
        }
        Path file = workDir.resolve(image);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file: " + image + " (the picture to edit: a file or an http(s) URL)");
        }
        return EditImage.file(file);
    }

    /** --format, else the extension of -o's file name, else none (the server's default). */
    private Optional<ImageType> outputFormat() {
        Optional<ImageType> fromName = outputIsFile() ? extension(output) : Optional.empty();
        if (format == null) {
            return fromName;
        }
        ImageType asked = ImageType.fromWireName(format).orElseThrow(() ->
                new IllegalArgumentException("--format must be jpeg, png or webp; got \"" + format + "\""));
        if (fromName.isPresent() && fromName.get() != asked) {
            throw new IllegalArgumentException("--format " + asked + " does not match the output's name " + output
                    + "; name the file ." + asked + " or leave --format out");
        }
        return Optional.of(asked);
    }

    private static Optional<ImageType> extension(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? Optional.empty() : ImageType.fromWireName(name.substring(dot + 1));
    }

    @Override
    String submit(QwenImageClient client) {
        return client.submit(request);
    }

    /** The saved picture's size as its header has it (the server chose it from the input's aspect), and its format. */
    @Override
    String describe(Path file, String imageType) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers != null && readers.hasNext()) {
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    return reader.getWidth(0) + "*" + reader.getHeight(0) + " " + imageType;
                } finally {
                    reader.dispose();
                }
            }
        } catch (IOException | RuntimeException e) {
            // the size is only informative
        }
        return imageType;
    }
}
