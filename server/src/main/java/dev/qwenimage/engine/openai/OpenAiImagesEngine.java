package dev.qwenimage.engine.openai;

import java.util.OptionalDouble;
import dev.qwenimage.config.ConfigException;
import dev.qwenimage.engine.EngineSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressEstimate;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.http.CallAborter;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Any server with OpenAI's {@code POST /v1/images/generations} (vLLM-Omni, SGLang Diffusion,
 * LocalAI, stable-diffusion.cpp's sd-server): one synchronous call per image that answers
 * {@code {"created", "data": [{"b64_json"}]}} (or a {@code url} to fetch). Such a call reports no
 * steps, so progress is estimated from the elapsed time ({@link ProgressEstimate}); cancelling a
 * task aborts the call (the connection is closed).
 *
 * <p>The standard body carries model, prompt, size ({@code "WxH"}), n and response_format. The
 * diffusion fields that vLLM-Omni and SGLang add to it ({@code negative_prompt},
 * {@code num_inference_steps}, {@code true_cfg_scale}, {@code seed}; vllm-omni
 * {@code vllm_omni/entrypoints/openai/protocol/images.py}, sglang
 * {@code multimodal_gen/runtime/entrypoints/openai/protocol.py}) are sent only when configured,
 * because stricter servers refuse fields they do not know.
 */
public final class OpenAiImagesEngine implements Engine {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TICK = Duration.ofMillis(500);

    /** The non-standard request fields this engine can send, named as vLLM-Omni and SGLang name them. */
    public enum Extra {
        NEGATIVE_PROMPT, NUM_INFERENCE_STEPS, TRUE_CFG_SCALE, SEED;

        public String field() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * Reads the {@code extras} option: {@code none}; {@code vllm}, {@code sglang} or {@code all}
         * for every field; or a comma-separated list of field names.
         */
        public static Set<Extra> parse(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT);
            switch (t) {
                case "", "none" -> {
                    return EnumSet.noneOf(Extra.class);
                }
                case "vllm", "vllm-omni", "sglang", "all" -> {
                    return EnumSet.allOf(Extra.class);
                }
                default -> {
                    EnumSet<Extra> set = EnumSet.noneOf(Extra.class);
                    for (String f : t.split(",")) {
                        String field = f.strip();
                        Optional<Extra> e = java.util.Arrays.stream(values()).filter(x -> x.field().equals(field)).findFirst();
                        set.add(e.orElseThrow(() -> new IllegalArgumentException("unknown field '" + field
                                + "'; use none, vllm, sglang, all or a list of: "
                                + java.util.Arrays.stream(values()).map(Extra::field).collect(Collectors.joining(", ")))));
                    }
                    return set;
                }
            }
        }
    }

    /**
     * @param model          the {@code model} sent, and looked for in {@code GET /v1/models}
     * @param key            bearer key, or empty
     * @param extras         the diffusion fields sent beyond OpenAI's own
     * @param steps          steps when a task names none (sent as num_inference_steps if enabled; else only for estimates)
     * @param trueCfgScale   sent as true_cfg_scale if enabled
     * @param negativePrompt sent as negative_prompt (if enabled) when a task has none
     * @param stepTime       time of one step at 1024x1024, assumed until a run has been measured
     * @param callTimeout    longest a generation call may take
     */
    public record Settings(String model, Optional<String> key, Set<Extra> extras, int steps, double trueCfgScale,
                           String negativePrompt, Duration stepTime, Duration callTimeout) {
        public Settings {
            extras = extras.isEmpty() ? EnumSet.noneOf(Extra.class) : EnumSet.copyOf(extras);
        }

        public static Settings defaults() {
            // " ": Qwen-Image's recommended negative prompt, and what turns true CFG on in diffusers-style pipelines
            return new Settings("Qwen/Qwen-Image", Optional.empty(), Set.of(), 50, 4.0, " ", Duration.ofSeconds(1),
                    Duration.ofMinutes(15));
        }
    }

    private final String name;
    private final EngineHttp http;
    private final Settings settings;
    private final ProgressEstimate estimate;

    /** @param url the API base, e.g. {@code http://gpu3:8091/v1}; a bare {@code http://host:port} gets {@code /v1} */
    public OpenAiImagesEngine(String name, URI url, Settings settings) {
        this.name = name;
        this.settings = settings;
        this.http = new EngineHttp(name, apiBase(url), Duration.ofSeconds(5),
                settings.key().map(k -> Map.of("Authorization", "Bearer " + k)).orElse(Map.of()));
        this.estimate = new ProgressEstimate(settings.stepTime());
    }

    /** The API base: the URL as given when it has a path, else the URL with {@code /v1}. */
    static URI apiBase(URI url) {
        String s = url.toString().replaceAll("/+$", "");
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("/+$", "");
        return URI.create(path.isEmpty() ? s + "/v1" : s);
    }

    /** The engine an entry {@code openai:http://host:8091/v1?...} describes; unknown options are refused. */
    public static OpenAiImagesEngine from(EngineSpec spec) {
        spec.requireOnly(Set.of("model", "key", "extras", "steps", "true_cfg_scale", "negative_prompt", "step_time"));
        OpenAiImagesEngine.Settings d = OpenAiImagesEngine.Settings.defaults();
        Set<OpenAiImagesEngine.Extra> extras;
        try {
            extras = OpenAiImagesEngine.Extra.parse(spec.option("extras", "none"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(spec.where() + ": extras: " + e.getMessage());
        }
        Duration limit = spec.timeLimit();
        return new OpenAiImagesEngine(spec.name(), spec.requireUrl(), new OpenAiImagesEngine.Settings(
                spec.option("model", d.model()),
                spec.option("key"),
                extras,
                spec.intOption("steps", d.steps(), 1, 1000),
                spec.doubleOption("true_cfg_scale", d.trueCfgScale(), 0, 100),
                spec.option("negative_prompt", d.negativePrompt()),
                spec.positiveDurationOption("step_time", d.stepTime()),
                // the call may last as long as the task may; the task's own limit stops it first
                limit.isZero() ? Duration.ofHours(1) : limit.plusSeconds(30)));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "openai (OpenAI-compatible images API at " + http.base() + "), model " + settings.model()
                + (settings.key().isPresent() ? ", with a key" : "")
                + (settings.extras().isEmpty() ? ", standard fields only"
                        : ", also sends " + settings.extras().stream().map(Extra::field).collect(Collectors.joining(", ")))
                + ", " + settings.steps() + " steps";
    }

    @Override
    public int defaultSteps() {
        return settings.steps();
    }

    @Override
    public Duration typicalStepTime() {
        return settings.stepTime();
    }

    ObjectNode requestBody(GenerationRequest request) {
        ObjectNode body = EngineHttp.json().createObjectNode();
        body.put("model", settings.model());
        body.put("prompt", request.prompt());
        body.put("size", request.width() + "x" + request.height());
        body.put("n", 1);
        body.put("response_format", "b64_json");
        Set<Extra> extras = settings.extras();
        String negative = request.negativePrompt().isBlank() ? settings.negativePrompt() : request.negativePrompt();
        if (extras.contains(Extra.NEGATIVE_PROMPT) && !negative.isEmpty()) {
            body.put("negative_prompt", negative);
        }
        if (extras.contains(Extra.NUM_INFERENCE_STEPS)) {
            body.put("num_inference_steps", request.steps());
        }
        if (extras.contains(Extra.TRUE_CFG_SCALE)) {
            body.put("true_cfg_scale", settings.trueCfgScale());
        }
        if (extras.contains(Extra.SEED)) {
            body.put("seed", request.seed());
        }
        return body;
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        CallAborter aborter = CallAborter.on(cancellation);
        long start = System.nanoTime();
        byte[] body;
        try {
            body = EngineHttp.json().writeValueAsBytes(requestBody(request));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render the request body", e);
        }
        try (ProgressEstimate.Ticker ticker = estimate.tick(progress, request.width(), request.height(), request.steps(), start, TICK)) {
            EngineHttp.Response r = http.send(http.request("/images/generations", settings.callTimeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)), aborter);
            if (!r.ok()) {
                throw refused("POST " + path("/images/generations"), r);
            }
            BufferedImage image = image(r);
            ticker.close();
            estimate.record(request.width(), request.height(), request.steps(), Duration.ofNanos(System.nanoTime() - start));
            progress.step(request.steps() * 10, request.steps() * 10);
            return new GenerationResult.Success(image);
        } catch (EngineCallException e) {
            if (cancellation.isCancelled()) {
                return new GenerationResult.Cancelled(cancellation.reason());
            }
            return http.failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new GenerationResult.Cancelled("interrupted");
        }
    }

    /** The first image of the answer: its b64_json, else its url (absolute, relative to the server, or a data: URL). */
    private BufferedImage image(EngineHttp.Response r) throws EngineCallException, InterruptedException {
        JsonNode data = r.json().path("data");
        if (!data.isArray() || data.isEmpty()) {
            throw new EngineCallException(true, "answered without an image (no data[]): " + EngineHttp.abbreviate(r.text()));
        }
        JsonNode first = data.get(0);
        String b64 = first.path("b64_json").asText("");
        if (!b64.isEmpty()) {
            return EngineHttp.decodeImage(base64(b64, "data[0].b64_json"), "data[0].b64_json");
        }
        String url = first.path("url").asText("");
        if (url.isEmpty()) {
            throw new EngineCallException(true, "answered with neither b64_json nor url in data[0]: " + EngineHttp.abbreviate(r.text()));
        }
        if (url.startsWith("data:")) {
            int comma = url.indexOf(',');
            return EngineHttp.decodeImage(base64(comma < 0 ? "" : url.substring(comma + 1), "the data: URL"), "the data: URL");
        }
        URI link;
        try {
            link = http.base().resolve(url);
        } catch (IllegalArgumentException e) {
            throw new EngineCallException(true, "answered with an image url that is not a URL: " + EngineHttp.abbreviate(url));
        }
        EngineHttp.Response image = http.getAbsolute(link, DOWNLOAD_TIMEOUT);
        if (!image.ok()) {
            throw refused("GET " + link, image);
        }
        return EngineHttp.decodeImage(image.body(), "the image at " + link);
    }

    private static byte[] base64(String text, String what) throws EngineCallException {
        try {
            return Base64.getMimeDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new EngineCallException(true, what + " is not valid base64");
        }
    }

    /**
     * The server's own words from an error answer: OpenAI's {@code {"error": {"message", "type",
     * "code"}}}, sd-server's {@code {"error": "..."}}, FastAPI's {@code {"detail": ...}} (vLLM-Omni,
     * SGLang) or vLLM's older {@code {"object": "error", "message"}}; else the raw body.
     */
    static String errorMessage(EngineHttp.Response r) {
        try {
            JsonNode body = EngineHttp.json().readTree(r.body());
            if (body != null && body.isObject()) {
                JsonNode error = body.path("error");
                if (error.isObject() && error.path("message").isTextual()) {
                    String kind = error.path("code").isValueNode() && !error.path("code").isNull() ? error.path("code").asText()
                            : error.path("type").asText("");
                    return EngineHttp.abbreviate(error.get("message").asText() + (kind.isBlank() ? "" : " (" + kind + ")"));
                }
                if (error.isTextual()) {
                    return EngineHttp.abbreviate(error.asText()
                            + (body.path("message").isTextual() ? ": " + body.get("message").asText() : ""));
                }
                JsonNode detail = body.path("detail");
                if (detail.isTextual()) {
                    return EngineHttp.abbreviate(detail.asText());
                }
                if (detail.isArray() && !detail.isEmpty()) {
                    List<String> parts = new ArrayList<>();
                    for (JsonNode d : detail) {
                        List<String> loc = new ArrayList<>();
                        d.path("loc").forEach(l -> loc.add(l.asText()));
                        parts.add((loc.isEmpty() ? "" : String.join(".", loc) + ": ") + d.path("msg").asText(d.toString()));
                    }
                    return EngineHttp.abbreviate(String.join("; ", parts));
                }
                if (body.path("message").isTextual()) {
                    return EngineHttp.abbreviate(body.get("message").asText());
                }
            }
        } catch (java.io.IOException e) {
            // not JSON: the raw text below
        }
        return r.body().length == 0 ? "(empty body)" : EngineHttp.abbreviate(r.text());
    }

    /**
     * The failure for a non-2xx answer. A refused key (401/403) is the engine's configuration, not
     * the task's fault: transient, so the task moves to another engine and the breaker takes this
     * one out (its probe then says the key was refused). Any other 4xx is the request's.
     */
    private static EngineCallException refused(String what, EngineHttp.Response r) {
        boolean transientStatus = r.status() == 401 || r.status() == 403 || r.status() == 408 || r.status() == 425
                || r.status() == 429 || r.status() >= 500;
        return new EngineCallException(transientStatus, what + " answered HTTP " + r.status() + ": " + errorMessage(r));
    }

    private String path(String relative) {
        return http.uri(relative).getPath();
    }

    /** {@code GET /v1/models}: reachable, the key accepted, and the configured model among those served. */
    @Override
    public EngineHealth probe() {
        String what = "GET " + path("/models");
        try {
            EngineHttp.Response r = http.get("/models", PROBE_TIMEOUT);
            if (r.status() == 401 || r.status() == 403) {
                return new EngineHealth.Down(what + " refused the key (HTTP " + r.status() + "): " + errorMessage(r)
                        + "; set key=... on this engine");
            }
            if (r.status() == 404) {
                return new EngineHealth.Down(what + " answered HTTP 404; the engine URL must be the API base that "
                        + "/images/generations hangs off, e.g. http://host:8091/v1");
            }
            if (!r.ok()) {
                return new EngineHealth.Down(what + " answered HTTP " + r.status() + ": " + errorMessage(r));
            }
            List<String> served = new ArrayList<>();
            r.json().path("data").forEach(m -> served.add(m.path("id").asText()));
            if (!served.isEmpty() && !served.contains(settings.model())) {
                return new EngineHealth.Down("the server does not serve model '" + settings.model() + "' (it serves "
                        + String.join(", ", served) + "); set model=... on this engine");
            }
            return new EngineHealth.Up(served.isEmpty() ? "model list empty" : "serves " + settings.model());
        } catch (EngineCallException e) {
            return new EngineHealth.Down(name + " at " + http.base() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth.Down("probe interrupted");
        }
    }
}
