package dev.qwenimage.config;

import java.util.List;

/**
 * One configuration knob: its environment variable, its default and what it does. Every knob the
 * service reads is listed in {@link #ALL}, so that {@code --help}, the README table and validation
 * come from one place.
 */
public record Setting(String env, String defaultValue, String description) {

    public static final Setting PORT = new Setting("QWEN_IMAGE_PORT", "8080",
            "TCP port of the HTTP API (0 picks a free port).");
    public static final Setting HOST = new Setting("QWEN_IMAGE_HOST", "0.0.0.0",
            "Address the HTTP API listens on.");
    public static final Setting DATA_DIR = new Setting("QWEN_IMAGE_DATA_DIR", "./data",
            "Directory for the embedded task database, images, the generated API key and the URL-signing secret.");
    public static final Setting API_KEYS = new Setting("QWEN_IMAGE_API_KEYS", "",
            "Comma-separated API keys clients must send. Empty: one key is generated on first start, kept in the data directory and printed in the banner.");
    public static final Setting ADMIN_TOKEN = new Setting("QWEN_IMAGE_ADMIN_TOKEN", "",
            "Token of the admin API (/admin/v1/: API keys, limits, usage) and the admin page (/admin). Empty: one is generated on "
                    + "first start, kept owner-only in the data directory (admin-token) and printed in the banner. With several api "
                    + "nodes, set the same token on each.");
    public static final Setting PUBLIC_URL = new Setting("QWEN_IMAGE_PUBLIC_URL", "",
            "Base of the image links handed to clients (e.g. https://img.example.com). Empty: derived from the listen address, using the request's Host header when the service listens on all interfaces.");
    public static final Setting ROLE = new Setting("QWEN_IMAGE_ROLE", "all",
            "What this process does: all (API, workers and engines in one process), api (HTTP API only) or worker "
                    + "(engines only, plus /healthz). api and worker need QWEN_IMAGE_DB_URL and an S3 bucket shared by all nodes.");
    public static final Setting DB_URL = new Setting("QWEN_IMAGE_DB_URL", "",
            "JDBC URL of a PostgreSQL database shared by all nodes, e.g. jdbc:postgresql://db:5432/qwen (a currentSchema= "
                    + "parameter picks the schema). Empty: the embedded SQLite file in the data directory.");
    public static final Setting DB_USER = new Setting("QWEN_IMAGE_DB_USER", "",
            "PostgreSQL user (or put user= in the URL).");
    public static final Setting DB_PASSWORD = new Setting("QWEN_IMAGE_DB_PASSWORD", "",
            "PostgreSQL password (or put password= in the URL).");
    public static final Setting DB_POOL = new Setting("QWEN_IMAGE_DB_POOL", "16",
            "Connections this process keeps to PostgreSQL.");
    public static final Setting ENGINES = new Setting("QWEN_IMAGE_ENGINES", "preview",
            "The image engines, separated by ';' or new lines, each kind[:url][?option=value&...], e.g. "
                    + "'comfyui:http://gpu1:8188;comfyui:http://gpu2:8188?slots=2'. Kinds: preview (built-in CPU renderer that "
                    + "runs no model and draws the prompt on a poster), comfyui, sdcpp, openai, ppio. See README, \"Connect a GPU engine\".");
    public static final Setting WORKERS = new Setting("QWEN_IMAGE_WORKERS", "",
            "Slots (tasks run at once) of each engine whose entry sets no slots=. Empty: the number of CPU cores for the "
                    + "preview engine, 1 for every other engine.");
    public static final Setting ENGINE_FAILURES = new Setting("QWEN_IMAGE_ENGINE_FAILURES", "3",
            "Failures in a row (transient errors or failed health checks) after which an engine is taken out and probed back.");
    public static final Setting ENGINE_CHECK = new Setting("QWEN_IMAGE_ENGINE_CHECK", "15s",
            "How often a working engine is health-checked. A failed engine is probed from 1 s, doubling up to this interval x 4.");
    public static final Setting PREVIEW_STEPS = new Setting("QWEN_IMAGE_PREVIEW_STEPS", "20",
            "Steps the preview engine renders in; progress is reported after each one.");
    public static final Setting PREVIEW_STEP_DELAY = new Setting("QWEN_IMAGE_PREVIEW_STEP_DELAY", "0ms",
            "Extra time the preview engine spends per step, to imitate a GPU engine's pace in demos and tests.");
    public static final Setting JPEG_QUALITY = new Setting("QWEN_IMAGE_JPEG_QUALITY", "90",
            "JPEG quality of the images served, 1..100.");
    public static final Setting JPEG_ENCODER = new Setting("QWEN_IMAGE_JPEG_ENCODER", "auto",
            "auto: libjpeg-turbo in-process where libturbojpeg is installed (Debian/Ubuntu: libturbojpeg0; ~4 ms per "
                    + "1024x1024 image), else the JDK's pure-Java ImageIO encoder (~20-40 ms); the banner says which. "
                    + "turbojpeg: libjpeg-turbo or refuse to start. imageio: always the pure-Java encoder.");
    public static final Setting WATERMARK_TEXT = new Setting("QWEN_IMAGE_WATERMARK_TEXT", "AI生成",
            "Text of the visible mark drawn when a request asks for \"watermark\": true.");
    public static final Setting WATERMARK_CORNER = new Setting("QWEN_IMAGE_WATERMARK_CORNER", "bottom-right",
            "Corner of the visible mark: top-left, top-right, bottom-left or bottom-right.");
    public static final Setting AIGC_LABEL = new Setting("QWEN_IMAGE_AIGC_LABEL", "on",
            "on: every image carries the implicit AI-generated label of GB 45438-2025 (XMP TC260:AIGC with Label, ContentProducer, ProduceID = task id). off: no label.");
    public static final Setting AIGC_PRODUCER = new Setting("QWEN_IMAGE_AIGC_PRODUCER", "qwen-image-server",
            "ContentProducer in the implicit label: the name or code of the service provider (e.g. its filing number).");
    public static final Setting NSFW = new Setting("QWEN_IMAGE_NSFW", "on",
            "on: every image is checked by the built-in NSFW classifier (nsfwjs MobileNetV2, run in Java) and the verdict is "
                    + "reported in nsfw_detection_result and extra.has_nsfw_contents. off: no check (nsfw_detection_result null).");
    public static final Setting NSFW_THRESHOLD = new Setting("QWEN_IMAGE_NSFW_THRESHOLD", "0.5",
            "An image is flagged when its unsafe probability (porn + hentai + sexy) is at least this, 0..1.");
    public static final Setting NSFW_ACTION = new Setting("QWEN_IMAGE_NSFW_ACTION", "flag",
            "What happens to a flagged image: flag (kept, reported), blur (a blurred image is stored instead) or block "
                    + "(nothing is stored; the task ends FAILED saying so).");
    public static final Setting URL_TTL = new Setting("QWEN_IMAGE_URL_TTL", "1h",
            "How long an image link stays valid, e.g. 1h or 7d (clients see it in seconds, as image_url_ttl). 0: links do not expire.");
    public static final Setting URL_SECRET = new Setting("QWEN_IMAGE_URL_SECRET", "",
            "Secret that signs image links and derives each key's webhook signing secret. Empty: generated on first start and kept in the data directory. api nodes need the same value on every node.");
    public static final Setting RETENTION = new Setting("QWEN_IMAGE_RETENTION", "24h",
            "How long finished tasks and their images are kept before they are removed (e.g. 90m, 24h, 7d).");
    public static final Setting LEASE = new Setting("QWEN_IMAGE_LEASE", "30s",
            "How long a worker's claim on a task lasts without renewal; an expired claim returns the task to the queue.");
    public static final Setting MAX_ATTEMPTS = new Setting("QWEN_IMAGE_MAX_ATTEMPTS", "3",
            "Attempts a task gets (crashed workers and transient engine failures count) before it ends FAILED.");
    public static final Setting MAX_PROMPT_LENGTH = new Setting("QWEN_IMAGE_MAX_PROMPT_LENGTH", "2000",
            "Longest prompt accepted, in Unicode code points.");
    public static final Setting MAX_QUEUED_PER_KEY = new Setting("QWEN_IMAGE_MAX_QUEUED_PER_KEY", "1000",
            "Most tasks one API key may have waiting; beyond it a submit answers 429 with Retry-After. 0: no cap.");
    public static final Setting SUBMITS_PER_MINUTE = new Setting("QWEN_IMAGE_SUBMITS_PER_MINUTE", "0",
            "Submits per minute per API key (a token bucket per api node; beyond it 429 RATE_LIMITED with Retry-After and "
                    + "X-RateLimit-* headers), for keys whose own limit is not set. 0: no limit.");
    public static final Setting IMAGES_PER_DAY = new Setting("QWEN_IMAGE_IMAGES_PER_DAY", "0",
            "Tasks per API key per UTC day (beyond it 429 QUOTA_EXCEEDED until 00:00 UTC), for keys whose own limit is not set. 0: no limit.");
    public static final Setting MAX_PIXELS = new Setting("QWEN_IMAGE_MAX_PIXELS", "0",
            "Largest width x height a submit may ask for (e.g. 1048576 for 1024*1024), for keys whose own limit is not set. "
                    + "0: the contract's range only (256..1536 per side).");
    public static final Setting MAX_QUEUED = new Setting("QWEN_IMAGE_MAX_QUEUED", "100000",
            "Most tasks waiting in all; beyond it a submit answers 503 with Retry-After. 0: no cap.");
    public static final Setting S3_ENDPOINT = new Setting("QWEN_IMAGE_S3_ENDPOINT", "",
            "URL of an S3-compatible object store for the images (e.g. http://minio:9000, https://s3.eu-west-1.amazonaws.com). "
                    + "Empty: images are kept on local disk in the data directory and served by this service.");
    public static final Setting S3_BUCKET = new Setting("QWEN_IMAGE_S3_BUCKET", "",
            "Bucket the images are stored in (required with QWEN_IMAGE_S3_ENDPOINT).");
    public static final Setting S3_REGION = new Setting("QWEN_IMAGE_S3_REGION", "us-east-1",
            "Region the requests to the object store are signed for. MinIO, SeaweedFS and S3Proxy accept us-east-1; Garage wants its s3_region (default garage).");
    public static final Setting S3_ACCESS_KEY = new Setting("QWEN_IMAGE_S3_ACCESS_KEY", "",
            "Access key id for the object store. Empty (together with the secret key): the AWS SDK's default credentials chain "
                    + "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws profiles, instance or container roles).");
    public static final Setting S3_SECRET_KEY = new Setting("QWEN_IMAGE_S3_SECRET_KEY", "",
            "Secret access key for the object store; set with QWEN_IMAGE_S3_ACCESS_KEY or leave both empty.");
    public static final Setting S3_PATH_STYLE = new Setting("QWEN_IMAGE_S3_PATH_STYLE", "on",
            "on: path-style addresses (http://host/bucket/key), which MinIO, SeaweedFS, Garage and S3Proxy need. "
                    + "off: virtual-hosted addresses (http://bucket.host/key), as AWS S3 prefers.");
    public static final Setting S3_PREFIX = new Setting("QWEN_IMAGE_S3_PREFIX", "",
            "Prefix put before every object key, taken literally (e.g. 'images/' stores images/<task id>.jpeg).");
    public static final Setting S3_PUBLIC_ENDPOINT = new Setting("QWEN_IMAGE_S3_PUBLIC_ENDPOINT", "",
            "Endpoint written into the presigned image links, when clients reach the object store under another address "
                    + "than this service does (e.g. service: http://minio:9000, clients: https://s3.example.com). Empty: QWEN_IMAGE_S3_ENDPOINT.");
    public static final Setting S3_CREATE_BUCKET = new Setting("QWEN_IMAGE_S3_CREATE_BUCKET", "off",
            "on: create the bucket at start-up when it does not exist. off: a missing bucket stops the start with an error.");
    public static final Setting SYNC_TIMEOUT = new Setting("QWEN_IMAGE_SYNC_TIMEOUT", "10m",
            "How long POST /v1/images/generations and /v1/images/edits (the OpenAI-compatible, synchronous doors) wait for "
                    + "the image before they cancel the task and answer 504.");
    public static final Setting REQUEST_TIMEOUT = new Setting("QWEN_IMAGE_REQUEST_TIMEOUT", "30s",
            "How long a client has to send a whole request, headers and body, from its first byte; a request still "
                    + "arriving then is answered 408 and its connection closed (slow clients cannot hold connections open).");
    public static final Setting OUTBOUND_ALLOW = new Setting("QWEN_IMAGE_OUTBOUND_ALLOW", "",
            "Comma-separated hosts and CIDR ranges the service's outbound calls (webhooks, edits' input image URLs) may reach "
                    + "even though they are internal (loopback, private, link-local, CGNAT addresses are refused otherwise), "
                    + "e.g. images.internal,10.20.0.0/16.");
    /** Deprecated: merged into {@link #OUTBOUND_ALLOW}, which it preceded when only webhooks went out. */
    public static final Setting WEBHOOK_ALLOW = new Setting("QWEN_IMAGE_WEBHOOK_ALLOW", "",
            "Deprecated alias of QWEN_IMAGE_OUTBOUND_ALLOW (its entries are added to it), kept so existing set-ups work.");
    public static final Setting WEBHOOK_ATTEMPTS = new Setting("QWEN_IMAGE_WEBHOOK_ATTEMPTS", "8",
            "Tries per webhook delivery before it is given up; retries wait 30 s, 1.5 min, 4.5 min, 13.5 min, 40.5 min, then 1 h each (5 tries span 20 minutes).");
    public static final Setting LOG_LEVEL = new Setting("QWEN_IMAGE_LOG_LEVEL", "info",
            "Log level: error, warn, info, debug or trace.");
    public static final Setting LOG_FORMAT = new Setting("QWEN_IMAGE_LOG_FORMAT", "text",
            "Log lines as text, or json: one JSON object per line (timestamp, level, logger, thread, message) for log shippers.");
    public static final Setting METRICS = new Setting("QWEN_IMAGE_METRICS", "on",
            "on: serve Prometheus metrics at /metrics (no authentication: keep it off the public internet). off: no /metrics.");
    public static final Setting MIN_FREE_DISK = new Setting("QWEN_IMAGE_MIN_FREE_DISK", "512MB",
            "Free space kept on the disk of the data directory (the embedded database, images on local disk). Below it new "
                    + "submits answer 503 LOW_DISK_SPACE with Retry-After and /readyz fails, until retention or you free space. "
                    + "Sizes like 512MB, 2GB, 1GiB; a bare number is bytes; 0 turns the check off.");
    public static final Setting NO_ENGINE_TIMEOUT = new Setting("QWEN_IMAGE_NO_ENGINE_TIMEOUT", "10m",
            "How long a task may wait while no engine is up before it ends FAILED saying so (task-result's extra.wait_reason "
                    + "tells why it waits meanwhile). 0: tasks wait for an engine however long it takes.");
    public static final Setting EDIT_MAX_IMAGE = new Setting("QWEN_IMAGE_EDIT_MAX_IMAGE", "20MB",
            "Largest input image an edit takes, in bytes as the image file has them (after base64 decoding, or as fetched "
                    + "from its URL); more answers 400 IMAGE_TOO_LARGE.");
    public static final Setting EDIT_MAX_BODY = new Setting("QWEN_IMAGE_EDIT_MAX_BODY", "28MB",
            "Largest request body of the edit endpoints (POST /v3/async/qwen-image-edit, POST /v1/images/edits): room for an "
                    + "image of QWEN_IMAGE_EDIT_MAX_IMAGE in base64 (a third larger) and the other fields. Text-to-image keeps its 64 KiB.");
    public static final Setting EDIT_MAX_INPUT_PIXELS = new Setting("QWEN_IMAGE_EDIT_MAX_INPUT_PIXELS", "50000000",
            "Most pixels (width x height, read from the image's header before anything is decoded) an edit's input may have; "
                    + "more answers 400 INVALID_IMAGE. Guards against decompression bombs: a small file of a huge, blank picture.");
    public static final Setting NSFW_INPUT = new Setting("QWEN_IMAGE_NSFW_INPUT", "off",
            "What the NSFW check does with an edit's input image: off (not checked; the edited output is judged as any "
                    + "image is) or block (an input flagged at QWEN_IMAGE_NSFW_THRESHOLD is refused at submit: 400 INPUT_NSFW). "
                    + "block loads the classifier on api nodes too.");
    public static final Setting EDIT_FETCH_TIMEOUT = new Setting("QWEN_IMAGE_EDIT_FETCH_TIMEOUT", "10s",
            "How long fetching an edit's input image from its URL may take in all: redirects, headers and the whole body; "
                    + "past it the submit answers 400 IMAGE_FETCH_FAILED. 100ms..60s.");
    public static final Setting DRAIN_TIMEOUT = new Setting("QWEN_IMAGE_DRAIN_TIMEOUT", "25s",
            "How long a stopping worker (SIGTERM, docker stop, a Kubernetes pod ending) lets its running tasks finish: it claims "
                    + "nothing new at once and /readyz answers 503; tasks still running then go back to the queue at once (another "
                    + "worker takes them) and the process exits 0. Keep it under the platform's grace period (Kubernetes 30 s by "
                    + "default, docker stop 10 s unless --time/stop_grace_period). 0: hand running tasks back at once.")
;
    public static final Setting CONFIG = new Setting("QWEN_IMAGE_CONFIG", "",
            "Path of a properties file with QWEN_IMAGE_* keys. Environment variables override it; command-line --set overrides both.");

    public static final List<Setting> ALL = List.of(PORT, HOST, DATA_DIR, API_KEYS, ADMIN_TOKEN, PUBLIC_URL, ROLE, DB_URL, DB_USER, DB_PASSWORD, DB_POOL, ENGINES, WORKERS, ENGINE_FAILURES, ENGINE_CHECK,
            PREVIEW_STEPS, PREVIEW_STEP_DELAY, JPEG_QUALITY, JPEG_ENCODER, WATERMARK_TEXT, WATERMARK_CORNER, AIGC_LABEL, AIGC_PRODUCER,
            NSFW, NSFW_THRESHOLD, NSFW_ACTION, URL_TTL, URL_SECRET, RETENTION, LEASE, MAX_ATTEMPTS,
            MAX_PROMPT_LENGTH, MAX_QUEUED_PER_KEY, SUBMITS_PER_MINUTE, IMAGES_PER_DAY, MAX_PIXELS, MAX_QUEUED, SYNC_TIMEOUT, REQUEST_TIMEOUT, OUTBOUND_ALLOW, WEBHOOK_ALLOW, WEBHOOK_ATTEMPTS, S3_ENDPOINT, S3_BUCKET, S3_REGION, S3_ACCESS_KEY,
            S3_SECRET_KEY, S3_PATH_STYLE, S3_PREFIX, S3_PUBLIC_ENDPOINT, S3_CREATE_BUCKET, LOG_LEVEL, LOG_FORMAT, METRICS, MIN_FREE_DISK, NO_ENGINE_TIMEOUT,
            EDIT_MAX_IMAGE, EDIT_MAX_BODY, EDIT_MAX_INPUT_PIXELS, EDIT_FETCH_TIMEOUT, NSFW_INPUT, DRAIN_TIMEOUT, CONFIG);

    public static Setting byEnv(String env) {
        return ALL.stream().filter(s -> s.env.equals(env)).findFirst().orElse(null);
    }
}
