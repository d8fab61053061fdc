package dev.qwenimage.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A client of the Qwen-Image async API, text-to-image ({@link #generate}) and edit ({@link #edit}):
 * this server, or the PPIO / Novita cloud that defined it ({@code https://api.ppio.com}). It is thread-safe and meant to be built once and
 * shared; it holds one {@link HttpClient}.
 *
 * <pre>{@code
 * try (QwenImageClient client = QwenImageClient.builder()
 *         .baseUrl("http://localhost:8080").apiKey(System.getenv("QWEN_IMAGE_API_KEY")).build()) {
 *     GeneratedImage image = client.generate(
 *             GenerateRequest.builder("a red fox in the snow").size(1328, 1328).build(),
 *             Duration.ofMinutes(5), r -> System.out.println(r.status() + " " + r.progressPercent() + "%"));
 *     Files.write(Path.of("fox.jpeg"), image.bytes());
 * }
 * }</pre>
 *
 * <p>Every failure is a {@link QwenImageException}. {@link #submit} retries by itself when the
 * server answers 429 or 503 with a {@code Retry-After} (a bounded number of times, see
 * {@link Builder#maxSubmitRetries}); it never retries another answer, nor a submit that got no
 * answer (the task may exist). {@link #await} rides out short outages while it polls.
 */
public final class QwenImageClient implements AutoCloseable {
    static final String SUBMIT_PATH = "/v3/async/qwen-image-txt2img";
    static final String EDIT_PATH = "/v3/async/qwen-image-edit";
    static final String RESULT_PATH = "/v3/async/task-result";
    static final String CANCEL_PATH = "/v3/async/task-cancel";
    private static final String USER_AGENT = "qwen-image-sdk/" + version();

    private final String baseUrl;
    private final String authorization;
    private final HttpClient http;
    private final boolean ownsHttp;
    private final Duration requestTimeout;
    private final Duration downloadTimeout;
    private final int maxSubmitRetries;
    private final Duration maxRetryWait;
    private final Duration pollInitial;
    private final Duration pollMax;

    private QwenImageClient(Builder b) {
        this.baseUrl = b.baseUrl;
        this.authorization = "Bearer " + b.apiKey;
        this.ownsHttp = b.httpClient == null;
        this.http = b.httpClient != null ? b.httpClient
                : HttpClient.newBuilder().connectTimeout(b.connectTimeout).followRedirects(HttpClient.Redirect.NORMAL).build();
        this.requestTimeout = b.requestTimeout;
        this.downloadTimeout = b.downloadTimeout;
        this.maxSubmitRetries = b.maxSubmitRetries;
        this.maxRetryWait = b.maxRetryWait;
        this.pollInitial = b.pollInitial;
        this.pollMax = b.pollMax;
    }

    /** A builder; {@link Builder#baseUrl} and {@link Builder#apiKey} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The API's base URL, without a trailing slash. */
    public URI baseUrl() {
        return URI.create(baseUrl);
    }

    /**
     * Submits a request and returns the new task's id. A 429 or 503 answer with a
     * {@code Retry-After} is retried after the wait it asks for, up to
     * {@link Builder#maxSubmitRetries} times and only when the wait is at most
     * {@link Builder#maxRetryWait}; then its exception is thrown.
     *
     * @throws QwenImageException when the server refuses the request (400 {@code INVALID_*},
     *                            401 {@code INVALID_API_KEY}, 422 {@code IDEMPOTENCY_KEY_REUSED}...), stays
     *                            overloaded, or does not answer
     */
    public String submit(GenerateRequest request) {
        Objects.requireNonNull(request, "request");
        return submit(SUBMIT_PATH, WireFormat.submitBody(request), request.idempotencyKey(), "submit");
    }

    /**
     * Submits an edit ({@code POST /v3/async/qwen-image-edit}) and returns the new task's id; it
     * is then polled, awaited and downloaded like any other task. Retried as {@link #submit(GenerateRequest)}.
     *
     * @throws QwenImageException when the server refuses the request (400 {@code INVALID_IMAGE},
     *                            {@code IMAGE_TOO_LARGE}, {@code IMAGE_FETCH_FAILED}, 503 {@code NO_EDIT_ENGINE}...),
     *                            stays overloaded, or does not answer
     */
    public String submit(EditRequest request) {
        Objects.requireNonNull(request, "request");
        return submit(EDIT_PATH, WireFormat.editBody(request), request.idempotencyKey(), "edit submit");
    }

    private String submit(String path, byte[] body, String idempotencyKey, String what) {
        for (int attempt = 0; ; attempt++) {
            HttpRequest.Builder http = api(path)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (idempotencyKey != null) {
                http.header("Idempotency-Key", idempotencyKey);
            }
            HttpResponse<byte[]> response = send(http.build(), what);
            if (response.statusCode() / 100 == 2) {
                return WireFormat.taskId(WireFormat.object(response, what), response);
            }
            QwenImageException refused = WireFormat.error(response, what);
            boolean overloaded = refused.status() == 429 || refused.status() == 503;
            Duration wait = refused.retryAfter().orElse(null);
            if (!overloaded || wait == null || attempt >= maxSubmitRetries || wait.compareTo(maxRetryWait) > 0) {
                throw refused;
            }
            sleep(wait);
        }
    }

    /**
     * The task's current state.
     *
     * @throws QwenImageException 404 {@code TASK_NOT_FOUND} for an unknown task (or another key's), or any
     *                            other failure of the call
     */
    public TaskResult get(String taskId) {
        requireTaskId(taskId);
        HttpRequest request = api(RESULT_PATH + "?task_id=" + URLEncoder.encode(taskId, StandardCharsets.UTF_8)).GET().build();
        HttpResponse<byte[]> response = send(request, "task-result");
        if (response.statusCode() / 100 != 2) {
            throw WireFormat.error(response, "task-result");
        }
        return WireFormat.taskResult(WireFormat.object(response, "task-result"), taskId);
    }

    /**
     * Polls the task until it has finished (succeeded or failed) and returns its final state; a
     * failed task is returned, not thrown. Polls back off from {@link Builder#pollInterval}'s
     * initial wait to its maximum and follow the server's ETA. Answers worth retrying (no answer,
     * 429, 5xx) are ridden out until the timeout; any other error is thrown at once.
     *
     * @param timeout  how long to wait at most
     * @param onUpdate called on this thread with the first state seen and with each polled state that
     *                 differs from the one before (status, progress, ETA...), the final one included;
     *                 may be null. An exception it throws ends the wait.
     * @throws QwenImageException {@link QwenImageException#TIMEOUT} with the last state when the task has
     *                            not finished in time, or the error that ended the polling
     */
    public TaskResult await(String taskId, Duration timeout, Consumer<TaskResult> onUpdate) {
        requireTaskId(taskId);
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        PollSchedule schedule = new PollSchedule(pollInitial, pollMax);
        TaskResult last = null;
        while (true) {
            Duration wait;
            QwenImageException transientFailure = null;
            try {
                TaskResult now = get(taskId);
                if (onUpdate != null && !now.equals(last)) {
                    onUpdate.accept(now);
                }
                last = now;
                if (now.isFinished()) {
                    return now;
                }
                wait = schedule.after(now);
            } catch (QwenImageException e) {
                if (!e.isRetryable()) {
                    throw e;
                }
                transientFailure = e;
                wait = schedule.afterFailure(e.retryAfter().orElse(null));
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (transientFailure != null) {
                    throw transientFailure;
                }
                throw QwenImageException.about(last, QwenImageException.TIMEOUT, "task " + taskId + " is still "
                        + last.status() + " (" + last.progressPercent() + "%) after " + human(timeout));
            }
            sleep(wait.toNanos() < left ? wait : Duration.ofNanos(left));
        }
    }

    /**
     * Asks the server to stop the task: a queued task fails at once, a running one at its next
     * step; either ends {@link TaskStatus#FAILED} with reason {@code cancelled}. Returns the
     * status the server reported right after the request.
     *
     * @throws QwenImageException 404 {@code TASK_NOT_FOUND}; 409 {@code TASK_ALREADY_FINISHED}; a server
     *                            without cancel support (the cloud API has none) answers 404 or 405
     */
    public TaskStatus cancel(String taskId) {
        requireTaskId(taskId);
        HttpRequest request = api(CANCEL_PATH).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(WireFormat.cancelBody(taskId))).build();
        HttpResponse<byte[]> response = send(request, "task-cancel");
        if (response.statusCode() / 100 != 2) {
            throw WireFormat.error(response, "task-cancel");
        }
        return TaskStatus.fromWire(WireFormat.object(response, "task-cancel").path("status").asText(null));
    }

    /**
     * Submits, waits for the task and downloads its image.
     *
     * @param timeout  how long submitting and waiting may take in all (the download has its own timeout)
     * @param onUpdate as for {@link #await}; may be null
     * @throws QwenImageException {@link QwenImageException#TASK_FAILED} with the task when it failed (the
     *                            message is its reason), {@link QwenImageException#TIMEOUT}, or the
     *                            failure of any call
     */
    public GeneratedImage generate(GenerateRequest request, Duration timeout, Consumer<TaskResult> onUpdate) {
        long start = System.nanoTime();
        return finish(submit(request), start, timeout, onUpdate);
    }

    /**
     * Submits an edit, waits for the task and downloads the edited picture, as {@link #generate}.
     *
     * <pre>{@code
     * GeneratedImage edited = client.edit(EditRequest.builder().prompt("make the sky purple")
     *         .image(Path.of("photo.jpg")).build(), Duration.ofMinutes(5), null);
     * }</pre>
     */
    public GeneratedImage edit(EditRequest request, Duration timeout, Consumer<TaskResult> onUpdate) {
        long start = System.nanoTime();
        return finish(submit(request), start, timeout, onUpdate);
    }

    private GeneratedImage finish(String taskId, long start, Duration timeout, Consumer<TaskResult> onUpdate) {
        Duration left = timeout.minusNanos(System.nanoTime() - start);
        TaskResult result = await(taskId, left.isNegative() ? Duration.ZERO : left, onUpdate);
        return new GeneratedImage(result, download(result));
    }

    /**
     * The bytes of the task's first image.
     *
     * @throws QwenImageException {@link QwenImageException#TASK_FAILED} for a failed task,
     *                            {@link QwenImageException#INVALID_RESPONSE} for one without an image, or the
     *                            download's failure (403 {@code URL_EXPIRED} for a link past its TTL)
     */
    public byte[] download(TaskResult result) {
        return download(imageOf(result).url());
    }

    /**
     * The bytes behind an image URL, fetched with a plain GET: image links are signed and need
     * no key, so the API key is never sent with them.
     */
    public byte[] download(URI url) {
        HttpResponse<byte[]> response = send(image(url), "image download");
        if (response.statusCode() / 100 != 2) {
            throw WireFormat.error(response, "image download");
        }
        return response.body();
    }

    /**
     * Writes the task's first image to {@code target} (replacing it; written to a temporary file
     * beside it first, so a failed download leaves no partial file) and returns {@code target}.
     *
     * @throws QwenImageException   when the download fails
     * @throws UncheckedIOException when the file cannot be written
     */
    public Path download(TaskResult result, Path target) {
        return download(imageOf(result).url(), target);
    }

    /** Writes the image behind {@code url} to {@code target}, as {@link #download(TaskResult, Path)}. */
    public Path download(URI url, Path target) {
        Objects.requireNonNull(target, "target");
        byte[] image = download(url);
        Path absolute = target.toAbsolutePath();
        try {
            Path tmp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".part");
            try {
                Files.write(tmp, image);
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the image to " + absolute + ": " + e.getMessage(), e);
        }
    }

    /** Closes the {@link HttpClient} if this client made it; one passed to the builder stays open. */
    @Override
    public void close() {
        if (ownsHttp) {
            http.close();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static TaskImage imageOf(TaskResult result) {
        Objects.requireNonNull(result, "result");
        if (result.status() == TaskStatus.FAILED) {
            throw QwenImageException.about(result, QwenImageException.TASK_FAILED,
                    result.reason().isEmpty() ? "task " + result.taskId() + " failed" : result.reason());
        }
        return result.firstImage().orElseThrow(() -> QwenImageException.about(result, QwenImageException.INVALID_RESPONSE,
                "task " + result.taskId() + " is " + result.status() + " and has no image"));
    }

    private HttpRequest.Builder api(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery))
                .timeout(requestTimeout)
                .header("Authorization", authorization)
                .header("Accept", "application/json")
                .header("User-Agent", USER_AGENT);
    }

    private HttpRequest image(URI url) {
        Objects.requireNonNull(url, "url");
        return HttpRequest.newBuilder(url).timeout(downloadTimeout).header("User-Agent", USER_AGENT).GET().build();
    }

    /**
     * Sends a request and reads its whole answer within the request's own timeout: the JDK's
     * timeout alone ends with the response headers, so a body that stalls would wait forever.
     */
    private HttpResponse<byte[]> send(HttpRequest request, String what) {
        Duration limit = request.timeout().orElse(requestTimeout);
        CompletableFuture<HttpResponse<byte[]>> call = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        try {
            return call.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw noAnswer(what, new HttpTimeoutException("no complete answer within " + human(limit)));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw noAnswer(what, io);
            }
            throw QwenImageException.clientSide(QwenImageException.NETWORK_ERROR, what + " failed (" + baseUrl + "): " + cause, cause);
        } catch (InterruptedException e) {
            call.cancel(true);
            throw interrupted(e);
        }
    }

    private QwenImageException noAnswer(String what, IOException e) {
        String why;
        if (e instanceof java.net.http.HttpConnectTimeoutException) {
            why = "connecting timed out";
        } else if (e instanceof java.net.ConnectException) {
            why = "cannot connect" + (e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage());
        } else {
            why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        }
        return QwenImageException.clientSide(QwenImageException.NETWORK_ERROR, what + " failed (" + baseUrl + "): " + why, e);
    }

    private static QwenImageException interrupted(InterruptedException e) {
        Thread.currentThread().interrupt();
        return QwenImageException.clientSide(QwenImageException.INTERRUPTED, "interrupted", e);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            throw interrupted(e);
        }
    }

    private static void requireTaskId(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            throw new IllegalArgumentException("a task id is required");
        }
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) {
            return d.toMillis() % 1000 == 0 || s >= 10 ? s + "s" : String.format(java.util.Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
        }
        return s < 3600 ? (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s") : (s / 3600) + "h" + (s % 3600 / 60 == 0 ? "" : (s % 3600 / 60) + "m");
    }

    private static String version() {
        String v = QwenImageClient.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** Settings of a {@link QwenImageClient}. */
    public static final class Builder {
        private String baseUrl;
        private String apiKey;
        private HttpClient httpClient;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration downloadTimeout = Duration.ofMinutes(2);
        private int maxSubmitRetries = 3;
        private Duration maxRetryWait = Duration.ofMinutes(2);
        private Duration pollInitial = Duration.ofMillis(500);
        private Duration pollMax = Duration.ofSeconds(5);

        private Builder() {
        }

        /** The API's base URL, e.g. {@code http://localhost:8080} or {@code https://api.ppio.com}. Required. */
        public Builder baseUrl(String baseUrl) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            URI uri;
            try {
                uri = URI.create(baseUrl.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a URL: " + baseUrl, e);
            }
            return baseUrl(uri);
        }

        /** The API's base URL. Required. */
        public Builder baseUrl(URI baseUrl) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            String scheme = baseUrl.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || baseUrl.getHost() == null) {
                throw new IllegalArgumentException("the base URL must be http:// or https:// with a host, e.g. http://localhost:8080; got " + baseUrl);
            }
            if (baseUrl.getRawQuery() != null || baseUrl.getRawFragment() != null) {
                throw new IllegalArgumentException("the base URL takes no query or fragment: " + baseUrl);
            }
            String s = baseUrl.toString();
            while (s.endsWith("/")) {
                s = s.substring(0, s.length() - 1);
            }
            this.baseUrl = s;
            return this;
        }

        /** The API key, sent as {@code Authorization: Bearer <key>}. Required. */
        public Builder apiKey(String apiKey) {
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException("an API key is required");
            }
            if (!apiKey.strip().chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
                throw new IllegalArgumentException("an API key is printable ASCII");
            }
            this.apiKey = apiKey.strip();
            return this;
        }

        /**
         * An {@link HttpClient} to use instead of one of the client's own (its connect timeout and
         * redirect policy then apply); {@link QwenImageClient#close()} leaves it open.
         */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
            return this;
        }

        /** How long connecting may take (default 10 s); unused with {@link #httpClient}. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /** How long one API call may take until its answer has arrived (default 30 s). */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /** How long one image download may take (default 2 min). */
        public Builder downloadTimeout(Duration timeout) {
            this.downloadTimeout = positive(timeout, "downloadTimeout");
            return this;
        }

        /** How often {@link QwenImageClient#submit} retries a 429 or 503 with {@code Retry-After} (default 3; 0 never). */
        public Builder maxSubmitRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("maxSubmitRetries must be >= 0");
            }
            this.maxSubmitRetries = retries;
            return this;
        }

        /** The longest {@code Retry-After} a submit waits for (default 2 min); a longer one is thrown at once. */
        public Builder maxRetryWait(Duration wait) {
            this.maxRetryWait = Objects.requireNonNull(wait, "maxRetryWait");
            return this;
        }

        /**
         * The first wait between two polls of {@link QwenImageClient#await} and the most it grows to
         * (defaults 500 ms and 5 s).
         */
        public Builder pollInterval(Duration initial, Duration max) {
            positive(initial, "initial poll interval");
            positive(max, "maximum poll interval");
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("the maximum poll interval is shorter than the initial one");
            }
            this.pollInitial = initial;
            this.pollMax = max;
            return this;
        }

        /**
         * The client.
         *
         * @throws IllegalStateException when the base URL or the API key is missing
         */
        public QwenImageClient build() {
            if (baseUrl == null) {
                throw new IllegalStateException("baseUrl is required, e.g. http://localhost:8080 or https://api.ppio.com");
            }
            if (apiKey == null) {
                throw new IllegalStateException("apiKey is required");
            }
            return new QwenImageClient(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return d;
        }
    }
}
