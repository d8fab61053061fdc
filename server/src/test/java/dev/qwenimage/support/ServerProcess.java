package dev.qwenimage.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service as a separate operating-system process, started with {@code qwen-image serve} exactly
 * as a user would, so tests can kill it abruptly (SIGKILL) and start it again.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening\\s+(http://\\S+)");
    /** The banner's last section (api nodes, worker nodes); once it is printed, the whole banner has been read. */
    private static final List<String> BANNER_END = List.of("Try it:", "Worker ready: it takes tasks from the shared queue.");

    private final Process process;
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<String> url = new CompletableFuture<>();

    private ServerProcess(Process process) {
        this.process = process;
        Thread.ofPlatform().daemon(true).start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                String listening = null;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        listening = m.group(1);
                    }
                    if (listening != null && BANNER_END.contains(line.strip())) {
                        url.complete(listening);
                    }
                }
            } catch (IOException ignored) {
                // the process was killed
            }
            url.completeExceptionally(new IllegalStateException("server exited before it was ready:\n" + String.join("\n", output)));
        });
    }

    public static ServerProcess start(Path dataDir, Map<String, String> env) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Djava.awt.headless=true", "-Xmx512m", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.qwenimage.cli.Main", "serve");
        pb.environment().keySet().removeIf(k -> k.startsWith("QWEN_IMAGE_"));
        pb.environment().put("QWEN_IMAGE_PORT", "0");
        pb.environment().put("QWEN_IMAGE_HOST", "127.0.0.1");
        pb.environment().put("QWEN_IMAGE_DATA_DIR", dataDir.toString());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        try {
            return new ServerProcess(pb.start());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The base URL from the banner, once the service is ready. */
    public String awaitReady() {
        try {
            return url.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("server did not start: " + e.getMessage() + "\n" + String.join("\n", output), e);
        }
    }

    public List<String> output() {
        synchronized (output) {
            return List.copyOf(output);
        }
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
