package dev.qwenimage.api;

import dev.qwenimage.ops.Logging;
import dev.qwenimage.config.ServerConfig;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.qwenimage.auth.AdminToken;
import dev.qwenimage.tenant.KeyCheck;
import dev.qwenimage.tenant.Limits;
import dev.qwenimage.tenant.SubmitRate;
import dev.qwenimage.tenant.Tenants;
import dev.qwenimage.task.EngineNotAllowed;
import dev.qwenimage.edit.EditInputs;
import dev.qwenimage.edit.ImageRejected;
import dev.qwenimage.engine.TaskKind;
import dev.qwenimage.task.KindUnavailable;
import dev.qwenimage.task.QuotaExceeded;
import dev.qwenimage.storage.BlobStore;
import dev.qwenimage.storage.LocalBlobStore;
import dev.qwenimage.storage.UrlSigner;
import dev.qwenimage.task.InvalidTaskRequest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.qwenimage.task.CancelOutcome;
import dev.qwenimage.task.IdempotencyKey;
import dev.qwenimage.task.IdempotencyKeyReused;
import dev.qwenimage.task.QueueLimitReached;
import dev.qwenimage.ops.Metrics;
import dev.qwenimage.webhook.WebhookSigner;
import java.util.function.Consumer;
import dev.qwenimage.task.StoreException;
import dev.qwenimage.task.SubmitsPaused;
import dev.qwenimage.task.TaskIds;
import dev.qwenimage.task.TaskNotFound;
import dev.qwenimage.task.TaskService;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP layer: routes of the PPIO-compatible API, signed image links, the browser playground and
 * admin page ({@link WebPages}) and health. Handlers only map HTTP to domain calls; every error, wherever it
 * is raised, leaves through {@link #error} as the contract's error body.
 */
public final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    /** Retry-After when the task store failed: its write probe looks again every 2 s. */
    private static final long STORE_RETRY_SECONDS = 5;
    private static final String ERROR_WRITTEN = "qwen-image.error-written";
    private static final String TIMED_ROUTE = "qwen-image.route";
    private static final String TIMED_START = "qwen-image.start";
    private static final Pattern HOST_HEADER = Pattern.compile("[A-Za-z0-9.\\-]+(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?");
    /**
     * Headers that name one thing (who calls, which retry, what the body is). Sent twice, a proxy
     * reading the last copy and this service would disagree, so such a request is refused (Jetty
     * itself refuses two Host headers and two Content-Lengths: {@link JettyErrors}).
     */
    private static final List<String> SINGLE_VALUED = List.of("Authorization", "Idempotency-Key", "Content-Type");

    /**
     * Everything the routes need, supplied by the server assembly. A worker node serves only
     * /healthz: its {@code tasks} and {@code keys} are empty.
     */
    public record Deps(Optional<TaskService> tasks, Optional<Tenants> tenants, Optional<AdminToken> admin, BlobStore blobs, UrlSigner signer, Duration urlTtl,
                       Optional<String> publicUrl, String listenHost, Supplier<Map<String, Object>> health,
                       Consumer<String> stopHere, WebhookSigner webhooks, Duration syncTimeout, Optional<Metrics> metrics,
                       Supplier<Map<String, Object>> readiness, Duration requestTimeout, Optional<EditInputs> editInputs,
                       ServerConfig.Edit editLimits) {
    }

    private final Deps deps;
    /**
     * Request handlers run on virtual threads, where Jackson's default thread-local buffer pool
     * would allocate fresh buffers for every request; a shared pool recycles them.
     */
    private final ObjectMapper json = new ObjectMapper(JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build())
            .registerModule(new com.fasterxml.jackson.module.blackbird.BlackbirdModule());
    private final RequestBodies bodies;
    private final OpenAiImages openAi;
    private final EditBodies editBodies;
    private final EditForms editForms;
    private final SubmitRate rates = new SubmitRate();

    /** Who calls: the key's owner id (whose tasks these are) and the limits that apply to it. */
    record Caller(String owner, Limits limits) {
    }

    public HttpApi(Deps deps) {
        this.deps = deps;
        this.bodies = new RequestBodies(json, deps.requestTimeout());
        this.editBodies = new EditBodies(bodies.mapper(), bodies, deps.editLimits().maxBodyBytes(), deps.editLimits().maxImageBytes());
        this.editForms = new EditForms(bodies, deps.editLimits().maxBodyBytes());
        this.openAi = deps.tasks().map(t -> new OpenAiImages(t, deps.blobs(), deps.signer().clock(), deps.syncTimeout())).orElse(null);
    }

    /** The deadline on receiving a request in full where none is configured ({@code QWEN_IMAGE_REQUEST_TIMEOUT}'s default). */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /**
     * The HTTP server settings of the service, shared with the benchmark's bare baseline so both
     * run on the same stack: virtual threads, no response compression (bodies are a few hundred
     * bytes; images are already compressed), 64 KiB request limit, the contract's error body on
     * what Jetty answers itself, and the deadline on receiving a request.
     */
    public static void serverSettings(JavalinConfig cfg, String host, int port) {
        serverSettings(cfg, host, port, DEFAULT_REQUEST_TIMEOUT);
    }

    /** As {@link #serverSettings(JavalinConfig, String, int)}, where a request must arrive in full within {@code requestTimeout}. */
    public static void serverSettings(JavalinConfig cfg, String host, int port, Duration requestTimeout) {
        cfg.startup.showJavalinBanner = false;
        cfg.startup.showOldJavalinVersionWarning = false;
        cfg.http.prefer405over404 = true;
        cfg.http.maxRequestSize = RequestBodies.MAX_BODY_BYTES;
        cfg.http.compressionStrategy = CompressionStrategy.NONE;
        cfg.concurrency.useVirtualThreads = true;
        cfg.jetty.host = host;
        cfg.jetty.port = port;
        JettyErrors errors = new JettyErrors(requestTimeout);
        cfg.jetty.modifyServer(server -> {
            server.setErrorHandler(errors);
            server.insertHandler(errors.emptyBodies());
            server.addBean(new RequestDeadline(server, requestTimeout));
            // a graceful stop (a stop timeout set) answers the requests in flight before it closes their connections
            server.insertHandler(new org.eclipse.jetty.server.handler.GracefulHandler());
        });
        cfg.jetty.modifyServletContextHandler(context -> context.setErrorHandler(errors));
    }

    public Javalin create(String host, int port) {
        return Javalin.create(cfg -> {
            serverSettings(cfg, host, port, deps.requestTimeout());

            cfg.routes.before(HttpApi::refuseRepeatedHeaders);
            if (deps.tasks().isPresent()) {
                cfg.routes.post("/v3/async/qwen-image-txt2img", timed("/v3/async/qwen-image-txt2img", this::submit));
                cfg.routes.post("/v3/async/qwen-image-edit", timed("/v3/async/qwen-image-edit", this::submitEdit));
                cfg.routes.get("/v3/async/task-result", timed("/v3/async/task-result", this::taskResult));
                cfg.routes.post("/v3/async/task-cancel", timed("/v3/async/task-cancel", this::cancel));
                cfg.routes.get("/v3/webhook-secret", timed("/v3/webhook-secret", this::webhookSecret));
                cfg.routes.post("/v1/images/generations", timed("/v1/images/generations", this::openAiGenerate));
                cfg.routes.post("/v1/images/edits", timed("/v1/images/edits", this::openAiEdit));
                cfg.routes.get("/v1/models", timed("/v1/models", ctx -> {
                    authenticate(ctx);
                    writeJson(ctx, 200, openAi.models());
                }));
                if (deps.tenants().isPresent() && deps.admin().isPresent()) {
                    new AdminApi(deps.tenants().get(), deps.admin().get(), json, bodies, deps.signer().clock()).routes(cfg.routes);
                }
                if (deps.blobs() instanceof LocalBlobStore) {
                    // images on local disk are served here; an S3 bucket serves its own (presigned links)
                    cfg.routes.get("/files/{key}", this::file);
                }
                // the browser pages, beside the APIs they call (same origin, no CORS); they hold no data
                WebPages pages = WebPages.load();
                cfg.routes.get("/", pages.page(WebPages.PLAYGROUND));
                cfg.routes.head("/", pages.page(WebPages.PLAYGROUND));
                cfg.routes.get("/admin", pages.page(WebPages.ADMIN));
                cfg.routes.head("/admin", pages.page(WebPages.ADMIN));
                cfg.routes.get("/assets/{version}/{file}", pages::asset);
                cfg.routes.head("/assets/{version}/{file}", pages::asset);
            }
            cfg.routes.get("/healthz", ctx -> writeJson(ctx, 200, deps.health().get()));
            cfg.routes.get("/readyz", ctx -> {
                Map<String, Object> r = deps.readiness().get();
                writeJson(ctx, Boolean.TRUE.equals(r.get("ready")) ? 200 : 503, r);
            });
            deps.metrics().ifPresent(m -> {
                cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(m.scrape()));
                cfg.routes.after(ctx -> {
                    Long start = ctx.attribute(TIMED_START);
                    if (start != null) {
                        m.http(ctx.attribute(TIMED_ROUTE), ctx.method().name(), ctx.statusCode(), System.nanoTime() - start);
                    }
                });
            });

            cfg.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e.status(), e.reason(), e.getMessage(), e.metadata(), e.headers()));
            cfg.routes.exception(InvalidTaskRequest.class, (e, ctx) ->
                    error(ctx, 400, e.reason(), e.getMessage(), Map.of("field", e.field()), Map.of()));
            cfg.routes.exception(QueueLimitReached.class, (e, ctx) -> error(ctx, e.perKey() ? 429 : 503,
                    e.perKey() ? "RATE_LIMITED" : "QUEUE_FULL", e.getMessage(), Map.of("retry_after", e.retryAfterSeconds()),
                    Map.of("Retry-After", Long.toString(e.retryAfterSeconds()))));
            cfg.routes.exception(QuotaExceeded.class, (e, ctx) -> error(ctx, 429, "QUOTA_EXCEEDED", e.getMessage(),
                    Map.of("retry_after", e.retryAfterSeconds()), Map.of("Retry-After", Long.toString(e.retryAfterSeconds()))));
            cfg.routes.exception(ImageRejected.class, (e, ctx) ->
                    error(ctx, 400, e.reason(), e.getMessage(), Map.of("field", "image"), Map.of()));
            cfg.routes.exception(KindUnavailable.class, (e, ctx) -> error(ctx, 503,
                    e.kind() == TaskKind.EDIT ? "NO_EDIT_ENGINE" : "NO_TEXT_TO_IMAGE_ENGINE", e.getMessage(), Map.of(), Map.of()));
            cfg.routes.exception(EngineNotAllowed.class, (e, ctx) -> error(ctx, 403, "ENGINE_NOT_ALLOWED", e.getMessage(), Map.of(), Map.of()));
            AdminApi.errors(cfg.routes, (ctx, status, reason, message, metadata) -> error(ctx, status, reason, message, metadata, Map.of()));
            cfg.routes.exception(IdempotencyKeyReused.class, (e, ctx) -> error(ctx, 422, "IDEMPOTENCY_KEY_REUSED", e.getMessage(),
                    Map.of("task_id", e.taskId()), Map.of()));
            cfg.routes.exception(SubmitsPaused.class, (e, ctx) -> error(ctx, 503, e.reason(), e.getMessage(),
                    Map.of("retry_after", e.retryAfterSeconds()), Map.of("Retry-After", Long.toString(e.retryAfterSeconds()))));
            cfg.routes.exception(StoreException.class, (e, ctx) -> {
                if (!e.unavailable()) {
                    internalError(ctx, e); // the store refused this request for its own reasons: a bug, not worth a retry
                    return;
                }
                // the database failed (full, read-only, unreachable) or is saturated: try again shortly
                String errorId = Logging.errorId();
                log.error("task store failed on {} {} (error id {}): {}", ctx.method(), ctx.path(), errorId, e.getMessage());
                error(ctx, 503, "STORE_UNAVAILABLE", "the task store cannot be used right now, so the request may not have "
                        + "been stored; try again in a few seconds, with the same Idempotency-Key to be safe (error id " + errorId
                        + ")", Map.of("retry_after", STORE_RETRY_SECONDS), Map.of("Retry-After", Long.toString(STORE_RETRY_SECONDS)));
            });
            cfg.routes.exception(TaskNotFound.class, (e, ctx) -> error(ctx, 404, "TASK_NOT_FOUND", e.getMessage(), Map.of(), Map.of()));
            cfg.routes.exception(Exception.class, (e, ctx) -> internalError(ctx, e));
            cfg.routes.error(404, ctx -> defaultError(ctx, 404, "NOT_FOUND", "no such endpoint: " + ctx.method() + " " + ctx.path()));
            cfg.routes.error(405, ctx -> defaultError(ctx, 405, "METHOD_NOT_ALLOWED", ctx.method() + " is not allowed on " + ctx.path()));
            cfg.routes.error(413, ctx -> defaultError(ctx, 413, "PAYLOAD_TOO_LARGE", RequestBodies.tooLarge().getMessage()));
            cfg.routes.error(500, ctx -> defaultError(ctx, 500, "INTERNAL_ERROR", "internal error"));
        });
    }

    // ---- routes ------------------------------------------------------------------------------

    /** Marks the request with its route and start time; the after-handler records it once the status is final. */
    private static io.javalin.http.Handler timed(String route, io.javalin.http.Handler handler) {
        return ctx -> {
            ctx.attribute(TIMED_ROUTE, route);
            ctx.attribute(TIMED_START, System.nanoTime());
            handler.handle(ctx);
        };
    }

    private void submit(Context ctx) {
        Caller caller = authenticate(ctx);
        takeSubmit(ctx, caller);
        JsonNode body = bodies.jsonObject(ctx);
        Optional<IdempotencyKey> key = bodies.idempotencyKey(ctx, body);
        String id = deps.tasks().orElseThrow().submit(caller.owner(), caller.limits(), bodies.submission(body), key);
        deps.metrics().ifPresent(m -> m.keyTasks(caller.owner(), TaskKind.TEXT_TO_IMAGE, "submitted"));
        writeJson(ctx, 200, Map.of("task_id", id));
    }

    /** How this node takes edits' input images; a node built without them refuses edits. */
    private EditInputs editInputs() {
        return deps.editInputs().orElseThrow(() -> new KindUnavailable(TaskKind.EDIT, "this service does not take edits"));
    }

    private void submitEdit(Context ctx) {
        Caller caller = authenticate(ctx);
        takeSubmit(ctx, caller);
        EditInputs inputs = editInputs();
        EditBodies.EditRequest edit = editBodies.read(ctx);
        String id = deps.tasks().orElseThrow().submitEdit(caller.owner(), caller.limits(), edit.submission(),
                () -> inputs.prepare(edit.image()), edit.key(), deps.blobs());
        deps.metrics().ifPresent(m -> m.keyTasks(caller.owner(), TaskKind.EDIT, "submitted"));
        writeJson(ctx, 200, Map.of("task_id", id));
    }

    /**
     * Takes one submit from the caller's per-minute bucket, when its key has a rate limit: the
     * X-RateLimit headers on every answer, 429 RATE_LIMITED with Retry-After when it is empty.
     */
    private void takeSubmit(Context ctx, Caller caller) {
        long perMinute = caller.limits().submitsPerMinute();
        if (perMinute <= 0) {
            return;
        }
        SubmitRate.Decision d = rates.take(caller.owner(), perMinute, System.nanoTime());
        ctx.header("X-RateLimit-Limit", Long.toString(d.limit()));
        ctx.header("X-RateLimit-Remaining", Long.toString(d.remaining()));
        ctx.header("X-RateLimit-Reset", Long.toString(d.resetSeconds()));
        if (!d.allowed()) {
            throw new ApiError(429, "RATE_LIMITED", "this API key may submit " + perMinute + " tasks per minute and has used them; "
                    + "submit again in " + d.retryAfterSeconds() + " s", Map.of("retry_after", d.retryAfterSeconds()),
                    Map.of("Retry-After", Long.toString(d.retryAfterSeconds())));
        }
    }

    private void cancel(Context ctx) {
        String owner = authenticate(ctx).owner();
        String id = bodies.taskId(bodies.jsonObject(ctx));
        CancelOutcome outcome = deps.tasks().orElseThrow().cancel(owner, id, deps.stopHere());
        switch (outcome) {
            case CANCELLED -> writeJson(ctx, 200, Map.of("task_id", id, "status", "TASK_STATUS_FAILED"));
            case REQUESTED -> writeJson(ctx, 200, Map.of("task_id", id, "status", "TASK_STATUS_PROCESSING"));
            case ALREADY_FINISHED -> throw new ApiError(409, "TASK_ALREADY_FINISHED",
                    "task " + TaskIds.quoted(id) + " has already finished; there is nothing to cancel");
            case NOT_FOUND -> throw new TaskNotFound(id);
        }
    }

    private void openAiGenerate(Context ctx) throws InterruptedException {
        Caller caller = authenticate(ctx);
        takeSubmit(ctx, caller);
        writeJson(ctx, 200, openAi.generate(caller.owner(), caller.limits(), bodies.jsonObject(ctx), baseUrl(ctx),
                () -> deps.metrics().ifPresent(m -> m.keyTasks(caller.owner(), TaskKind.TEXT_TO_IMAGE, "submitted"))));
    }

    private void openAiEdit(Context ctx) throws InterruptedException {
        Caller caller = authenticate(ctx);
        takeSubmit(ctx, caller);
        EditInputs inputs = editInputs();
        writeJson(ctx, 200, openAi.edit(caller.owner(), caller.limits(), editForms.read(ctx), inputs, deps.blobs(), baseUrl(ctx),
                () -> deps.metrics().ifPresent(m -> m.keyTasks(caller.owner(), TaskKind.EDIT, "submitted"))));
    }

    private void webhookSecret(Context ctx) {
        String owner = authenticate(ctx).owner();
        writeJson(ctx, 200, Map.of("secret", deps.webhooks().secretFor(owner),
                "scheme", "Standard Webhooks: webhook-signature = v1,base64(HMAC-SHA256(secret, webhook-id.webhook-timestamp.body))"));
    }

    private void taskResult(Context ctx) {
        String owner = authenticate(ctx).owner();
        String id = ctx.queryParam("task_id");
        if (id == null || id.isBlank()) {
            throw new ApiError(400, "MISSING_TASK_ID", "the task_id query parameter is required: /v3/async/task-result?task_id=<id>");
        }
        var view = deps.tasks().orElseThrow().view(owner, id.strip(), () -> baseUrl(ctx));
        writeJson(ctx, 200, TaskResultBody.of(view, deps.urlTtl()));
    }

    private void file(Context ctx) {
        String key = ctx.pathParam("key");
        long expires;
        try {
            expires = Long.parseLong(Optional.ofNullable(ctx.queryParam("expires")).orElse(""));
        } catch (NumberFormatException e) {
            throw new ApiError(403, "INVALID_SIGNATURE", "this image link is incomplete or altered; poll the task again for a fresh link");
        }
        switch (deps.signer().check(key, expires, ctx.queryParam("signature"))) {
            case BAD_SIGNATURE -> throw new ApiError(403, "INVALID_SIGNATURE",
                    "this image link is incomplete or altered; poll the task again for a fresh link");
            case EXPIRED -> throw new ApiError(403, "URL_EXPIRED",
                    "this image link has expired; poll the task again for a fresh link");
            case VALID -> {
            }
        }
        BlobStore.Blob blob = deps.blobs().open(key).orElseThrow(() ->
                new ApiError(404, "IMAGE_NOT_FOUND", "the image no longer exists (removed after the retention period)"));
        ctx.status(200);
        ctx.contentType(blob.contentType());
        ctx.header("Content-Length", Long.toString(blob.size()));
        ctx.header("Cache-Control", "private, max-age=" + (expires == 0 ? 86400 : Math.max(0, expires - deps.signer().clock().instant().getEpochSecond())));
        ctx.result(blob.content());
    }

    // ---- helpers -----------------------------------------------------------------------------

    private void internalError(Context ctx, Exception e) {
        String errorId = Logging.errorId();
        log.error("unhandled error on {} {} (error id {})", ctx.method(), ctx.path(), errorId, e);
        error(ctx, 500, "INTERNAL_ERROR", "internal error; quote error id " + errorId + " when reporting it", Map.of(), Map.of());
    }

    private static void refuseRepeatedHeaders(Context ctx) {
        for (String name : SINGLE_VALUED) {
            java.util.Enumeration<String> values = ctx.req().getHeaders(name);
            if (values != null && values.hasMoreElements()) {
                values.nextElement();
                if (values.hasMoreElements()) {
                    JettyErrors.Answer answer = JettyErrors.duplicate(name);
                    throw new ApiError(400, answer.reason(), answer.message(), answer.metadata(), Map.of());
                }
            }
        }
    }

    /** The caller's key, from {@code Authorization: Bearer <key>} or a bare key; 401 unless it works now. */
    private Caller authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            throw new ApiError(401, "INVALID_API_KEY", "missing API key: send the header Authorization: Bearer <your API key>");
        }
        return switch (deps.tenants().orElseThrow().directory().check(bearer(header))) {
            case KeyCheck.Accepted a -> new Caller(a.key().owner(), a.limits());
            case KeyCheck.Expired e -> throw new ApiError(401, "API_KEY_EXPIRED", "this API key expired at "
                    + e.key().expiresAt().orElseThrow() + "; ask the service's operator for a new one");
            case KeyCheck.Refused r -> {
                if (deps.admin().isPresent() && deps.admin().get().accepts(bearer(header))) {
                    throw new ApiError(401, "INVALID_API_KEY", "this is the admin token, which only /admin/v1/ takes: send an API "
                            + "key (create one with POST /admin/v1/keys)");
                }
                throw new ApiError(401, "INVALID_API_KEY", "the API key is not valid for this server");
            }
        };
    }

    /** The credential in an Authorization header: after "Bearer ", or the whole value. */
    static String bearer(String header) {
        String key = header.strip();
        if (key.regionMatches(true, 0, "Bearer ", 0, 7)) {
            key = key.substring(7).strip();
        }
        return key;
    }

    /** Base of image links: the configured public URL, else derived from the listen address. */
    private String baseUrl(Context ctx) {
        if (deps.publicUrl().isPresent()) {
            return deps.publicUrl().get();
        }
        String listen = deps.listenHost();
        boolean wildcard = ServerConfig.isAllInterfaces(listen);
        String host = ctx.header("Host");
        if (wildcard && host != null && HOST_HEADER.matcher(host).matches()) {
            return "http://" + host.toLowerCase(Locale.ROOT);
        }
        String h = wildcard ? "localhost" : (listen.contains(":") ? "[" + listen + "]" : listen);
        return "http://" + h + ":" + ctx.port();
    }

    private void defaultError(Context ctx, int status, String reason, String message) {
        if (ctx.attribute(ERROR_WRITTEN) == null) {
            error(ctx, status, reason, message, Map.of(), Map.of());
        }
    }

    private void error(Context ctx, int status, String reason, String message, Map<String, Object> metadata,
                       Map<String, String> headers) {
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        headers.forEach(ctx::header);
        ctx.status(status).contentType("application/json").result(ErrorBody.json(ctx.path(), status, reason, message, metadata));
    }

    private void writeJson(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e);
        }
    }
}
