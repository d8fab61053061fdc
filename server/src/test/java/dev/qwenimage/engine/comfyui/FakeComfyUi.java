package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.ServiceUnavailableResponse;
import io.javalin.websocket.WsContext;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;

/**
 * An in-process ComfyUI that speaks the real protocol, as ComfyUI's server.py, execution.py and
 * main.py have it: {@code POST /prompt} (validated like execution.validate_prompt, with its real
 * error bodies: missing_node_type, prompt_no_outputs, required_input_missing, bad_linked_input,
 * return_type_mismatch, value_not_in_list, value_smaller_than_min, value_bigger_than_max,
 * invalid_prompt_id), {@code /ws?clientId=} with the real message sequence, {@code /history},
 * {@code /view}, {@code /queue}, {@code /interrupt} (with the targeted {@code prompt_id}),
 * {@code /system_stats} and {@code POST /upload/image} (multipart, server.py image_upload: the
 * file lands in the input folder, where LoadImage's validation looks for it, and the answer is
 * {@code {"name", "subfolder", "type"}}). Its nodes are those of ComfyUI's Qwen-Image and
 * Qwen-Image-Edit workflows, with their real inputs and types (nodes.py, comfy_extras/nodes_qwen.py,
 * nodes_cfg.py). One worker runs prompts one at a time, like ComfyUI's prompt_worker.
 * Tests switch failure modes on: a node error, a dropped socket, a restart that loses every
 * prompt, a slow start, an older ComfyUI that names prompts itself and interrupts globally, an
 * upload refused or answered late.
 */
public final class FakeComfyUi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String UUID_FORM = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    static final String DEVICE = "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync";

    /** Where a prompt is. */
    public enum State { QUEUED, RUNNING, DONE, UNKNOWN }

    /** A failure the next job meets at a KSampler step. */
    private record Trouble(String kind, int atStep, String exceptionType, String message) {
    }

    private record Item(double number, String promptId, ObjectNode prompt, ObjectNode extraData, List<String> outputs) {
        ArrayNode json() {
            ArrayNode a = F.arrayNode().add(number).add(promptId).add(prompt).add(extraData);
            outputs.forEach(a.addArray()::add);
            return a;
        }
    }

    private record Input(String name, String type, boolean required, List<String> options, BigDecimal min, BigDecimal max) {
        boolean isLink() {
            return Set.of("MODEL", "CLIP", "VAE", "CONDITIONING", "LATENT", "IMAGE", "MASK").contains(type);
        }
    }

    /** One POST /upload/image as ComfyUI received it. */
    public record Upload(String filename, String contentType, byte[] bytes, String overwrite, String type, String subfolder) {
    }

    private record NodeType(List<Input> inputs, List<String> outputs, boolean outputNode) {
    }

    private final Map<String, List<String>> models = new ConcurrentHashMap<>(Map.of(
            "diffusion_models", List.of("qwen_image_fp8_e4m3fn.safetensors", "qwen_image_edit_2509_fp8_e4m3fn.safetensors",
                    "qwen_image_edit_fp8_e4m3fn.safetensors"),
            "text_encoders", List.of("qwen_2.5_vl_7b_fp8_scaled.safetensors"),
            "vae", List.of("qwen_image_vae.safetensors"),
            "loras", List.of("Qwen-Image-Lightning-8steps-V1.0.safetensors",
                    "Qwen-Image-Edit-2509-Lightning-4steps-V1.0-bf16.safetensors")));
    private final Object lock = new Object();
    private final PriorityQueue<Item> queue = new PriorityQueue<>(Comparator.comparingDouble(Item::number));
    private final Map<String, JsonNode> history = new LinkedHashMap<>();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, WsContext> sockets = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();
    private final Deque<Trouble> troubles = new ArrayDeque<>();
    private final List<JsonNode> prompts = new CopyOnWriteArrayList<>();
    private final List<JsonNode> interrupts = new CopyOnWriteArrayList<>();
    private final List<String> deletes = new CopyOnWriteArrayList<>();
    private final List<Upload> uploads = new CopyOnWriteArrayList<>();
    private final Javalin app;
    private final Thread worker;

    private Item running;
    private int number;
    private int epoch;
    private int counter;
    private volatile boolean interruptFlag;
    private volatile boolean wsBlocked;
    private volatile boolean closed;
    private volatile boolean older;
    private volatile Duration stepDelay = Duration.ofMillis(10);
    private volatile Duration slowStart = Duration.ZERO;
    private volatile Duration promptAnswerDelay = Duration.ZERO;
    private volatile Duration uploadAnswerDelay = Duration.ZERO;
    private final AtomicInteger slowUploads = new AtomicInteger();
    private volatile int refuseUploadsWith;
    private final AtomicInteger refusedUploads = new AtomicInteger();

    private FakeComfyUi(int port) {
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.startup.showOldJavalinVersionWarning = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.jetty.host = "127.0.0.1";
            cfg.jetty.port = port;
            // aiohttp's WebSocketResponse has no idle timeout by default; Jetty's would close quiet sockets
            cfg.jetty.modifyWebSocketServletFactory(f -> f.setIdleTimeout(Duration.ofMinutes(10)));
            cfg.routes.post("/prompt", this::postPrompt);
            cfg.routes.get("/prompt", ctx -> json(ctx, 200, F.objectNode().set("exec_info", queueInfo().get("exec_info"))));
            cfg.routes.get("/queue", this::getQueue);
            cfg.routes.post("/queue", this::postQueue);
            cfg.routes.post("/interrupt", this::postInterrupt);
            cfg.routes.get("/history", ctx -> {
                synchronized (lock) {
                    ObjectNode all = F.objectNode();
                    history.forEach(all::set);
                    json(ctx, 200, all);
                }
            });
            cfg.routes.get("/history/{prompt_id}", ctx -> {
                ObjectNode out = F.objectNode();
                synchronized (lock) {
                    JsonNode h = history.get(ctx.pathParam("prompt_id"));
                    if (h != null) {
                        out.set(ctx.pathParam("prompt_id"), h.deepCopy());
                    }
                }
                json(ctx, 200, out);
            });
            cfg.routes.get("/view", this::view);
            cfg.routes.get("/system_stats", this::systemStats);
            cfg.routes.post("/upload/image", this::uploadImage);
            cfg.routes.wsBeforeUpgrade("/ws", ctx -> {
                if (wsBlocked) {
                    throw new ServiceUnavailableResponse("restarting");
                }
            });
            cfg.routes.ws("/ws", ws -> {
                ws.onConnect(ctx -> {
                    String sid = ctx.queryParam("clientId");
                    if (sid == null || sid.isBlank()) {
                        sid = UUID.randomUUID().toString().replace("-", "");
                    }
                    ctx.attribute("sid", sid);
                    sockets.put(sid, ctx); // reusing a clientId replaces its old socket, as server.py does
                    connections.computeIfAbsent(sid, k -> new AtomicInteger()).incrementAndGet();
                    ObjectNode status = F.objectNode();
                    status.set("status", queueInfo());
                    status.put("sid", sid);
                    send(ctx, "status", status);
                });
                ws.onClose(ctx -> {
                    String sid = ctx.attribute("sid");
                    if (sid != null) {
                        sockets.remove(sid, ctx);
                    }
                });
                ws.onMessage(ctx -> {
                    // feature_flags and the like: nothing to answer for this engine
                });
            });
        });
        app.start();
        worker = Thread.ofPlatform().name("fake-comfyui-worker").daemon(true).start(this::work);
    }

    public static FakeComfyUi start() {
        return new FakeComfyUi(0);
    }

    /** Starts on a given port (a test makes it unreachable first, then brings it up). */
    public static FakeComfyUi start(int port) {
        return new FakeComfyUi(port);
    }

    public int port() {
        return app.port();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    // ---- switches ---------------------------------------------------------------------------

    public FakeComfyUi models(String folder, String... names) {
        models.put(folder, List.of(names));
        return this;
    }

    public FakeComfyUi stepDelay(Duration d) {
        stepDelay = d;
        return this;
    }

    /** Loading the models (the UNETLoader node) takes this long before any progress. */
    public FakeComfyUi slowStart(Duration d) {
        slowStart = d;
        return this;
    }

    /** POST /prompt queues the prompt at once but answers only after {@code d} (an overloaded server, a lost answer). */
    public FakeComfyUi answerPromptsAfter(Duration d) {
        promptAnswerDelay = d;
        return this;
    }

    /** Behaves like ComfyUI before client prompt ids: it names prompts itself and /interrupt stops whatever runs. */
    public FakeComfyUi older() {
        older = true;
        return this;
    }

    /**
     * The next {@code times} POST /upload/image answer {@code status} and store nothing: a 413 as
     * from {@code --max-upload-size}, a 500 as from a crashing handler.
     */
    public FakeComfyUi refuseUploads(int status, int times) {
        refuseUploadsWith = status;
        refusedUploads.set(times);
        return this;
    }

    /** The next {@code times} POST /upload/image store the file at once but answer only after {@code d}. */
    public FakeComfyUi answerUploadsAfter(Duration d, int times) {
        uploadAnswerDelay = d;
        slowUploads.set(times);
        return this;
    }

    /** The next job fails in its sampler at {@code step} with an execution_error. */
    public FakeComfyUi failNextJob(int step, String exceptionType, String message) {
        return trouble(new Trouble("fail", step, exceptionType, message));
    }

    /** The next job's client loses its socket at {@code step}; the socket is refused until the job has finished. */
    public FakeComfyUi dropSocketInNextJob(int step) {
        return trouble(new Trouble("drop", step, null, null));
    }

    /** At {@code step} of the next job the server restarts: queue, history and sockets are gone. */
    public FakeComfyUi restartInNextJob(int step) {
        return trouble(new Trouble("restart", step, null, null));
    }

    private FakeComfyUi trouble(Trouble t) {
        synchronized (lock) {
            troubles.add(t);
        }
        return this;
    }

    /** Queues a prompt as another client would (for tests about not disturbing others' work). */
    public String enqueue(ObjectNode prompt, String clientId) {
        synchronized (lock) {
            String id = UUID.randomUUID().toString();
            ObjectNode extra = F.objectNode().put("client_id", clientId);
            queue.add(new Item(number++, id, prompt, extra, outputNodes(prompt)));
            lock.notifyAll();
            return id;
        }
    }

    // ---- what happened ----------------------------------------------------------------------

    public State state(String promptId) {
        synchronized (lock) {
            if (running != null && running.promptId().equals(promptId)) {
                return State.RUNNING;
            }
            if (queue.stream().anyMatch(i -> i.promptId().equals(promptId))) {
                return State.QUEUED;
            }
            return history.containsKey(promptId) ? State.DONE : State.UNKNOWN;
        }
    }

    /** Ids of the prompts waiting in the queue, in the order they will run. */
    public List<String> pending() {
        synchronized (lock) {
            return queue.stream().sorted(Comparator.comparingDouble(Item::number)).map(Item::promptId).toList();
        }
    }

    public JsonNode historyEntry(String promptId) {
        synchronized (lock) {
            return history.get(promptId);
        }
    }

    /** Every body POST /prompt accepted or refused, in order. */
    public List<JsonNode> prompts() {
        return List.copyOf(prompts);
    }

    /** Every POST /upload/image received, in order (refused ones too). */
    public List<Upload> uploads() {
        return List.copyOf(uploads);
    }

    /** The names a LoadImage node may take: the files in the input folder. */
    public Set<String> inputFiles() {
        Set<String> names = new LinkedHashSet<>();
        files.keySet().stream().filter(k -> k.startsWith("input/")).forEach(k -> {
            String rest = k.substring("input/".length());
            int slash = rest.indexOf('/');
            String sub = rest.substring(0, slash);
            names.add(sub.isEmpty() ? rest.substring(slash + 1) : sub + "/" + rest.substring(slash + 1));
        });
        return names;
    }

    /** Every POST /interrupt body ({} for a global interrupt). */
    public List<JsonNode> interrupts() {
        return List.copyOf(interrupts);
    }

    /** Every prompt id POST /queue was asked to delete. */
    public List<String> deletes() {
        return List.copyOf(deletes);
    }

    public int connections(String clientId) {
        AtomicInteger n = connections.get(clientId);
        return n == null ? 0 : n.get();
    }

    public Set<String> clientIds() {
        return Set.copyOf(connections.keySet());
    }

    public void awaitState(String promptId, State state) {
        await(() -> state(promptId) == state, "prompt " + promptId + " to be " + state + " (it is " + state(promptId) + ")");
    }

    public static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            sleep(Duration.ofMillis(10));
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (lock) {
            interruptFlag = true;
            lock.notifyAll();
        }
        app.stop();
        worker.interrupt();
    }

    // ---- HTTP routes (server.py) ------------------------------------------------------------

    private void postPrompt(Context ctx) throws IOException {
        JsonNode body = JSON.readTree(ctx.bodyAsBytes());
        prompts.add(body);
        if (!body.path("prompt").isObject()) {
            json(ctx, 400, errorBody(error("no_prompt", "No prompt provided", "No prompt provided"), F.objectNode()));
            return;
        }
        String promptId;
        JsonNode clientPromptId = body.path("prompt_id");
        if (older || clientPromptId.isMissingNode() || clientPromptId.isNull()) {
            promptId = UUID.randomUUID().toString();
        } else if (clientPromptId.isTextual() && clientPromptId.asText().matches(UUID_FORM)) {
            promptId = clientPromptId.asText();
        } else {
            json(ctx, 400, errorBody(error("invalid_prompt_id", "prompt_id must be a valid UUID",
                    "prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one"),
                    F.objectNode()));
            return;
        }
        ObjectNode prompt = (ObjectNode) body.get("prompt");
        Validation v = validate(prompt);
        if (v.error != null) {
            json(ctx, 400, errorBody(v.error, v.nodeErrors));
            return;
        }
        ObjectNode extra = body.path("extra_data").isObject() ? (ObjectNode) body.get("extra_data").deepCopy() : F.objectNode();
        if (body.has("client_id")) {
            extra.set("client_id", body.get("client_id"));
        }
        int n;
        synchronized (lock) {
            n = number++;
            queue.add(new Item(n, promptId, prompt, extra, v.goodOutputs));
            lock.notifyAll();
        }
        broadcastStatus();
        sleep(promptAnswerDelay);
        ObjectNode answer = F.objectNode().put("prompt_id", promptId).put("number", n);
        answer.set("node_errors", v.nodeErrors);
        json(ctx, 200, answer);
    }

    private void getQueue(Context ctx) {
        ObjectNode out = F.objectNode();
        synchronized (lock) {
            ArrayNode r = out.putArray("queue_running");
            if (running != null) {
                r.add(running.json());
            }
            ArrayNode p = out.putArray("queue_pending");
            queue.stream().sorted(Comparator.comparingDouble(Item::number)).forEach(i -> p.add(i.json()));
        }
        json(ctx, 200, out);
    }

    private void postQueue(Context ctx) throws IOException {
        JsonNode body = JSON.readTree(ctx.bodyAsBytes());
        synchronized (lock) {
            if (body.path("clear").asBoolean(false)) {
                queue.clear();
            }
            for (JsonNode id : body.path("delete")) {
                deletes.add(id.asText());
                queue.removeIf(i -> i.promptId().equals(id.asText()));
            }
        }
        broadcastStatus();
        ctx.status(200);
    }

    private void postInterrupt(Context ctx) {
        JsonNode body;
        try {
            body = ctx.bodyAsBytes().length == 0 ? F.objectNode() : JSON.readTree(ctx.bodyAsBytes());
        } catch (IOException e) {
            body = F.objectNode();
        }
        interrupts.add(body);
        String promptId = body.path("prompt_id").asText("");
        synchronized (lock) {
            if (older || promptId.isEmpty()) {
                interruptFlag = running != null;
            } else if (running != null && running.promptId().equals(promptId)) {
                interruptFlag = true;
            }
        }
        ctx.status(200);
    }

    private void view(Context ctx) {
        String filename = ctx.queryParam("filename");
        if (filename == null) {
            ctx.status(404);
            return;
        }
        if (filename.isEmpty() || filename.startsWith("/") || filename.contains("..")) {
            ctx.status(400);
            return;
        }
        String type = ctx.queryParamMap().containsKey("type") ? ctx.queryParam("type") : "output";
        if (!Set.of("output", "input", "temp").contains(type)) {
            ctx.status(400);
            return;
        }
        String subfolder = ctx.queryParam("subfolder") == null ? "" : ctx.queryParam("subfolder");
        byte[] png = files.get(type + "/" + subfolder + "/" + filename);
        if (png == null) {
            ctx.status(404);
            return;
        }
        ctx.contentType("image/png");
        ctx.header("Content-Disposition", "filename=\"" + filename + "\"");
        ctx.result(png);
    }

    /** server.py image_upload: the multipart file {@code image} into the input folder ({@code type}, {@code subfolder}). */
    private void uploadImage(Context ctx) {
        var image = ctx.uploadedFile("image");
        String overwrite = ctx.formParam("overwrite");
        String type = ctx.formParam("type") == null ? "input" : ctx.formParam("type");
        String subfolder = ctx.formParam("subfolder") == null ? "" : ctx.formParam("subfolder");
        byte[] bytes;
        try {
            bytes = image == null ? new byte[0] : image.content().readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        uploads.add(new Upload(image == null ? null : image.filename(), image == null ? null : image.contentType(), bytes,
                overwrite, type, subfolder));
        if (refusedUploads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            ctx.status(refuseUploadsWith).contentType("text/plain").result(refuseUploadsWith >= 500
                    ? "500 Internal Server Error\n\nServer got itself in trouble" : "Maximum request body size exceeded");
            return;
        }
        if (image == null || image.filename() == null || image.filename().isEmpty()) {
            ctx.status(400);
            return;
        }
        if (!Set.of("input", "temp", "output").contains(type) || subfolder.contains("..") || image.filename().contains("/")) {
            ctx.status(400);
            return;
        }
        String filename = image.filename();
        if (!"true".equals(overwrite) && !"1".equals(overwrite)) {
            int dot = filename.lastIndexOf('.');
            String stem = dot < 0 ? filename : filename.substring(0, dot);
            String ext = dot < 0 ? "" : filename.substring(dot);
            for (int i = 1; files.containsKey(type + "/" + subfolder + "/" + filename); i++) {
                filename = stem + " (" + i + ")" + ext;
            }
        }
        files.put(type + "/" + subfolder + "/" + filename, bytes);
        if (slowUploads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            sleep(uploadAnswerDelay);
        }
        json(ctx, 200, F.objectNode().put("name", filename).put("subfolder", subfolder).put("type", type));
    }

    private void systemStats(Context ctx) {
        ObjectNode out = F.objectNode();
        ObjectNode system = out.putObject("system");
        system.put("os", "linux").put("ram_total", 67_108_864_000L).put("ram_free", 50_000_000_000L)
                .put("comfyui_version", older ? "0.3.10" : "0.3.60").put("python_version", "3.12.3")
                .put("pytorch_version", "2.8.0+cu128").put("embedded_python", false);
        system.putArray("argv").add("main.py").add("--listen");
        ObjectNode device = out.putArray("devices").addObject();
        device.put("name", DEVICE).put("type", "cuda").put("index", 0)
                .put("vram_total", 25_386_352_640L).put("vram_free", 24_000_000_000L)
                .put("torch_vram_total", 0).put("torch_vram_free", 0);
        json(ctx, 200, out);
    }

    // ---- validation (execution.py validate_prompt / validate_inputs) ---------------------------

    private static final class Validation {
        ObjectNode error;
        ObjectNode nodeErrors = F.objectNode();
        List<String> goodOutputs = new ArrayList<>();
    }

    private record Checked(boolean valid, List<ObjectNode> reasons) {
    }

    private Validation validate(ObjectNode prompt) {
        Validation v = new Validation();
        List<String> outputs = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = prompt.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String id = e.getKey();
            JsonNode node = e.getValue();
            if (!node.has("class_type")) {
                ObjectNode err = error("missing_node_type", "Node 'ID #" + id + "' has no class_type. The workflow may be corrupted or a custom node is missing.",
                        "Node ID '#" + id + "'");
                ((ObjectNode) err.get("extra_info")).put("node_id", id).putNull("class_type").putNull("node_title");
                v.error = err;
                return v;
            }
            String classType = node.get("class_type").asText();
            NodeType type = catalogue().get(classType);
            if (type == null) {
                ObjectNode err = error("missing_node_type", "Node '" + classType + "' not found. The custom node may not be installed.",
                        "Node ID '#" + id + "'");
                ((ObjectNode) err.get("extra_info")).put("node_id", id).put("class_type", classType).put("node_title", classType);
                v.error = err;
                return v;
            }
            if (type.outputNode()) {
                outputs.add(id);
            }
        }
        if (outputs.isEmpty()) {
            v.error = error("prompt_no_outputs", "Prompt has no outputs", "");
            return v;
        }
        Map<String, Checked> validated = new LinkedHashMap<>();
        List<String> errorLines = new ArrayList<>();
        for (String o : outputs) {
            Checked c;
            try {
                c = validateInputs(prompt, o, validated);
            } catch (RuntimeException ex) {
                ObjectNode reason = reason("exception_during_validation", "Exception when validating node", ex.getMessage());
                c = new Checked(false, List.of(reason));
                validated.put(o, c);
            }
            if (c.valid()) {
                v.goodOutputs.add(o);
                continue;
            }
            for (ObjectNode r : c.reasons()) {
                errorLines.add(r.get("message").asText() + ": " + r.get("details").asText());
            }
            for (Map.Entry<String, Checked> e : validated.entrySet()) {
                if (!e.getValue().valid() && !e.getValue().reasons().isEmpty()) {
                    ObjectNode ne = (ObjectNode) v.nodeErrors.get(e.getKey());
                    if (ne == null) {
                        ne = v.nodeErrors.putObject(e.getKey());
                        ArrayNode errs = ne.putArray("errors");
                        e.getValue().reasons().forEach(errs::add);
                        ne.putArray("dependent_outputs");
                        ne.put("class_type", prompt.get(e.getKey()).get("class_type").asText());
                    }
                    ((ArrayNode) ne.get("dependent_outputs")).add(o);
                }
            }
        }
        if (v.goodOutputs.isEmpty()) {
            v.error = error("prompt_outputs_failed_validation", "Prompt outputs failed validation", String.join("\n", errorLines));
        }
        return v;
    }

    private Checked validateInputs(ObjectNode prompt, String id, Map<String, Checked> validated) {
        Checked done = validated.get(id);
        if (done != null) {
            return done;
        }
        JsonNode node = prompt.get(id);
        ObjectNode inputs = node.path("inputs").isObject() ? (ObjectNode) node.get("inputs") : F.objectNode();
        NodeType type = catalogue().get(node.get("class_type").asText());
        List<ObjectNode> errors = new ArrayList<>();
        boolean valid = true;
        for (Input in : type.inputs()) {
            String x = in.name();
            if (!inputs.has(x)) {
                if (in.required()) {
                    ObjectNode r = reason("required_input_missing", "Required input is missing", x);
                    ((ObjectNode) r.get("extra_info")).put("input_name", x);
                    errors.add(r);
                }
                continue;
            }
            JsonNode val = inputs.get(x);
            if (val.isArray()) {
                if (val.size() != 2) {
                    ObjectNode r = reason("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", x);
                    ((ObjectNode) r.get("extra_info")).put("input_name", x).set("received_value", val);
                    errors.add(r);
                    continue;
                }
                String from = val.get(0).asText();
                JsonNode linked = prompt.get(from);
                if (linked == null) {
                    throw new IllegalStateException("'" + from + "'"); // Python: KeyError on prompt[o_id]
                }
                List<String> returns = catalogue().get(linked.get("class_type").asText()).outputs();
                int slot = val.get(1).asInt();
                if (slot < 0 || slot >= returns.size()) {
                    throw new IllegalStateException("tuple index out of range");
                }
                String received = returns.get(slot);
                if (!received.equals(in.type())) {
                    ObjectNode r = reason("return_type_mismatch", "Return type mismatch between linked nodes",
                            x + ", received_type(" + received + ") mismatch input_type(" + in.type() + ")");
                    ((ObjectNode) r.get("extra_info")).put("input_name", x).put("received_type", received).set("linked_node", val);
                    errors.add(r);
                    continue;
                }
                if (!validateInputs(prompt, from, validated).valid()) {
                    valid = false;
                }
                continue;
            }
            if (in.isLink()) {
                ObjectNode r = reason("return_type_mismatch", "Return type mismatch between linked nodes",
                        x + ", received_type(" + val.getNodeType() + ") mismatch input_type(" + in.type() + ")");
                errors.add(r);
                continue;
            }
            if (in.type().equals("INT") || in.type().equals("FLOAT")) {
                BigDecimal n;
                try {
                    n = new BigDecimal(val.asText());
                } catch (NumberFormatException ex) {
                    ObjectNode r = reason("invalid_input_type", "Failed to convert an input value to a " + in.type() + " value",
                            x + ", " + val.asText() + ", invalid literal for " + (in.type().equals("INT") ? "int()" : "float()"));
                    ((ObjectNode) r.get("extra_info")).put("input_name", x).set("received_value", val);
                    errors.add(r);
                    continue;
                }
                if (in.min() != null && n.compareTo(in.min()) < 0) {
                    ObjectNode r = reason("value_smaller_than_min", "Value " + val.asText() + " smaller than min of " + in.min(), x);
                    ((ObjectNode) r.get("extra_info")).put("input_name", x).set("received_value", val);
                    errors.add(r);
                    continue;
                }
                if (in.max() != null && n.compareTo(in.max()) > 0) {
                    ObjectNode r = reason("value_bigger_than_max", "Value " + val.asText() + " bigger than max of " + in.max(), x);
                    ((ObjectNode) r.get("extra_info")).put("input_name", x).set("received_value", val);
                    errors.add(r);
                    continue;
                }
            }
            if (in.options() != null && !in.options().contains(val.asText())) {
                String listInfo = in.options().size() > 20 ? "(list of length " + in.options().size() + ")" : pyList(in.options());
                ObjectNode r = reason("value_not_in_list", "Value not in list", x + ": " + pyRepr(val.asText()) + " not in " + listInfo);
                ((ObjectNode) r.get("extra_info")).put("input_name", x).set("received_value", val);
                errors.add(r);
            }
        }
        if (node.get("class_type").asText().equals("LoadImage") && inputs.path("image").isTextual()
                && !inputFiles().contains(inputs.get("image").asText())) {
            // nodes.py LoadImage.VALIDATE_INPUTS: folder_paths.exists_annotated_filepath(image)
            ObjectNode r = reason("custom_validation_failed", "Custom validation failed for node",
                    "image - Invalid image file: " + inputs.get("image").asText());
            ((ObjectNode) r.get("extra_info")).put("input_name", "image");
            errors.add(r);
        }
        Checked c = new Checked(valid && errors.isEmpty(), errors);
        validated.put(id, c);
        return c;
    }

    private Map<String, NodeType> catalogue() {
        Input model = link("model", "MODEL");
        Input clip = link("clip", "CLIP");
        return Map.ofEntries(
                Map.entry("UNETLoader", new NodeType(List.of(combo("unet_name", models.get("diffusion_models")),
                        combo("weight_dtype", ComfyUiSettings.WEIGHT_DTYPES)), List.of("MODEL"), false)),
                Map.entry("CLIPLoader", new NodeType(List.of(combo("clip_name", models.get("text_encoders")),
                        combo("type", List.of("stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv",
                                "pixart", "cosmos", "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image",
                                "hunyuan_image")),
                        new Input("device", "COMBO", false, List.of("default", "cpu"), null, null)), List.of("CLIP"), false)),
                Map.entry("VAELoader", new NodeType(List.of(combo("vae_name", models.get("vae"))), List.of("VAE"), false)),
                Map.entry("LoraLoaderModelOnly", new NodeType(List.of(model, combo("lora_name", models.get("loras")),
                        number("strength_model", "FLOAT", "-100", "100")), List.of("MODEL"), false)),
                Map.entry("ModelSamplingAuraFlow", new NodeType(List.of(model, number("shift", "FLOAT", "0", "100")),
                        List.of("MODEL"), false)),
                Map.entry("EmptySD3LatentImage", new NodeType(List.of(number("width", "INT", "16", "16384"),
                        number("height", "INT", "16", "16384"), number("batch_size", "INT", "1", "4096")), List.of("LATENT"), false)),
                Map.entry("CLIPTextEncode", new NodeType(List.of(new Input("text", "STRING", true, null, null, null), clip),
                        List.of("CONDITIONING"), false)),
                Map.entry("KSampler", new NodeType(List.of(model, number("seed", "INT", "0", "18446744073709551615"),
                        number("steps", "INT", "1", "10000"), number("cfg", "FLOAT", "0", "100"),
                        combo("sampler_name", List.of("euler", "euler_cfg_pp", "euler_ancestral", "heun", "dpm_2", "lms",
                                "dpmpp_2m", "dpmpp_sde", "res_multistep", "ddim", "uni_pc", "lcm")),
                        combo("scheduler", List.of("simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta",
                                "normal", "linear_quadratic", "kl_optimal")),
                        link("positive", "CONDITIONING"), link("negative", "CONDITIONING"), link("latent_image", "LATENT"),
                        number("denoise", "FLOAT", "0", "1")), List.of("LATENT"), false)),
                Map.entry("VAEDecode", new NodeType(List.of(link("samples", "LATENT"), link("vae", "VAE")), List.of("IMAGE"), false)),
                Map.entry("LoadImage", new NodeType(List.of(new Input("image", "STRING", true, null, null, null)),
                        List.of("IMAGE", "MASK"), false)),
                Map.entry("VAEEncode", new NodeType(List.of(link("pixels", "IMAGE"), link("vae", "VAE")), List.of("LATENT"), false)),
                Map.entry("CFGNorm", new NodeType(List.of(model, number("strength", "FLOAT", "0", "100")), List.of("MODEL"), false)),
                Map.entry("TextEncodeQwenImageEdit", new NodeType(List.of(clip, new Input("prompt", "STRING", true, null, null, null),
                        optional("vae", "VAE"), optional("image", "IMAGE")), List.of("CONDITIONING"), false)),
                Map.entry("TextEncodeQwenImageEditPlus", new NodeType(List.of(clip,
                        new Input("prompt", "STRING", true, null, null, null), optional("vae", "VAE"), optional("image1", "IMAGE"),
                        optional("image2", "IMAGE"), optional("image3", "IMAGE")), List.of("CONDITIONING"), false)),
                Map.entry("SaveImage", new NodeType(List.of(link("images", "IMAGE"),
                        new Input("filename_prefix", "STRING", true, null, null, null)), List.of(), true)),
                Map.entry("PreviewImage", new NodeType(List.of(link("images", "IMAGE")), List.of(), true)));
    }

    private static Input link(String name, String type) {
        return new Input(name, type, true, null, null, null);
    }

    private static Input optional(String name, String type) {
        return new Input(name, type, false, null, null, null);
    }

    private static Input combo(String name, List<String> options) {
        return new Input(name, "COMBO", true, options, null, null);
    }

    private static Input number(String name, String type, String min, String max) {
        return new Input(name, type, true, null, new BigDecimal(min), new BigDecimal(max));
    }

    private List<String> outputNodes(ObjectNode prompt) {
        List<String> out = new ArrayList<>();
        prompt.fields().forEachRemaining(e -> {
            NodeType t = catalogue().get(e.getValue().path("class_type").asText());
            if (t != null && t.outputNode()) {
                out.add(e.getKey());
            }
        });
        return out;
    }

    // ---- execution (main.py prompt_worker, execution.py PromptExecutor) ------------------------

    private void work() {
        while (!closed) {
            Item item;
            int myEpoch;
            synchronized (lock) {
                while (queue.isEmpty() && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                item = queue.poll();
                running = item;
                interruptFlag = false;
                myEpoch = epoch;
            }
            broadcastStatus();
            try {
                execute(item, myEpoch);
            } catch (RuntimeException e) {
                if (!closed) {
                    throw e;
                }
            }
        }
    }

    private void execute(Item item, int myEpoch) {
        String pid = item.promptId();
        String sid = item.extraData().path("client_id").asText(null);
        Trouble trouble;
        synchronized (lock) {
            trouble = troubles.poll();
        }
        ArrayNode messages = F.arrayNode();
        send(sid, "execution_start", F.objectNode().put("prompt_id", pid).put("timestamp", System.currentTimeMillis()), messages);
        ObjectNode cached = F.objectNode();
        cached.putArray("nodes");
        cached.put("prompt_id", pid).put("timestamp", System.currentTimeMillis());
        send(sid, "execution_cached", cached, messages);
        ObjectNode outputs = F.objectNode();
        List<String> executed = new ArrayList<>();
        boolean dropped = false;
        for (String id : executionOrder(item.prompt(), item.outputs())) {
            JsonNode node = item.prompt().get(id);
            String classType = node.get("class_type").asText();
            if (aborted(myEpoch)) {
                return;
            }
            if (interruptFlag) {
                finishInterrupted(item, sid, id, classType, executed, messages);
                return;
            }
            send(sid, "executing", F.objectNode().put("node", id).put("display_node", id).put("prompt_id", pid), null);
            if (classType.equals("UNETLoader") && !slowStart.isZero()) {
                sleepInterruptibly(slowStart);
            }
            if (classType.equals("KSampler")) {
                int steps = node.path("inputs").path("steps").asInt(1);
                for (int step = 1; step <= steps; step++) {
                    if (aborted(myEpoch)) {
                        return;
                    }
                    if (interruptFlag) {
                        finishInterrupted(item, sid, id, classType, executed, messages);
                        return;
                    }
                    if (trouble != null && trouble.atStep() == step) {
                        switch (trouble.kind()) {
                            case "fail" -> {
                                finishFailed(item, sid, id, classType, executed, trouble, messages);
                                return;
                            }
                            case "drop" -> {
                                wsBlocked = true;
                                dropped = true;
                                WsContext ws = sid == null ? null : sockets.remove(sid);
                                if (ws != null) {
                                    ws.closeSession(1001, "going away"); // as a proxy or a network hiccup would
                                }
                            }
                            case "restart" -> {
                                restart();
                                return;
                            }
                            default -> throw new IllegalStateException(trouble.kind());
                        }
                    }
                    sleepInterruptibly(stepDelay);
                    ObjectNode p = F.objectNode().put("value", step).put("max", steps).put("prompt_id", pid).put("node", id);
                    send(sid, "progress", p, null);
                }
            }
            if (classType.equals("SaveImage") || classType.equals("PreviewImage")) {
                ObjectNode out = F.objectNode();
                out.putArray("images").add(saveImage(item.prompt(), node, classType.equals("SaveImage") ? "output" : "temp"));
                outputs.set(id, out);
                ObjectNode ex = F.objectNode().put("node", id).put("display_node", id);
                ex.set("output", out);
                ex.put("prompt_id", pid);
                send(sid, "executed", ex, null);
            }
            executed.add(id);
        }
        send(sid, "execution_success", F.objectNode().put("prompt_id", pid).put("timestamp", System.currentTimeMillis()), messages);
        finish(item, outputs, "success", true, messages, myEpoch);
        send(sid, "executing", F.objectNode().putNull("node").put("prompt_id", pid), null);
        if (dropped) {
            wsBlocked = false;
        }
    }

    private void finishFailed(Item item, String sid, String nodeId, String classType, List<String> executed, Trouble t,
                              ArrayNode messages) {
        ObjectNode mes = F.objectNode().put("prompt_id", item.promptId()).put("node_id", nodeId).put("node_type", classType);
        executed.forEach(mes.putArray("executed")::add);
        mes.put("exception_message", t.message()).put("exception_type", t.exceptionType());
        mes.putArray("traceback").add("  File \"/ComfyUI/execution.py\", line 496, in execute\n");
        mes.putObject("current_inputs");
        mes.putArray("current_outputs");
        mes.put("timestamp", System.currentTimeMillis());
        send(sid, "execution_error", mes, messages);
        finish(item, F.objectNode(), "error", false, messages, epochNow());
        send(sid, "executing", F.objectNode().putNull("node").put("prompt_id", item.promptId()), null);
    }

    private void finishInterrupted(Item item, String sid, String nodeId, String classType, List<String> executed, ArrayNode messages) {
        ObjectNode mes = F.objectNode().put("prompt_id", item.promptId()).put("node_id", nodeId).put("node_type", classType);
        executed.forEach(mes.putArray("executed")::add);
        mes.put("timestamp", System.currentTimeMillis());
        send(sid, "execution_interrupted", mes, messages);
        finish(item, F.objectNode(), "error", false, messages, epochNow());
        send(sid, "executing", F.objectNode().putNull("node").put("prompt_id", item.promptId()), null);
    }

    private void finish(Item item, ObjectNode outputs, String status, boolean completed, ArrayNode messages, int myEpoch) {
        synchronized (lock) {
            if (epoch != myEpoch) {
                return;
            }
            ObjectNode entry = F.objectNode();
            entry.set("prompt", item.json());
            entry.set("outputs", outputs);
            ObjectNode s = entry.putObject("status");
            s.put("status_str", status).put("completed", completed);
            s.set("messages", messages);
            entry.putObject("meta");
            history.put(item.promptId(), entry);
            running = null;
        }
        broadcastStatus();
    }

    private void restart() {
        synchronized (lock) {
            queue.clear();
            history.clear();
            running = null;
            epoch++;
        }
        for (WsContext ws : List.copyOf(sockets.values())) {
            ws.closeSession(1001, "server restarting");
        }
        sockets.clear();
    }

    private boolean aborted(int myEpoch) {
        return closed || epochNow() != myEpoch;
    }

    private int epochNow() {
        synchronized (lock) {
            return epoch;
        }
    }

    private List<String> executionOrder(ObjectNode prompt, List<String> outputs) {
        Set<String> order = new LinkedHashSet<>();
        for (String o : outputs) {
            visit(prompt, o, order);
        }
        return new ArrayList<>(order);
    }

    private void visit(ObjectNode prompt, String id, Set<String> order) {
        if (order.contains(id)) {
            return;
        }
        for (JsonNode v : prompt.get(id).path("inputs")) {
            if (v.isArray() && v.size() == 2 && prompt.has(v.get(0).asText())) {
                visit(prompt, v.get(0).asText(), order);
            }
        }
        order.add(id);
    }

    private ObjectNode saveImage(ObjectNode prompt, JsonNode saveNode, String type) {
        int width = 64;
        int height = 64;
        for (JsonNode n : prompt) {
            if (n.path("class_type").asText().equals("EmptySD3LatentImage")) {
                width = n.path("inputs").path("width").asInt(64);
                height = n.path("inputs").path("height").asInt(64);
            }
            JsonNode pixels = n.path("inputs").path("pixels");
            if (n.path("class_type").asText().equals("VAEEncode") && pixels.isArray()) {
                // an edit: the latent, so the image, has the size of the picture LoadImage read
                BufferedImage input = loadedImage(prompt, pixels.get(0).asText());
                width = input.getWidth() / 8 * 8;
                height = input.getHeight() / 8 * 8;
            }
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setPaint(new GradientPaint(0, 0, new Color(30, 90, 200), width, height, new Color(240, 180, 40)));
        g.fillRect(0, 0, width, height);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String prefix = type.equals("output") ? saveNode.path("inputs").path("filename_prefix").asText("ComfyUI") : "ComfyUI_temp_abcde";
        String filename;
        synchronized (lock) {
            filename = prefix + "_" + String.format("%05d", ++counter) + "_.png";
        }
        files.put(type + "//" + filename, png.toByteArray());
        return F.objectNode().put("filename", filename).put("subfolder", "").put("type", type);
    }

    private BufferedImage loadedImage(ObjectNode prompt, String loadImageId) {
        String name = prompt.path(loadImageId).path("inputs").path("image").asText();
        int slash = name.lastIndexOf('/');
        String key = "input/" + (slash < 0 ? "" : name.substring(0, slash)) + "/" + (slash < 0 ? name : name.substring(slash + 1));
        try {
            BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(files.get(key)));
            if (img == null) {
                throw new IllegalStateException("cannot identify image file " + name); // PIL's UnidentifiedImageError
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- messages ---------------------------------------------------------------------------

    private ObjectNode queueInfo() {
        int remaining;
        synchronized (lock) {
            remaining = queue.size() + (running == null ? 0 : 1);
        }
        ObjectNode info = F.objectNode();
        info.putObject("exec_info").put("queue_remaining", remaining);
        return info;
    }

    private void broadcastStatus() {
        ObjectNode data = F.objectNode();
        data.set("status", queueInfo());
        for (WsContext ws : List.copyOf(sockets.values())) {
            send(ws, "status", data);
        }
    }

    /** Sends to the socket of {@code sid} (every socket when null), and records it for the history's status messages. */
    private void send(String sid, String type, ObjectNode data, ArrayNode record) {
        if (record != null) {
            record.addArray().add(type).add(data);
        }
        if (sid == null) {
            List.copyOf(sockets.values()).forEach(ws -> send(ws, type, data));
        } else {
            WsContext ws = sockets.get(sid);
            if (ws != null) {
                send(ws, type, data);
            }
        }
    }

    private static void send(WsContext ws, String type, ObjectNode data) {
        ObjectNode message = F.objectNode().put("type", type);
        message.set("data", data);
        synchronized (ws) {
            try {
                ws.send(JSON.writeValueAsString(message));
            } catch (IOException | RuntimeException e) {
                // a socket closing under us: ComfyUI logs "send error" and goes on (send_socket_catch_exception)
            }
        }
    }

    private static ObjectNode error(String type, String message, String details) {
        ObjectNode e = F.objectNode().put("type", type).put("message", message).put("details", details);
        e.putObject("extra_info");
        return e;
    }

    private static ObjectNode reason(String type, String message, String details) {
        return error(type, message, details);
    }

    private static ObjectNode errorBody(ObjectNode error, ObjectNode nodeErrors) {
        ObjectNode body = F.objectNode();
        body.set("error", error);
        body.set("node_errors", nodeErrors);
        return body;
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json; charset=utf-8");
        try {
            ctx.result(JSON.writeValueAsBytes(body));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Python's repr of a str, as ComfyUI's messages print it. */
    static String pyRepr(String s) {
        boolean useDouble = s.contains("'") && !s.contains("\"");
        char q = useDouble ? '"' : '\'';
        String body = s.replace("\\", "\\\\");
        body = useDouble ? body : body.replace("'", "\\'");
        return q + body + q;
    }

    private static String pyList(List<String> items) {
        List<String> r = new ArrayList<>();
        items.forEach(i -> r.add(pyRepr(i)));
        return "[" + String.join(", ", r) + "]";
    }

    private void sleepInterruptibly(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (!closed && !interruptFlag && System.nanoTime() < end) {
            sleep(Duration.ofNanos(Math.min(Duration.ofMillis(5).toNanos(), end - System.nanoTime())));
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(0, d.toMillis()), (int) Math.max(0, d.toNanosPart() % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
