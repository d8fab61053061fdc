package dev.qwenimage.sdk.cli;

import dev.qwenimage.sdk.ImageType;
import dev.qwenimage.sdk.QwenImageClient;
import dev.qwenimage.sdk.QwenImageException;
import dev.qwenimage.sdk.TaskResult;
import dev.qwenimage.sdk.TaskStatus;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What {@code qwen-image generate} and {@code qwen-image edit} share: finding the server and the
 * key (options, variables, else the local server's own settings), submitting one task, showing its
 * progress, giving up and cancelling at the timeout or on Ctrl-C, and saving the image. Exit codes:
 * {@value #OK} saved, {@value #TASK_FAILED} the task failed, {@value #USAGE} a usage or
 * configuration error (bad option, no or wrong key, a request the server refuses),
 * {@value #UNAVAILABLE} a network or server error or a timeout.
 */
public abstract class ImageCommand implements Callable<Integer> {
    public static final int OK = 0;
    public static final int TASK_FAILED = 1;
    public static final int USAGE = 2;
    public static final int UNAVAILABLE = 3;

    private static final String URL_VARIABLE = "QWEN_IMAGE_URL";
    private static final String KEY_VARIABLE = "QWEN_IMAGE_API_KEY";

    @Spec
    CommandSpec spec;

    @Option(names = "--url", paramLabel = "URL", order = 1,
            description = "Base URL of the API (default: $QWEN_IMAGE_URL, else the local server on port "
                    + "$QWEN_IMAGE_PORT, 8080 when unset).")
    String url;

    @Option(names = "--key", paramLabel = "KEY", order = 2,
            description = "API key (default: $QWEN_IMAGE_API_KEY, else the key the local server writes on its first "
                    + "start: api-key in $QWEN_IMAGE_DATA_DIR, ./data when unset).")
    String key;

    @Option(names = "--seed", paramLabel = "N", order = 4, description = "Random seed, for a repeatable image (-1: random).")
    Long seed;

    @Option(names = "--negative", paramLabel = "TEXT", order = 5, description = "Negative prompt: what to keep out of the image.")
    String negative;

    @Option(names = "--watermark", arity = "0..1", fallbackValue = "true", paramLabel = "true|false", order = 6,
            description = "Add the visible \"AI-generated\" mark.")
    Boolean watermark;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", order = 8,
            description = "Where to save the image (default: <task id>.<type> here; a folder: that name in it).")
    Path output;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", order = 9,
            description = "How long to wait for the image, e.g. 90s, 10m, 1h30m; a bare number means seconds (default: ${DEFAULT-VALUE}). The task is cancelled then.")
    String timeout;

    @Option(names = {"-h", "--help"}, usageHelp = true, order = 10, description = "Show this help and exit.")
    boolean help;

    final Map<String, String> env;
    final Path workDir;
    private final Boolean terminal;

    /**
     * The command with its surroundings given.
     *
     * @param env      the environment variables to read defaults from
     * @param workDir  the folder relative paths ({@code ./data/api-key}, the default output, an input file) start from
     * @param terminal whether the output is a terminal (a bar redrawn in place), or null to detect it
     */
    ImageCommand(Map<String, String> env, Path workDir, Boolean terminal) {
        this.env = Map.copyOf(env);
        this.workDir = workDir;
        this.terminal = terminal;
    }

    /** Checks this command's own arguments and prepares its request; {@link IllegalArgumentException} when one is wrong. */
    abstract void prepare();

    /** Submits the prepared request and returns the task's id. */
    abstract String submit(QwenImageClient client);

    /** What the saved line says in its parentheses before the file's size: e.g. {@code 1328*1328 jpeg}. */
    abstract String describe(Path file, String imageType);

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        String baseUrl;
        Found<String> apiKey;
        Duration limit;
        QwenImageClient.Builder clientSettings;
        Found<String> server;
        try {
            LocalServer local = LocalServer.of(env, workDir);
            server = serverUrl(local);
            baseUrl = server.value();
            apiKey = apiKey(local);
            prepare();
            limit = parseDuration(timeout);
            clientSettings = QwenImageClient.builder().baseUrl(baseUrl).apiKey(apiKey.value())
                    .pollInterval(Duration.ofMillis(500), Duration.ofSeconds(2));
            checkOutput();
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("qwen-image: " + e.getMessage());
            return USAGE;
        }

        try (QwenImageClient client = clientSettings.build()) {
            long start = System.nanoTime();
            String taskId = submit(client);
            out.println("task " + taskId + " submitted to " + baseUrl);
            out.flush();

            ProgressDisplay progress = new ProgressDisplay(out, terminal != null ? terminal : isTerminal());
            Thread cancelOnExit = new Thread(() -> cancelQuietly(client, taskId, err, "interrupted"), "qwen-image-cancel");
            Runtime.getRuntime().addShutdownHook(cancelOnExit);
            TaskResult result;
            try {
                result = client.await(taskId, limit.minusNanos(System.nanoTime() - start), progress::update);
            } catch (QwenImageException e) {
                progress.finish();
                if (e.reason().equals(QwenImageException.TIMEOUT)) {
                    TaskResult last = e.taskResult().orElseThrow();
                    err.println("qwen-image: gave up after " + timeout + ": task " + taskId + " is still " + last.status()
                            + " (" + last.progressPercent() + "%)");
                    cancelQuietly(client, taskId, err, "timed out");
                    return UNAVAILABLE;
                }
                throw e;
            } finally {
                removeHook(cancelOnExit);
            }
            progress.finish();

            if (result.status() == TaskStatus.FAILED) {
                err.println("qwen-image: task " + taskId + " failed: " + (result.reason().isEmpty() ? "no reason given" : result.reason()));
                return TASK_FAILED;
            }
            String imageType = result.firstImage().map(i -> i.type()).orElse(ImageType.JPEG.wireName());
            Path file = target(taskId, imageType);
            client.download(result, workDir.resolve(file));
            out.println("saved " + file + " (" + summary(result, imageType, workDir.resolve(file)) + ")");
            return OK;
        } catch (QwenImageException e) {
            return report(e, err, server, apiKey);
        } catch (UncheckedIOException e) {
            err.println("qwen-image: " + e.getMessage());
            return USAGE;
        }
    }

    private static int report(QwenImageException e, PrintWriter err, Found<String> server, Found<String> key) {
        if (e.reason().equals(QwenImageException.TASK_FAILED)) {
            err.println("qwen-image: task failed: " + e.getMessage());
            return TASK_FAILED;
        }
        String code = e.status() > 0 ? " (" + e.status() + " " + e.reason() + ")" : "";
        if (e.isClientError()) {
            err.println("qwen-image: the server refused the request" + code + ": " + e.getMessage()
                    + (e.status() == 401 ? " (the key came from " + key.source() + ")" : ""));
            return USAGE;
        }
        if (e.reason().equals(QwenImageException.NETWORK_ERROR) && e.status() <= 0) {
            String why = e.getMessage().replaceFirst("^.*\\(" + java.util.regex.Pattern.quote(server.value()) + "[^)]*\\):\\s*", "");
            err.println("qwen-image: no server answers at " + server.value() + " (" + why + "; the URL comes from "
                    + server.source() + "): start one with ./qwen-image, or pass --url or set " + URL_VARIABLE
                    + " to the server's address");
            return UNAVAILABLE;
        }
        String retry = e.retryAfter().map(d -> "; the server asks to retry in " + d.toSeconds() + "s").orElse("");
        err.println("qwen-image: " + e.getMessage() + code + retry);
        return UNAVAILABLE;
    }

    /** A value and where it came from (an option, a variable, a file), for messages. */
    private record Found<T>(T value, String source) {
    }

    /** The server's URL: --url, else $QWEN_IMAGE_URL, else the local server's port and host. */
    private Found<String> serverUrl(LocalServer local) {
        if (url != null && !url.isBlank()) {
            return new Found<>(url.strip(), "--url");
        }
        String fromEnv = env.get(URL_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new Found<>(fromEnv.strip(), URL_VARIABLE);
        }
        LocalServer.Located found = local.url("--url", URL_VARIABLE);
        return new Found<>(found.value(), found.source());
    }

    /** The key: --key, else $QWEN_IMAGE_API_KEY, else the key file the local server wrote. */
    private Found<String> apiKey(LocalServer local) {
        if (key != null && !key.isBlank()) {
            return new Found<>(key.strip(), "--key");
        }
        String fromEnv = env.get(KEY_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return new Found<>(fromEnv.strip(), KEY_VARIABLE);
        }
        Path keyFile = local.dataFile("api-key");
        Path shown = local.dataDirSetting().isEmpty() ? Path.of("data", "api-key") : keyFile;
        if (Files.isRegularFile(workDir.resolve(keyFile))) {
            try {
                String fromFile = Files.readString(workDir.resolve(keyFile), StandardCharsets.UTF_8).strip();
                if (!fromFile.isEmpty()) {
                    return new Found<>(fromFile, shown.toString());
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the API key from " + shown + ": " + e.getMessage());
            }
        }
        throw new IllegalStateException("no API key: pass --key, set " + KEY_VARIABLE + ", or run where " + shown + " is "
                + "(the server writes its key there on its first start when it has no QWEN_IMAGE_API_KEYS)");
    }

    /** Refuses an output that cannot be written before any GPU time is spent on it. */
    private void checkOutput() {
        Path dir = output == null ? workDir.toAbsolutePath()
                : Files.isDirectory(workDir.resolve(output)) ? workDir.resolve(output).toAbsolutePath()
                : workDir.resolve(output).toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot save to " + output + ": the folder " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot save to " + (output == null ? "this folder" : output) + ": " + dir + " is not writable");
        }
    }

    /** Whether {@code -o} names a file (not a folder, not left out). */
    boolean outputIsFile() {
        return output != null && !Files.isDirectory(workDir.resolve(output));
    }

    private Path target(String taskId, String imageType) {
        String name = taskId + "." + imageType;
        if (output == null) {
            return Path.of(name);
        }
        return Files.isDirectory(workDir.resolve(output)) ? output.resolve(name) : output;
    }

    private String summary(TaskResult result, String imageType, Path file) {
        StringBuilder sb = new StringBuilder(describe(file, imageType));
        try {
            sb.append(", ").append(kib(Files.size(file)));
        } catch (IOException e) {
            // the size is only informative
        }
        result.seed().ifPresent(s -> sb.append(", seed ").append(s));
        result.firstImage().flatMap(i -> i.nsfw()).filter(n -> n.flagged())
                .ifPresent(n -> sb.append(String.format(Locale.ROOT, ", flagged NSFW (%.2f)", n.confidence())));
        return sb.toString();
    }

    private static String kib(long bytes) {
        return bytes < 1024 ? bytes + " bytes" : (bytes + 512) / 1024 + " KiB";
    }

    private static void cancelQuietly(QwenImageClient client, String taskId, PrintWriter err, String why) {
        try {
            client.cancel(taskId);
            err.println("qwen-image: " + why + "; cancelled task " + taskId);
        } catch (QwenImageException e) {
            // already finished, or a server without cancel (the cloud API): nothing more to do
        }
        err.flush();
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: it cancels the task
        }
    }

    /** A positive duration as {@link DurationText} reads it ({@code 90s}, {@code 10m}, {@code 1h30m}; a bare number is seconds). */
    static Duration parseDuration(String text) {
        try {
            Duration d = DurationText.parse(text);
            if (!d.isZero()) {
                return d;
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--timeout: " + e.getMessage());
        }
        throw new IllegalArgumentException("--timeout must be longer than 0, e.g. 90s, 10m or 1h; got \"" + text + "\"");
    }

    /**
     * Whether standard output is a terminal. JDK 22 and later return a console even when output
     * is redirected and answer with {@code Console.isTerminal()}; on JDK 21 a console means one.
     */
    static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }
}
