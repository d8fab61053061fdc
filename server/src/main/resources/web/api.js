// The service's own API, called from the pages exactly as any client would call it.

/** An error answer of the API ({code, reason, message, metadata}) or a failure to reach it (status 0). */
export class ApiError extends Error {
  constructor(status, reason, message, retryAfterSeconds = null, metadata = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
    this.metadata = metadata;
  }

  /** Worth trying again later: the server was unreachable, busy or rate limiting. */
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const REQUEST_TIMEOUT_MS = 30000;
/** An edit's body holds the picture (up to 28 MB) and the server may fetch it from a URL first. */
const EDIT_TIMEOUT_MS = 120000;

export class Api {
  /** @param {() => string} key where to read the API key from when a call is made */
  constructor(key) {
    this.key = key;
  }

  /**
   * Submits a text-to-image task; resolves to its task id. The optional fields are this server's
   * extensions and are sent only when set: seed, negative_prompt, extra.response_image_type.
   */
  async submit({ prompt, size, watermark, seed = null, negativePrompt = "", imageType = "jpeg" }) {
    const request = { prompt, size, watermark };
    if (seed !== null) request.seed = seed;
    if (negativePrompt) request.negative_prompt = negativePrompt;
    if (imageType !== "jpeg") request.extra = { response_image_type: imageType };
    const body = await this.#call("POST", "/v3/async/qwen-image-txt2img", request);
    return body.task_id;
  }

  /**
   * Submits an edit of a picture; resolves to its task id. image: an http(s) URL the server
   * fetches, or a data: URI. The body can be tens of megabytes, so it is given longer to send.
   */
  async submitEdit({ prompt, image, watermark, seed = null, outputFormat = "jpeg" }) {
    const fields = { prompt, image, output_format: outputFormat, watermark };
    if (seed !== null) fields.seed = seed;
    const body = await request("POST", "/v3/async/qwen-image-edit", { json: fields, token: this.key(), timeoutMs: EDIT_TIMEOUT_MS });
    return body.task_id;
  }

  /** Asks the server to stop a task: {task_id, status}; 409 TASK_ALREADY_FINISHED when it ended. */
  cancel(taskId) {
    return this.#call("POST", "/v3/async/task-cancel", { task_id: taskId });
  }

  /** The task-result body: {task: {status, progress_percent, eta, reason}, images: [...]} */
  result(taskId, signal) {
    return this.#call("GET", `/v3/async/task-result?task_id=${encodeURIComponent(taskId)}`, undefined, signal);
  }

  /** The unauthenticated health document (engines, queue). */
  async health() {
    return this.#call("GET", "/healthz", undefined, undefined, false);
  }

  #call(method, path, json, signal, authenticated = true) {
    return request(method, path, { json, signal, token: authenticated ? this.key() : null });
  }
}

/**
 * One call of this server's HTTP API (the public one or the admin one): JSON in, JSON out, every
 * error answer as an {@link ApiError} with the server's own reason and message.
 * @param {{json?: object, signal?: AbortSignal, token?: string|null, timeoutMs?: number}} options token: sent as the bearer
 */
export async function request(method, path, { json, signal, token = null, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
  const headers = { Accept: "application/json" };
  if (token !== null) {
    headers.Authorization = `Bearer ${token.trim()}`;
  }
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const timeout = AbortSignal.timeout(timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      cache: "no-store",
    });
  } catch (e) {
    if (signal?.aborted) {
      throw e;
    }
    const why = timeout.aborted ? `it did not answer within ${Math.round(timeoutMs / 1000)} s` : "the connection failed";
    throw new ApiError(0, "NETWORK_ERROR", `Cannot reach the server (${why}). Is it still running?`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiError(
      response.status,
      body?.reason ?? `HTTP_${response.status}`,
      body?.message ?? `The server answered HTTP ${response.status} ${response.statusText}.`,
      Number.isFinite(retryAfter) ? retryAfter : null,
      body?.metadata ?? {},
    );
  }
  if (body === null) {
    throw new ApiError(response.status, "INVALID_RESPONSE", "The server answered with something that is not JSON.");
  }
  return body;
}

export const STATUS = Object.freeze({
  QUEUED: "TASK_STATUS_QUEUED",
  PROCESSING: "TASK_STATUS_PROCESSING",
  SUCCEED: "TASK_STATUS_SUCCEED",
  FAILED: "TASK_STATUS_FAILED",
});

/** The reason of a task that ended FAILED because it was cancelled. */
export const CANCELLED = "cancelled";

export function isFinished(status) {
  return status === STATUS.SUCCEED || status === STATUS.FAILED;
}
