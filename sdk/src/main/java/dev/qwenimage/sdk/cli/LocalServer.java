package dev.qwenimage.sdk.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The server a user starts in this folder with {@code ./qwen-image}: the settings it would read
 * for its port, host and data directory, from the environment, else from the
 * {@code QWEN_IMAGE_CONFIG} file, else the server's defaults. The client commands (generate, and
 * the server's admin commands) find the local server and its files with it.
 */
public record LocalServer(Map<String, String> env, Map<String, String> file, String fileName) {
    public static final String DEFAULT_URL = "http://localhost:8080";

    /** A value and where it came from (a variable, the config file, a default), for messages. */
    public record Located(String value, String source) {
    }

    public static LocalServer of(Map<String, String> env, Path workDir) {
        String name = env.getOrDefault("QWEN_IMAGE_CONFIG", "").strip();
        Map<String, String> file = new HashMap<>();
        if (!name.isEmpty()) {
            Properties p = new Properties();
            try (var in = Files.newBufferedReader(workDir.resolve(name), StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the server's config file " + name + " (QWEN_IMAGE_CONFIG): "
                        + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> file.put(k, p.getProperty(k)));
        }
        return new LocalServer(env, Map.copyOf(file), name);
    }

    private String get(String setting) {
        String v = env.get(setting);
        if (v == null || v.isBlank()) {
            v = file.get(setting);
        }
        return v == null ? "" : v.strip();
    }

    /** Where {@code setting}'s value came from: its variable, or the config file. */
    private String source(String setting) {
        String v = env.get(setting);
        return v != null && !v.isBlank() ? setting : setting + " in " + fileName;
    }

    /**
     * The local server's URL, from its port and host; {@code option} and {@code variable} are what
     * the caller's user sets instead, named in the messages. {@link IllegalArgumentException} when
     * the port is 0 (picked at start, so it cannot be known here).
     */
    public Located url(String option, String variable) {
        String port = get("QWEN_IMAGE_PORT");
        String host = get("QWEN_IMAGE_HOST");
        if (port.equals("0")) {
            throw new IllegalArgumentException("QWEN_IMAGE_PORT=0 lets the server pick a free port, so the server cannot be "
                    + "found by it: pass " + option + " (the server's banner prints its URL) or set " + variable);
        }
        boolean anyHost = host.isEmpty() || host.equals("0.0.0.0") || host.equals("::");
        if (port.isEmpty() && anyHost) {
            return new Located(DEFAULT_URL, "the default, as neither " + variable + " nor QWEN_IMAGE_PORT is set");
        }
        String h = anyHost ? "localhost" : host.contains(":") ? "[" + host + "]" : host;
        return new Located("http://" + h + ":" + (port.isEmpty() ? "8080" : port),
                port.isEmpty() ? source("QWEN_IMAGE_HOST") : source("QWEN_IMAGE_PORT"));
    }

    /** The data directory as set ({@code QWEN_IMAGE_DATA_DIR} or the config file), or empty for the default. */
    public String dataDirSetting() {
        return get("QWEN_IMAGE_DATA_DIR");
    }

    /** Where the data directory setting came from, or "the default data directory". */
    public String dataDirSource() {
        return dataDirSetting().isEmpty() ? "the default data directory" : source("QWEN_IMAGE_DATA_DIR");
    }

    /** The file {@code name} in the server's data directory, relative to the folder it starts in. */
    public Path dataFile(String name) {
        String dir = dataDirSetting();
        return Path.of(dir.isEmpty() ? "data" : dir).resolve(name);
    }
}
