package dev.qwenimage.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Drives wrk (Debian package {@code wrk}), a C load generator that costs far less CPU per request
 * than any JVM client, so the server, not the client, is what is measured. Each run is a warm-up
 * followed by a measured run with {@code --latency}.
 */
final class WrkLoad {
    private static final Pattern RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)");
    private static final Pattern SOCKET_ERRORS = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    private final int connections;
    private final Duration warmup;
    private final Duration measure;

    WrkLoad(int connections, Duration warmup, Duration measure) {
        this.connections = connections;
        this.warmup = warmup;
        this.measure = measure;
    }

    static boolean available() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A request: method, path and headers; {@code paths} are cycled through (one per request). */
    record Spec(String method, List<String> paths, Map<String, String> headers, String body) {
    }

    LoadResult run(String name, String baseUrl, Spec spec) throws IOException, InterruptedException {
        Path script = Files.createTempFile("wrk-", ".lua");
        try {
            Files.writeString(script, lua(spec), StandardCharsets.UTF_8);
            wrk(baseUrl, script, warmup);
            String out = wrk(baseUrl, script, measure);
            Matcher rate = RATE.matcher(out);
            if (!rate.find()) {
                throw new IllegalStateException("unexpected wrk output:\n" + out);
            }
            long errors = 0;
            Matcher non2xx = NON_2XX.matcher(out);
            if (non2xx.find()) {
                errors += Long.parseLong(non2xx.group(1));
            }
            Matcher sock = SOCKET_ERRORS.matcher(out);
            if (sock.find()) {
                for (int g = 1; g <= 4; g++) {
                    errors += Long.parseLong(sock.group(g));
                }
            }
            return new LoadResult(name, Double.parseDouble(rate.group(1)), percentile(out, "50%"), percentile(out, "99%"), errors);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /**
     * The same load on several servers at once, one wrk each with this many connections: the
     * summed rate, the mean of their medians and the worst of their 99th percentiles.
     */
    LoadResult runAll(String name, List<String> baseUrls, Spec spec) throws Exception {
        List<java.util.concurrent.Future<LoadResult>> runs = new java.util.ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (String url : baseUrls) {
                runs.add(pool.submit(() -> run(name, url, spec)));
            }
            double rate = 0;
            double p50 = 0;
            double p99 = 0;
            long errors = 0;
            for (var f : runs) {
                LoadResult r = f.get();
                rate += r.throughput();
                p50 += r.p50Millis() / baseUrls.size();
                p99 = Math.max(p99, r.p99Millis());
                errors += r.errors();
            }
            return new LoadResult(name, rate, p50, p99, errors);
        }
    }

    private String wrk(String baseUrl, Path script, Duration d) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("wrk", "-t2", "-c" + connections, "-d" + Math.max(1, d.toSeconds()) + "s",
                "--latency", "-s", script.toString(), baseUrl).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("wrk failed:\n" + out);
        }
        return out;
    }

    private static double percentile(String out, String label) {
        Matcher m = Pattern.compile("^\\s+" + Pattern.quote(label) + "\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE).matcher(out);
        if (!m.find()) {
            return Double.NaN;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }

    private static String lua(Spec spec) {
        String paths = spec.paths().stream().map(WrkLoad::luaString).collect(Collectors.joining(",\n"));
        String headers = spec.headers().entrySet().stream()
                .map(e -> "[" + luaString(e.getKey()) + "] = " + luaString(e.getValue()))
                .collect(Collectors.joining(", "));
        return "local paths = {\n" + paths + "\n}\n"
                + "local headers = {" + headers + "}\n"
                + "local body = " + (spec.body() == null ? "nil" : luaString(spec.body())) + "\n"
                + "local i = 0\n"
                + "request = function()\n"
                + "  i = i + 1\n"
                + "  return wrk.format(" + luaString(spec.method()) + ", paths[(i % #paths) + 1], headers, body)\n"
                + "end\n";
    }

    private static String luaString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
