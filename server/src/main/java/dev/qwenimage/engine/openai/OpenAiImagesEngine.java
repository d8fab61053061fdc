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
import dev.qwenimage.engine.TaskKind;
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
 *
 * <p>Edits ({@link TaskKind#EDIT}, when the {@code edit} option lets this engine take them) go to
 * {@code POST /v1/images/edits} as {@code multipart/form-data}, as OpenAI's Images API and
 * vLLM-Omni's handler ({@code edit_images} in {@code vllm_omni/entrypoints/openai/api_server.py})
 * take them: the input PNG as the {@code image} file part, the same text fields, and the same
 * extensions, which vLLM-Omni reads as form fields there too. The answer has the generation's
 * shape. A server without that route answers 404, which fails the edit permanently with a reason
 * that says the server does not serve edits.
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
     * @param editModel      the {@code model} sent with edits
     * @param kinds          what the engine takes: text-to-image, edits, or both
     */
    public record Settings(String model, Optional<String> key, Set<Extra> extras, int steps, double trueCfgScale,
                           String negativePrompt, Duration stepTime, Duration callTimeout, String editModel,
                           Set<TaskKind> kinds) {
        public Settings {
            extras = extras.isEmpty() ? EnumSet.noneOf(Extra.class) : EnumSet.copyOf(extras);
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("an engine takes at least one kind of task");
            }
            kinds = java.util.Collections.unmodifiableSet(EnumSet.copyOf(kinds));
        }

        /** An engine for text-to-image only. */
        public Settings(String model, Optional<String> key, Set<Extra> extras, int steps, double trueCfgScale,
                        String negativePrompt, Duration stepTime, Duration callTimeout) {
            this(model, key, extras, steps, trueCfgScale, negativePrompt, stepTime, callTimeout, model, TaskKind.TEXT_ONLY);
        }

        /** These settings, taking {@code kinds} and sending {@code editModel} with edits. */
        public Settings taking(Set<TaskKind> kinds, String editModel) {
            return new Settings(model, key, extras, steps, trueCfgScale, negativePrompt, stepTime, callTimeout, editModel, kinds);
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
    /** Edits apart: an edit model also encodes the input image, so its steps take longer. */
    private final ProgressEstimate editEstimate;

    /** @param url the API base, e.g. {@code http://gpu3:8091/v1}; a bare {@code http://host:port} gets {@code /v1} */
    public OpenAiImagesEngine(String name, URI url, Settings settings) {
        this.name = name;
        this.settings = settings;
        this.http = new EngineHttp(name, apiBase(url), Duration.ofSeconds(5),
                settings.key().map(k -> Map.of("Authorization", "Bearer " + k)).orElse(Map.of()));
        this.estimate = new ProgressEstimate(settings.stepTime());
        this.editEstimate = new ProgressEstimate(settings.stepTime());
    }

    /** The API base: the URL as given when it has a path, else the URL with {@code /v1}. */
    static URI apiBase(URI url) {
        String s = url.toString().replaceAll("/+$", "");
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("/+$", "");
        return URI.create(path.isEmpty() ? s + "/v1" : s);
    }

    /** The options an {@code openai} entry takes beside the common ones. */
    public static final Set<String> OPTIONS = Set.of("model", "key", "extras", "steps", "true_cfg_scale", "negative_prompt",
            "step_time", "edit", "edit_model");

    /**
     * What the {@code edit} option lets the engine take: {@code false} text-to-image only,
     * {@code true} both, {@code only} edits only (a server that runs an edit model and nothing else,
     * as vLLM-Omni does: one model per server). Unset, it is {@code true} when {@code edit_model} is
     * given and {@code false} otherwise.
     */
    static Set<TaskKind> kinds(EngineSpec spec) {
        String edit = spec.option("edit", spec.option("edit_model").isPresent() ? "true" : "false");
        return switch (edit.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> TaskKind.ALL;
            case "false", "no", "off", "0" -> TaskKind.TEXT_ONLY;
            case "only" -> Set.of(TaskKind.EDIT);
            default -> throw new ConfigException(spec.where() + ": edit must be true (text-to-image and edits), false "
                    + "(text-to-image only) or only (edits only), got '" + edit + "'");
        };
    }

    /** The engine an entry {@code openai:http://host:8091/v1?...} describes; unknown options are refused. */
    public static OpenAiImagesEngine from(EngineSpec spec) {
        spec.requireOnly(OPTIONS);
        OpenAiImagesEngine.Settings d = OpenAiImagesEngine.Settings.defaults();
        Set<OpenAiImagesEngine.Extra> extras;
        try {
            extras = OpenAiImagesEngine.Extra.parse(spec.option("extras", "none"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(spec.where() + ": extras: " + e.getMessage());
        }
        Duration limit = spec.timeLimit();
        String model = spec.option("model", d.model());
        return new OpenAiImagesEngine(spec.name(), spec.requireUrl(), new OpenAiImagesEngine.Settings(
                model,
                spec.option("key"),
                extras,
                spec.intOption("steps", d.steps(), 1, 1000),
                spec.doubleOption("true_cfg_scale", d.trueCfgScale(), 0, 100),
                spec.option("negative_prompt", d.negativePrompt()),
                spec.positiveDurationOption("step_time", d.stepTime()),
                // the call may last as long as the task may; the task's own limit stops it first
                limit.isZero() ? Duration.ofHours(1) : limit.plusSeconds(30))
                .taking(kinds(spec), spec.option("edit_model", model)));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Set<TaskKind> kinds() {
        return settings.kinds();
    }

    private boolean draws() {
        return settings.kinds().contains(TaskKind.TEXT_TO_IMAGE);
    }

    private boolean edits() {
        return settings.kinds().contains(TaskKind.EDIT);
    }

    @Override
    public String describe() {
        String models = !edits() ? "model " + settings.model()
                : !draws() ? "edits only, model " + settings.editModel()
                : "model " + settings.model() + ", edits with " + settings.editModel();
        return "openai (OpenAI-compatible images API at " + http.base() + "), " + models
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

    /**
     * The request's fields in order, as the generation's JSON or the edit's form fields: OpenAI's
     * own, then the configured extensions.
     */
    Map<String, Object> fields(GenerationRequest request) {
        Map<String, Object> f = new java.util.LinkedHashMap<>();
        f.put("model", request.isEdit() ? settings.editModel() : settings.model());
        f.put("prompt", request.prompt());
        f.put("size", request.width() + "x" + request.height());
        f.put("n", 1);
        f.put("response_format", "b64_json");
        Set<Extra> extras = settings.extras();
        String negative = request.negativePrompt().isBlank() ? settings.negativePrompt() : request.negativePrompt();
        if (extras.contains(Extra.NEGATIVE_PROMPT) && !negative.isEmpty()) {
            f.put("negative_prompt", negative);
        }
        if (extras.contains(Extra.NUM_INFERENCE_STEPS)) {
            f.put("num_inference_steps", request.steps());
        }
        if (extras.contains(Extra.TRUE_CFG_SCALE)) {
            f.put("true_cfg_scale", settings.trueCfgScale());
        }
        if (extras.contains(Extra.SEED)) {
            f.put("seed", request.seed());
        }
        return f;
    }

    ObjectNode requestBody(GenerationRequest request) {
        return EngineHttp.json().valueToTree(fields(request));
    }

    /** The edit's {@code multipart/form-data} body: the input PNG as the {@code image} file part, then the fields. */
    MultipartForm editForm(GenerationRequest request) {
        MultipartForm form = new MultipartForm()
                .file("image", "input.png", dev.qwenimage.engine.InputImage.CONTENT_TYPE, request.input().orElseThrow().png());
        fields(request).forEach((k, v) -> form.field(k, String.valueOf(v)));
        return form;
    }

    /** One call: where it goes, its body, and the estimate its progress comes from. */
    private record Call(String path, String contentType, byte[] body, ProgressEstimate estimate) {
    }

    private Call call(GenerationRequest request) {
        if (request.isEdit()) {
            MultipartForm form = editForm(request);
            return new Call("/images/edits", form.contentType(), form.toByteArray(), editEstimate);
        }
        try {
            return new Call("/images/generations", "application/json", EngineHttp.json().writeValueAsBytes(requestBody(request)),
                    estimate);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render the request body", e);
        }
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        if (!settings.kinds().contains(request.kind())) {
            return new GenerationResult.PermanentFailure(name + " is not configured for " + (request.isEdit()
                    ? "edits (its edit option is false)" : "text-to-image (its edit option is only)"));
        }
        CallAborter aborter = CallAborter.on(cancellation);
        long start = System.nanoTime();
        Call call = call(request);
        try (ProgressEstimate.Ticker ticker = call.estimate().tick(progress, request.width(), request.height(), request.steps(),
                start, TICK)) {
            EngineHttp.Response r = http.send(http.request(call.path(), settings.callTimeout())
                    .header("Content-Type", call.contentType())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(call.body())), aborter);
            if (request.isEdit() && r.status() == 404) {
                throw new EngineCallException(false, "does not serve image edits (POST " + path(call.path())
                        + " answered HTTP 404: " + errorMessage(r) + "); run an edit model there, e.g. vllm serve "
                        + "Qwen/Qwen-Image-Edit-2509 --omni, or set edit=false on this engine");
            }
            if (!r.ok()) {
                throw refused("POST " + path(call.path()), r);
            }
            BufferedImage image = image(r);
            ticker.close();
            call.estimate().record(request.width(), request.height(), request.steps(), Duration.ofNanos(System.nanoTime() - start));
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
            if (!served.isEmpty() && draws() && !served.contains(settings.model())) {
                return new EngineHealth.Down("the server does not serve model '" + settings.model() + "' (it serves "
                        + String.join(", ", served) + "); set model=... on this engine");
            }
            if (!served.isEmpty() && edits() && !served.contains(settings.editModel())) {
                return new EngineHealth.Down("the server does not serve the edit model '" + settings.editModel() + "' (it serves "
                        + String.join(", ", served) + "); set edit_model=... on this engine"
                        + (draws() ? ", or edit=false if it makes no edits" : ""));
            }
            List<String> models = new ArrayList<>();
            if (draws()) {
                models.add(settings.model());
            }
            if (edits() && !models.contains(settings.editModel())) {
                models.add(settings.editModel());
            }
            return new EngineHealth.Up(served.isEmpty() ? "model list empty" : "serves " + String.join(", ", models));
        } catch (EngineCallException e) {
            return new EngineHealth.Down(name + " at " + http.base() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth.Down("probe interrupted");
        }
    }
}
