package dev.qwenimage.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.image.JpegEncoder;
import dev.qwenimage.image.Watermark;
import dev.qwenimage.sdk.cli.DurationText;
import dev.qwenimage.safety.NsfwPolicy;
import java.util.Properties;

/**
 * The service's configuration, built once at start-up and immutable afterwards. Sources, weakest
 * first: built-in defaults, the properties file named by {@code QWEN_IMAGE_CONFIG}, environment
 * variables, explicit overrides (command line, tests).
 */
public record ServerConfig(
        int port,
        String host,
        Path dataDir,
        List<String> apiKeys,
        Optional<String> publicUrl,
        Role role,
        Database database,
        List<EngineSpec> engines,
        OptionalInt workers,
        int engineFailures,
        Duration engineCheck,
        int previewSteps,
        Duration previewStepDelay,
        int jpegQuality,
        JpegEncoder.Choice jpegEncoder,
        String watermarkText,
        Watermark.Corner watermarkCorner,
        boolean aigcLabel,
        String aigcProducer,
        boolean nsfw,
        double nsfwThreshold,
        NsfwPolicy.Action nsfwAction,
        Duration urlTtl,
        Optional<String> urlSecret,
        Duration retention,
        Duration lease,
        int maxAttempts,
        int maxPromptLength,
        int maxQueuedPerKey,
        int maxQueued,
        Duration syncTimeout,
        Duration requestTimeout,
        List<String> outboundAllow,
        int webhookAttempts,
        Optional<S3Settings> s3,
        String logLevel,
        String logFormat,
        boolean metrics,
        long minFreeDisk,
        Duration noEngineTimeout,
        String adminToken,
        long submitsPerMinute,
        long imagesPerDay,
        long maxPixels,
        Edit edit,
        Duration drainTimeout) {

    /**
     * The limits of the edit endpoints: the input image's bytes, the request body, the input's
     * pixels (read from its header), and the time fetching an input image's URL may take in all.
     */
    public record Edit(long maxImageBytes, long maxBodyBytes, long maxInputPixels, Duration fetchTimeout, boolean blockNsfwInput) {
        public static final Edit DEFAULTS = new Edit(20_000_000, 28_000_000, 50_000_000, Duration.ofSeconds(10), false);
    }

    /** The shared PostgreSQL store, when configured; empty means the embedded SQLite store. */
    public record Database(String url, String user, String password, int pool) {
        public boolean embedded() {
            return url.isEmpty();
        }

        @Override
        public String toString() {
            return embedded() ? "embedded SQLite" : Redaction.text(url);
        }
    }

    /**
     * The S3-compatible object store the images go to instead of local disk. An empty access key
     * and secret key mean the AWS SDK's default credentials chain.
     */
    public record S3Settings(URI endpoint, String bucket, String region, String accessKey, String secretKey,
                             boolean pathStyle, String prefix, Optional<URI> publicEndpoint, boolean createBucket) {

        public boolean hasStaticCredentials() {
            return !accessKey.isEmpty();
        }

        /** One line for the banner and logs; never shows the secret key or credentials in the endpoints. */
        public String describe() {
            return "S3 bucket " + bucket + (prefix.isEmpty() ? "" : " (keys under " + prefix + ")") + " at " + Redaction.url(endpoint)
                    + publicEndpoint.map(p -> ", links via " + Redaction.url(p)).orElse("");
        }

        @Override
        public String toString() {
            return "S3Settings[endpoint=" + Redaction.url(endpoint) + ", bucket=" + bucket + ", region=" + region + ", accessKey=" + accessKey
                    + ", secretKey=" + (secretKey.isEmpty() ? "" : "***") + ", pathStyle=" + pathStyle + ", prefix=" + prefix
                    + ", publicEndpoint=" + publicEndpoint.map(Redaction::url).orElse("") + ", createBucket=" + createBucket + "]";
        }
    }

    /**
     * Slots of one engine: its own {@code slots=} option, else {@code QWEN_IMAGE_WORKERS}, else the
     * CPU cores for the preview engine (it renders on them) and 1 for a GPU engine (one job at a
     * time keeps the engine's progress and the ETA honest).
     */
    public int slotsFor(EngineSpec engine) {
        if (engine.slots().isPresent()) {
            return engine.slots().getAsInt();
        }
        if (workers.isPresent()) {
            return workers.getAsInt();
        }
        return engine.kind().equals("preview") ? Math.max(1, Runtime.getRuntime().availableProcessors()) : 1;
    }

    /** Whether {@code host} (a QWEN_IMAGE_HOST value) means every interface rather than one address. */
    public static boolean isAllInterfaces(String host) {
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    /**
     * Every setting, as a record prints it, except the secrets: the API keys are counted, the URL
     * secret is shown as set or not (the database password and the S3 secret key hide themselves).
     */
    @Override
    public String toString() {
        java.util.StringJoiner out = new java.util.StringJoiner(", ", "ServerConfig[", "]");
        for (java.lang.reflect.RecordComponent c : ServerConfig.class.getRecordComponents()) {
            Object value;
            try {
                value = switch (c.getName()) {
                    case "apiKeys" -> apiKeys.size() + " key(s)";
                    case "urlSecret" -> urlSecret.isPresent() ? "(set)" : "(generated)";
                    case "adminToken" -> adminToken.isEmpty() ? "(generated)" : "(set)";
                    case "publicUrl" -> publicUrl.map(Redaction::text);
                    default -> c.getAccessor().invoke(this);
                };
            } catch (ReflectiveOperationException e) {
                value = "?";
            }
            out.add(c.getName() + "=" + value);
        }
        return out.toString();
    }

    /** Builds the configuration from the process environment plus {@code overrides} (keyed by env name). */
    public static ServerConfig load(Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>();
        String configFile = firstNonBlank(overrides.get(Setting.CONFIG.env()), env.get(Setting.CONFIG.env()));
        if (configFile != null) {
            values.putAll(readFile(Path.of(configFile)));
        }
        for (Setting s : Setting.ALL) {
            String v = env.get(s.env());
            if (v != null) {
                values.put(s.env(), v);
            }
        }
        for (var e : overrides.entrySet()) {
            if (Setting.byEnv(e.getKey()) == null) {
                throw new ConfigException("unknown setting " + e.getKey() + SettingNames.suggestion(e.getKey()));
            }
            values.put(e.getKey(), e.getValue());
        }
        return fromValues(values);
    }

    /** Defaults plus the given values only; the process environment is not read. */
    public static ServerConfig of(Map<String, String> values) {
        return load(Map.of(), values);
    }

    private static ServerConfig fromValues(Map<String, String> values) {
        Values r = new Values(values);
        List<EngineSpec> engines = EngineSpec.parseAll(Setting.ENGINES.env(), r.string(Setting.ENGINES));
        Role role = r.choice(Setting.ROLE, Role::parse, "all, api or worker");
        String dbUrl = r.string(Setting.DB_URL).strip();
        if (!dbUrl.isEmpty() && !dbUrl.startsWith("jdbc:postgresql:")) {
            throw new ConfigException(Setting.DB_URL.env() + " must be a PostgreSQL JDBC URL such as "
                    + "jdbc:postgresql://db:5432/qwen, got '" + Redaction.text(dbUrl) + "'");
        }
        if (role != Role.ALL && dbUrl.isEmpty()) {
            throw new ConfigException(Setting.ROLE.env() + "=" + role + " runs beside other nodes, which needs a shared store: "
                    + "set " + Setting.DB_URL.env() + " to a PostgreSQL database");
        }
        Optional<S3Settings> s3 = s3(r);
        if (role != Role.ALL && s3.isEmpty()) {
            throw new ConfigException(Setting.ROLE.env() + "=" + role + " runs beside other nodes, which must all reach the "
                    + "same images: set " + Setting.S3_ENDPOINT.env() + " and " + Setting.S3_BUCKET.env()
                    + " to an S3-compatible bucket");
        }
        if (role == Role.API && r.string(Setting.URL_SECRET).isBlank()) {
            throw new ConfigException(Setting.ROLE.env() + "=api runs beside other api nodes, which must sign webhooks and links "
                    + "alike: set " + Setting.URL_SECRET.env() + " to the same secret (at least 16 characters) on every node");
        }
        Database database = new Database(dbUrl, r.string(Setting.DB_USER).strip(), r.string(Setting.DB_PASSWORD),
                r.intIn(Setting.DB_POOL, 1, 1000));
        OptionalInt workers = r.string(Setting.WORKERS).isBlank() ? OptionalInt.empty()
                : OptionalInt.of(r.intIn(Setting.WORKERS, 1, 1024));
        Duration ttl = r.wholeSeconds(Setting.URL_TTL, Duration.ZERO);
        String publicUrl = r.string(Setting.PUBLIC_URL).strip();
        if (!publicUrl.isEmpty() && !publicUrl.matches("https?://[^\\s/?#]+(/[^\\s?#]*)?")) {
            throw new ConfigException(Setting.PUBLIC_URL.env() + " must be an http(s) URL such as https://img.example.com, got '" + Redaction.text(publicUrl) + "'");
        }
        String adminToken = r.string(Setting.ADMIN_TOKEN).strip();
        if (!adminToken.isEmpty() && (adminToken.length() < 16 || adminToken.chars().anyMatch(c -> c <= 0x20 || c == 0x7f))) {
            throw new ConfigException(Setting.ADMIN_TOKEN.env() + " must be at least 16 characters without spaces or control "
                    + "characters (e.g. the output of: openssl rand -base64 24), or empty to have one generated");
        }
        String level = r.string(Setting.LOG_LEVEL).toLowerCase();
        if (!List.of("error", "warn", "info", "debug", "trace").contains(level)) {
            throw new ConfigException(Setting.LOG_LEVEL.env() + " must be one of error, warn, info, debug, trace");
        }
        return new ServerConfig(
                r.intIn(Setting.PORT, 0, 65535),
                r.string(Setting.HOST).strip(),
                Path.of(r.string(Setting.DATA_DIR).strip()).toAbsolutePath().normalize(),
                Arrays.stream(r.string(Setting.API_KEYS).split(",")).map(String::strip).filter(k -> !k.isEmpty()).toList(),
                publicUrl.isEmpty() ? Optional.empty() : Optional.of(publicUrl.replaceAll("/+$", "")),
                role,
                database,
                engines,
                workers,
                r.intIn(Setting.ENGINE_FAILURES, 1, 1000),
                r.duration(Setting.ENGINE_CHECK, Duration.ofSeconds(1)),
                r.intIn(Setting.PREVIEW_STEPS, 1, 1000),
                r.duration(Setting.PREVIEW_STEP_DELAY, Duration.ZERO),
                r.intIn(Setting.JPEG_QUALITY, 1, 100),
                r.choice(Setting.JPEG_ENCODER, JpegEncoder.Choice::parse, "auto, turbojpeg or imageio"),
                r.nonBlank(Setting.WATERMARK_TEXT),
                r.choice(Setting.WATERMARK_CORNER, Watermark.Corner::parse, "top-left, top-right, bottom-left or bottom-right"),
                r.onOff(Setting.AIGC_LABEL),
                r.nonBlank(Setting.AIGC_PRODUCER),
                r.onOff(Setting.NSFW),
                r.fraction(Setting.NSFW_THRESHOLD),
                r.choice(Setting.NSFW_ACTION, NsfwPolicy.Action::parse, "flag, blur or block"),
                ttl,
                Optional.of(r.string(Setting.URL_SECRET)).filter(s -> !s.isBlank()),
                r.duration(Setting.RETENTION, Duration.ofMinutes(1)),
                r.duration(Setting.LEASE, Duration.ofSeconds(1)),
                r.intIn(Setting.MAX_ATTEMPTS, 1, 100),
                r.intIn(Setting.MAX_PROMPT_LENGTH, 1, 100_000),
                r.intIn(Setting.MAX_QUEUED_PER_KEY, 0, Integer.MAX_VALUE),
                r.intIn(Setting.MAX_QUEUED, 0, Integer.MAX_VALUE),
                r.duration(Setting.SYNC_TIMEOUT, Duration.ofSeconds(1)),
                r.duration(Setting.REQUEST_TIMEOUT, Duration.ofSeconds(1)),
                outboundAllow(r),
                r.intIn(Setting.WEBHOOK_ATTEMPTS, 5, 50),
                s3,
                level,
                r.choice(Setting.LOG_FORMAT, f -> {
                    String v = f.strip().toLowerCase(java.util.Locale.ROOT);
                    if (!v.equals("text") && !v.equals("json")) {
                        throw new IllegalArgumentException(v);
                    }
                    return v;
                }, "text or json"),
                r.onOff(Setting.METRICS),
                r.bytes(Setting.MIN_FREE_DISK),
                r.duration(Setting.NO_ENGINE_TIMEOUT, Duration.ZERO),
                adminToken,
                r.intIn(Setting.SUBMITS_PER_MINUTE, 0, 1_000_000_000),
                r.intIn(Setting.IMAGES_PER_DAY, 0, 1_000_000_000),
                r.intIn(Setting.MAX_PIXELS, 0, 1_000_000_000),
                edit(r),
                drainTimeout(r));
    }

    private static Duration drainTimeout(Values r) {
        Duration d = r.duration(Setting.DRAIN_TIMEOUT, Duration.ZERO);
        if (d.compareTo(Duration.ofHours(1)) > 0) {
            throw new ConfigException(Setting.DRAIN_TIMEOUT.env() + " must be at most 1h, got '" + r.string(Setting.DRAIN_TIMEOUT).strip() + "'");
        }
        return d;
    }

    private static Edit edit(Values r) {
        long image = r.bytes(Setting.EDIT_MAX_IMAGE);
        long body = r.bytes(Setting.EDIT_MAX_BODY);
        long pixels = r.intIn(Setting.EDIT_MAX_INPUT_PIXELS, 256, 1_000_000_000);
        if (image < 1024 || image > 1_000_000_000) {
            throw new ConfigException(Setting.EDIT_MAX_IMAGE.env() + " must be between 1KB and 1GB, got " + image + " bytes");
        }
        if (body < image * 4 / 3 + 1024 || body > Integer.MAX_VALUE - 1024) {
            throw new ConfigException(Setting.EDIT_MAX_BODY.env() + " must hold an image of " + Setting.EDIT_MAX_IMAGE.env()
                    + " in base64 (at least " + dev.qwenimage.health.Bytes.human(image * 4 / 3 + 1024) + ") and be under 2 GB, got "
                    + dev.qwenimage.health.Bytes.human(body));
        }
        Duration fetch = r.duration(Setting.EDIT_FETCH_TIMEOUT, Duration.ofMillis(100));
        if (fetch.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new ConfigException(Setting.EDIT_FETCH_TIMEOUT.env() + " must be at most 60s (the submit waits for the fetch), got '"
                    + r.string(Setting.EDIT_FETCH_TIMEOUT).strip() + "'");
        }
        boolean block = r.choice(Setting.NSFW_INPUT, v -> switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "off" -> false;
            case "block" -> true;
            default -> throw new IllegalArgumentException(v);
        }, "off or block");
        return new Edit(image, body, pixels, fetch, block);
    }

    private static final String HTTP_URL = "https?://[^\\s/?#]+(/[^\\s?#]*)?";

    private static Optional<S3Settings> s3(Values r) {
        String endpoint = r.string(Setting.S3_ENDPOINT).strip();
        String bucket = r.string(Setting.S3_BUCKET).strip();
        if (endpoint.isEmpty()) {
            if (!bucket.isEmpty()) {
                throw new ConfigException(Setting.S3_BUCKET.env() + " is set but " + Setting.S3_ENDPOINT.env()
                        + " is empty: set the object store's URL (for AWS S3 e.g. https://s3.us-east-1.amazonaws.com), "
                        + "or clear " + Setting.S3_BUCKET.env() + " to keep the images on local disk");
            }
            return Optional.empty();
        }
        URI endpointUri = httpUrl(Setting.S3_ENDPOINT, endpoint, "http://minio:9000");
        if (bucket.isEmpty()) {
            throw new ConfigException(Setting.S3_BUCKET.env() + " must name the bucket for the images when "
                    + Setting.S3_ENDPOINT.env() + " is set");
        }
        if (!bucket.matches("[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")) {
            throw new ConfigException(Setting.S3_BUCKET.env() + " must be a bucket name (3 to 255 letters, digits, '.', '-' or '_'), got '" + bucket + "'");
        }
        String accessKey = r.string(Setting.S3_ACCESS_KEY).strip();
        String secretKey = r.string(Setting.S3_SECRET_KEY).strip();
        if (accessKey.isEmpty() != secretKey.isEmpty()) {
            throw new ConfigException("set both " + Setting.S3_ACCESS_KEY.env() + " and " + Setting.S3_SECRET_KEY.env()
                    + ", or neither (then the AWS SDK's default credentials chain is used)");
        }
        String prefix = r.string(Setting.S3_PREFIX).strip();
        if (prefix.startsWith("/") || prefix.length() > 512 || prefix.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new ConfigException(Setting.S3_PREFIX.env() + " must not start with '/' (S3 keys have no leading slash) "
                    + "and must be at most 512 printable characters, got '" + prefix + "'");
        }
        String publicEndpoint = r.string(Setting.S3_PUBLIC_ENDPOINT).strip();
        return Optional.of(new S3Settings(
                endpointUri,
                bucket,
                r.nonBlank(Setting.S3_REGION),
                accessKey,
                secretKey,
                r.onOff(Setting.S3_PATH_STYLE),
                prefix,
                publicEndpoint.isEmpty() ? Optional.empty()
                        : Optional.of(httpUrl(Setting.S3_PUBLIC_ENDPOINT, publicEndpoint, "https://s3.example.com")),
                r.onOff(Setting.S3_CREATE_BUCKET)));
    }

    private static URI httpUrl(Setting s, String value, String example) {
        if (!value.matches(HTTP_URL)) {
            throw new ConfigException(s.env() + " must be an http(s) URL such as " + example + ", got '" + Redaction.text(value) + "'");
        }
        try {
            return new URI(value.replaceAll("/+$", ""));
        } catch (URISyntaxException e) {
            throw new ConfigException(s.env() + " is not a valid URL: " + Redaction.text(e.getMessage()));
        }
    }

    /** QWEN_IMAGE_OUTBOUND_ALLOW and its deprecated alias QWEN_IMAGE_WEBHOOK_ALLOW, merged (each entry once). */
    private static List<String> outboundAllow(Values r) {
        java.util.LinkedHashSet<String> merged = new java.util.LinkedHashSet<>();
        for (Setting s : List.of(Setting.OUTBOUND_ALLOW, Setting.WEBHOOK_ALLOW)) {
            List<String> entries = Arrays.stream(r.string(s).split(",")).map(String::strip).filter(e -> !e.isEmpty()).toList();
            try {
                new dev.qwenimage.outbound.OutboundGuard(entries, s.env());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.env() + ": " + e.getMessage());
            }
            merged.addAll(entries);
        }
        return List.copyOf(merged);
    }

    private static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (java.io.Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : Files.isDirectory(file) ? "it is a directory" : e.getMessage();
            throw new ConfigException("cannot read the config file " + file + " (" + why + "); check " + Setting.CONFIG.env()
                    + " or --config");
        }
        Map<String, String> out = new HashMap<>();
        for (String key : p.stringPropertyNames()) {
            if (Setting.byEnv(key) == null) {
                throw new ConfigException("unknown setting " + key + " in " + file + SettingNames.suggestion(key));
            }
            out.put(key, p.getProperty(key));
        }
        return out;
    }

    private static String firstNonBlank(String a, String b) {
        if (a != null && !a.isBlank()) {
            return a;
        }
        return b != null && !b.isBlank() ? b : null;
    }

    private record Values(Map<String, String> values) {
        String string(Setting s) {
            return values.getOrDefault(s.env(), s.defaultValue());
        }

        String nonBlank(Setting s) {
            String v = string(s).strip();
            if (v.isEmpty()) {
                throw new ConfigException(s.env() + " must not be empty");
            }
            return v;
        }

        double fraction(Setting s) {
            String v = string(s).strip();
            try {
                double d = Double.parseDouble(v);
                if (d < 0 || d > 1 || Double.isNaN(d)) {
                    throw new ConfigException(s.env() + " must be between 0 and 1, got " + v);
                }
                return d;
            } catch (NumberFormatException e) {
                throw new ConfigException(s.env() + " must be a number between 0 and 1, got '" + v + "'");
            }
        }

        boolean onOff(Setting s) {
            return switch (string(s).strip().toLowerCase(java.util.Locale.ROOT)) {
                case "on", "true", "yes", "1" -> true;
                case "off", "false", "no", "0" -> false;
                default -> throw new ConfigException(s.env() + " must be on or off, got '" + string(s) + "'");
            };
        }

        <T> T choice(Setting s, java.util.function.Function<String, T> parse, String accepted) {
            try {
                return parse.apply(string(s));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.env() + " must be one of " + accepted + ", got '" + string(s) + "'");
            }
        }

        int intIn(Setting s, int min, int max) {
            String v = string(s).strip();
            try {
                int n = Integer.parseInt(v);
                if (n < min || n > max) {
                    throw new ConfigException(s.env() + " must be between " + min + " and " + max + ", got " + n);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new ConfigException(s.env() + " must be a whole number, got '" + v + "'");
            }
        }

        long bytes(Setting s) {
            try {
                return dev.qwenimage.health.Bytes.parse(string(s));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.env() + ": " + e.getMessage());
            }
        }

        Duration duration(Setting s, Duration min) {
            String v = string(s).strip();
            Duration d;
            try {
                d = Durations.parse(v);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(s.env() + ": " + e.getMessage());
            }
            if (d.compareTo(min) < 0) {
                throw new ConfigException(s.env() + " must be at least " + Durations.human(min) + ", got '" + v + "'"
                        + (DurationText.isBareNumber(v) ? " (a bare number means seconds: write e.g. " + v + "m, " + v + "h or "
                        + v + "d)" : ""));
            }
            return d;
        }

        /** A duration in whole seconds (the wire carries seconds), at least {@code min}. */
        Duration wholeSeconds(Setting s, Duration min) {
            Duration d = duration(s, min);
            if (d.toMillis() % 1000 != 0) {
                throw new ConfigException(s.env() + " must be whole seconds, got '" + string(s).strip() + "'");
            }
            return d;
        }
    }
}
