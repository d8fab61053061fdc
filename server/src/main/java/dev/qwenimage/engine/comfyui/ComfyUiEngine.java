package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.engine.Cancellation;
import dev.qwenimage.engine.Engine;
import dev.qwenimage.engine.EngineHealth;
import dev.qwenimage.engine.EngineSpec;
import dev.qwenimage.engine.GenerationRequest;
import dev.qwenimage.engine.GenerationResult;
import dev.qwenimage.engine.ProgressSink;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Qwen-Image on a ComfyUI server, through ComfyUI's own HTTP and WebSocket API. Each image is one
 * prompt queued with an id this engine chooses, followed over the engine's shared WebSocket and
 * read back from ComfyUI's history; see {@link ComfyJob} for the life of one job and
 * docs/engines/comfyui.md for setting ComfyUI up.
 */
public final class ComfyUiEngine implements Engine {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern DEVICE = Pattern.compile("(\\w+:\\d+) (.+?)(?: : \\S+)?");

    private final String name;
    private final ComfyUiSettings settings;
    private final Workflow workflow;
    /** The edit workflow, when this engine runs edits. */
    private final Optional<Workflow> editWorkflow;
    private final EngineHttp http;
    private final ComfyApi api;
    private final ComfyEvents events;
    /** ComfyUI sends a prompt's events to the socket of the client id it was queued with: ours, for this engine's life. */
    private final String clientId = UUID.randomUUID().toString().replace("-", "");

    public ComfyUiEngine(String name, URI base, ComfyUiSettings settings) {
        this.name = name;
        this.settings = settings;
        this.workflow = settings.workflow().<Workflow>map(w -> w).orElseGet(() -> new QwenImageWorkflow(settings));
        this.editWorkflow = !settings.edit().enabled() ? Optional.empty()
                : Optional.of(settings.edit().workflow().<Workflow>map(w -> w).orElseGet(() -> new QwenImageEditWorkflow(settings)));
        this.http = new EngineHttp(name, base, CONNECT_TIMEOUT, Map.of());
        this.api = new ComfyApi(http, settings.requestTimeout());
        this.events = new ComfyEvents(http.client(), http.base(), http.headers(), clientId);
    }

    /** The engine an entry {@code comfyui:http://host:8188?...} describes; bad options are a ConfigException. */
    public static ComfyUiEngine of(EngineSpec spec) {
        return new ComfyUiEngine(spec.name(), spec.requireUrl(), ComfyUiSettings.from(spec));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String describe() {
        return "comfyui at " + http.base() + " (" + workflow.describe() + "; edits: "
                + editWorkflow.map(Workflow::describe).orElse("off") + ")";
    }

    /** Text-to-image, and edits unless {@code edit=false} (or a text-to-image workflow file without an edit one). */
    @Override
    public Set<TaskKind> kinds() {
        return editWorkflow.isPresent() ? TaskKind.ALL : TaskKind.TEXT_ONLY;
    }

    @Override
    public int defaultSteps() {
        return settings.steps();
    }

    /** Edits have their own steps ({@code edit_steps}): a Lightning LoRA for the edit model need not match the text one. */
    @Override
    public int defaultSteps(TaskKind kind) {
        return kind == TaskKind.EDIT ? settings.edit().steps() : settings.steps();
    }

    /**
     * Qwen-Image (20B, fp8) takes about 1.8 s a step at 1024x1024 on a 4090-class card with CFG;
     * at cfg 1 (the Lightning LoRA's setting) ComfyUI skips the unconditional pass, halving it.
     */
    @Override
    public Duration typicalStepTime() {
        boolean cfgOne = settings.workflow().isEmpty() && Math.abs(settings.cfg() - 1.0) < 1e-9;
        return Duration.ofMillis(cfgOne ? 900 : 1800);
    }

    @Override
    public GenerationResult generate(GenerationRequest request, ProgressSink progress, Cancellation cancellation) {
        return new ComfyJob(this, request, progress, cancellation).run();
    }

    /** {@code GET /system_stats}: up when ComfyUI answers, with its first device's name as the detail. */
    @Override
    public EngineHealth probe() {
        try {
            JsonNode stats = api.systemStats(min(PROBE_TIMEOUT, settings.requestTimeout()));
            StringBuilder detail = new StringBuilder();
            JsonNode device = stats.path("devices").path(0);
            if (device.path("name").isTextual()) {
                detail.append(deviceName(device.get("name").asText()));
                long vram = device.path("vram_total").asLong(0);
                if (vram > 0) {
                    detail.append(", ").append(Math.round(vram / (1024.0 * 1024 * 1024))).append(" GiB");
                }
            }
            String version = stats.path("system").path("comfyui_version").asText("");
            if (!version.isBlank()) {
                detail.append(detail.isEmpty() ? "" : "; ").append("ComfyUI ").append(version);
            }
            return new EngineHealth.Up(detail.toString());
        } catch (EngineCallException e) {
            return new EngineHealth.Down(name + " at " + http.base() + " " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth.Down("probe interrupted");
        }
    }

    @Override
    public void close() {
        events.close();
    }

    /**
     * ComfyUI names a device "{@code <torch device> <GPU name> : <allocator>}" (model_management.py
     * get_torch_device_name), e.g. "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync"; shown as
     * "NVIDIA GeForce RTX 4090 (cuda:0)".
     */
    static String deviceName(String raw) {
        Matcher m = DEVICE.matcher(raw.strip());
        return m.matches() ? m.group(2) + " (" + m.group(1) + ")" : raw.strip();
    }

    GenerationResult failure(JobFailure f) {
        String reason = name + " at " + http.base() + ": " + f.getMessage();
        return f.isTransient() ? new GenerationResult.TransientFailure(reason) : new GenerationResult.PermanentFailure(reason);
    }

    EngineHttp http() {
        return http;
    }

    ComfyApi api() {
        return api;
    }

    ComfyEvents events() {
        return events;
    }

    ComfyUiSettings settings() {
        return settings;
    }

    /** The workflow that runs {@code request}: the edit one for an edit. */
    Workflow workflowFor(GenerationRequest request) {
        return request.isEdit() ? editWorkflow.orElseThrow(() -> new IllegalStateException(
                name + " runs no edits, yet was given one (the queue hands an engine only the kinds it declares)")) : workflow;
    }

    String clientId() {
        return clientId;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
