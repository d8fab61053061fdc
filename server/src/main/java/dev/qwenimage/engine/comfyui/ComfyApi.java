package dev.qwenimage.engine.comfyui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.qwenimage.engine.http.EngineCallException;
import dev.qwenimage.engine.http.EngineHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * ComfyUI's HTTP API as this engine uses it, each call with a time limit. Paths, bodies and answers
 * are those of ComfyUI's server.py: {@code POST /prompt}, {@code GET /queue}, {@code POST /queue}
 * (delete), {@code POST /interrupt}, {@code GET /history/{prompt_id}}, {@code GET /view},
 * {@code GET /system_stats}, {@code POST /upload/image}.
 */
final class ComfyApi {
    /** Where ComfyUI looks for the file a loader input names (folder_paths.py), for error hints. */
    private static final Map<String, String> MODEL_FOLDERS = Map.of(
            "unet_name", "models/diffusion_models", "clip_name", "models/text_encoders",
            "vae_name", "models/vae", "lora_name", "models/loras", "ckpt_name", "models/checkpoints");

    private final EngineHttp http;
    private final Duration timeout;

    ComfyApi(EngineHttp http, Duration timeout) {
        this.http = http;
        this.timeout = timeout;
    }

    /** The same API with another limit per call. */
    ComfyApi withTimeout(Duration limit) {
        return new ComfyApi(http, limit);
    }

    /** One image a node saved: the {@code {filename, subfolder, type}} of ComfyUI's history outputs. */
    record SavedImage(String filename, String subfolder, String type) {
    }

    /** Which prompts ComfyUI has running and waiting ({@code GET /queue}). */
    record Queue(Set<String> running, Set<String> pending) {
        boolean contains(String promptId) {
            return running.contains(promptId) || pending.contains(promptId);
        }
    }

    /**
     * Queues {@code workflow} ({@code POST /prompt}) and returns the prompt id ComfyUI gave it: ours
     * where ComfyUI accepts a client's {@code prompt_id}, its own on older versions. A 400 with
     * ComfyUI's {@code {"error", "node_errors"}} body is a permanent {@link JobFailure} naming what
     * ComfyUI refused.
     */
    String submit(ObjectNode workflow, String clientId, String promptId)
            throws EngineCallException, JobFailure, InterruptedException {
        ObjectNode body = EngineHttp.json().createObjectNode();
        body.set("prompt", workflow);
        body.put("client_id", clientId);
        body.put("prompt_id", promptId);
        EngineHttp.Response r = http.postJson("/prompt", body, timeout);
        if (r.status() == 400) {
            JsonNode answer = parse(r.body());
            if (answer != null && answer.has("error")) {
                throw new JobFailure(false, "ComfyUI refused the workflow: " + refusal(answer));
            }
        }
        EngineHttp.requireOk(r, "POST /prompt");
        String accepted = r.json().path("prompt_id").asText("");
        if (accepted.isBlank()) {
            throw new EngineCallException(true, "POST /prompt answered without a prompt_id: " + EngineHttp.abbreviate(r.text()));
        }
        return accepted;
    }

    /**
     * Uploads an edit's input picture into ComfyUI's input folder ({@code POST /upload/image}:
     * multipart fields {@code image} (the file), {@code type=input}, {@code overwrite=true}) and
     * returns the name a LoadImage node takes for it: ComfyUI's answer {@code {"name", "subfolder",
     * "type"}}, as {@code subfolder/name} when it has a subfolder. A 4xx refusal is permanent, a 5xx
     * or no answer transient.
     */
    String upload(String filename, byte[] png, String contentType) throws EngineCallException, InterruptedException {
        String boundary = "----qwen-image-server-" + UUID.randomUUID().toString().replace("-", "");
        ByteArrayOutputStream body = new ByteArrayOutputStream(png.length + 512);
        part(body, boundary, "Content-Disposition: form-data; name=\"image\"; filename=\"" + filename + "\"\r\n"
                + "Content-Type: " + contentType, png);
        part(body, boundary, "Content-Disposition: form-data; name=\"type\"", "input".getBytes(StandardCharsets.UTF_8));
        part(body, boundary, "Content-Disposition: form-data; name=\"overwrite\"", "true".getBytes(StandardCharsets.UTF_8));
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        EngineHttp.Response r = http.send(http.request("/upload/image", timeout.multipliedBy(2))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
        if (!r.ok()) {
            boolean transientStatus = r.status() == 408 || r.status() == 425 || r.status() == 429 || r.status() >= 500;
            throw new EngineCallException(transientStatus, (transientStatus ? "could not take" : "refused") + " the edit's input "
                    + "image: POST /upload/image answered HTTP " + r.status() + (r.body().length == 0 ? "" : ": " + EngineHttp.abbreviate(r.text())));
        }
        JsonNode answer = r.json();
        String name = answer.path("name").asText("");
        if (name.isBlank()) {
            throw new EngineCallException(true, "POST /upload/image answered without the uploaded file's name: "
                    + EngineHttp.abbreviate(r.text()));
        }
        String subfolder = answer.path("subfolder").asText("");
        return subfolder.isBlank() ? name : subfolder + "/" + name;
    }

    private static void part(ByteArrayOutputStream body, String boundary, String headers, byte[] content) {
        body.writeBytes(("--" + boundary + "\r\n" + headers + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }

    Queue queue() throws EngineCallException, InterruptedException {
        JsonNode q = EngineHttp.requireOk(http.get("/queue", timeout), "GET /queue").json();
        return new Queue(ids(q.path("queue_running")), ids(q.path("queue_pending")));
    }

    /** The history entry of a finished prompt, or empty while it is queued, running, or unknown. */
    Optional<JsonNode> history(String promptId) throws EngineCallException, InterruptedException {
        JsonNode h = EngineHttp.requireOk(http.get("/history/" + enc(promptId), timeout), "GET /history").json();
        JsonNode entry = h.path(promptId);
        return entry.isObject() ? Optional.of(entry) : Optional.empty();
    }

    /** The bytes of a saved image; any failure is transient (the image exists, fetching it failed). */
    byte[] view(SavedImage image) throws EngineCallException, InterruptedException {
        String path = "/view?filename=" + enc(image.filename()) + "&subfolder=" + enc(image.subfolder())
                + "&type=" + enc(image.type());
        EngineHttp.Response r = http.get(path, timeout.multipliedBy(2));
        if (!r.ok()) {
            throw new EngineCallException(true, "GET /view of " + image.filename() + " answered HTTP " + r.status());
        }
        return r.body();
    }

    /** Removes a waiting prompt from the queue ({@code POST /queue {"delete": [id]}}); a no-op for others. */
    void deleteFromQueue(String promptId) throws EngineCallException, InterruptedException {
        EngineHttp.requireOk(http.postJson("/queue", Map.of("delete", List.of(promptId)), timeout), "POST /queue");
    }

    /**
     * Interrupts {@code promptId} if it is the one running ({@code POST /interrupt {"prompt_id"}});
     * current ComfyUI checks that itself, and callers check {@link #queue} first for versions that
     * interrupt whatever runs.
     */
    void interrupt(String promptId) throws EngineCallException, InterruptedException {
        EngineHttp.requireOk(http.postJson("/interrupt", Map.of("prompt_id", promptId), timeout), "POST /interrupt");
    }

    JsonNode systemStats(Duration limit) throws EngineCallException, InterruptedException {
        EngineHttp.Response r = EngineHttp.requireOk(http.get("/system_stats", limit), "GET /system_stats");
        JsonNode stats = parse(r.body());
        return stats == null ? EngineHttp.json().createObjectNode() : stats;
    }

    /**
     * ComfyUI's validation answer in one line: the top message, then each failing node's errors
     * (execution.py validate_prompt: {@code error: {type, message, details}}, {@code node_errors:
     * {id: {class_type, errors: [{type, message, details, extra_info: {input_name}}]}}}).
     */
    static String refusal(JsonNode answer) {
        JsonNode error = answer.path("error");
        StringBuilder out = new StringBuilder();
        if (error.isTextual()) {
            out.append(error.asText());
        } else {
            out.append(error.path("message").asText("invalid prompt"));
        }
        JsonNode nodeErrors = answer.path("node_errors");
        if (nodeErrors.isObject() && !nodeErrors.isEmpty()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = nodeErrors.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.append("; ").append(e.getValue().path("class_type").asText("node")).append(" (node ").append(e.getKey()).append(")");
                String sep = ": ";
                for (JsonNode err : e.getValue().path("errors")) {
                    out.append(sep).append(err.path("message").asText(""));
                    String details = err.path("details").asText("");
                    if (!details.isBlank()) {
                        out.append(": ").append(details);
                    }
                    String folder = MODEL_FOLDERS.get(err.path("extra_info").path("input_name").asText(""));
                    if (folder != null && err.path("type").asText("").equals("value_not_in_list")) {
                        out.append(" (is the file in ComfyUI's ").append(folder).append(" folder?)");
                    }
                    sep = ", ";
                }
            }
        } else if (error.isObject()) {
            String details = error.path("details").asText("");
            if (!details.isBlank()) {
                out.append(": ").append(details);
            }
        }
        return shorten(out.toString(), 1000);
    }

    static String shorten(String s, int max) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() <= max ? one : one.substring(0, max) + "…";
    }

    private static Set<String> ids(JsonNode items) {
        // each item is [number, prompt_id, prompt, extra_data, outputs_to_execute]
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode item : items) {
            if (item.isArray() && item.size() > 1) {
                ids.add(item.get(1).asText());
            }
        }
        return ids;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return EngineHttp.json().readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
