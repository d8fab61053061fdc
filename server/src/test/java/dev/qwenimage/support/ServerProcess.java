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

    private final Thread reader;

    private ServerProcess(Process process) {
        this.process = process;
        reader = Thread.ofPlatform().daemon(true).start(() -> {
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
        return start(dataDir, env, List.of());
    }

    /** {@code qwen-image serve} with extra command-line arguments. */
    public static ServerProcess start(Path dataDir, Map<String, String> env, List<String> serveArgs) {
        List<String> args = new ArrayList<>(List.of("serve"));
        args.addAll(serveArgs);
        ProcessBuilder pb = command(dataDir, env, args);
        pb.redirectErrorStream(true);
        try {
            return new ServerProcess(pb.start());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** How a run of the command line ended: its exit code and what it wrote on stdout and stderr. */
    public record Finished(int exitCode, String out, String err) {
        public List<String> errLines() {
            return err.lines().toList();
        }
    }

    /**
     * Runs {@code qwen-image args...} (e.g. {@code serve} that is expected to fail) to its end, with
     * the environment of {@link #start} plus {@code env}; gives up after 60 seconds.
     */
    public static Finished run(Path dataDir, Map<String, String> env, String... args) {
        ProcessBuilder pb = command(dataDir, env, List.of(args));
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("qwen-image " + String.join(" ", args) + " did not end within 60 s:\n" + out.getNow("")
                        + err.getNow(""));
            }
            return new Finished(p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static ProcessBuilder command(Path dataDir, Map<String, String> env, List<String> args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Djava.awt.headless=true", "-Xmx512m",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.qwenimage.cli.Main"));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("QWEN_IMAGE_"));
        pb.environment().put("QWEN_IMAGE_PORT", "0");
        pb.environment().put("QWEN_IMAGE_HOST", "127.0.0.1");
        pb.environment().put("QWEN_IMAGE_DATA_DIR", dataDir.toString());
        pb.environment().putAll(env);
        return pb;
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
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

    /** The exit code of the ended process (after {@link #close} or {@link #kill}). */
    public int exitCode() {
        return process.exitValue();
    }

    /** The operating system's id of the process (worker ids carry it: host-pid-random). */
    public long pid() {
        return process.pid();
    }

    /** Whether the process still runs. */
    public boolean alive() {
        return process.isAlive();
    }

    /** SIGTERM without waiting: the service drains while the test watches. */
    public void terminate() {
        process.toHandle().destroy();
    }

    /** Waits up to {@code patience} for the process to end; answers its exit code. */
    public int awaitExit(java.time.Duration patience) {
        try {
            if (!process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the process did not end within " + patience + ":\n" + String.join("\n", output()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
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

    /**
     * SIGTERM (what Ctrl-C and orchestrators send): the service stops gracefully. What it prints
     * while stopping is still read ({@link Process#destroy} would close the pipes at once).
     */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.toHandle().destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
