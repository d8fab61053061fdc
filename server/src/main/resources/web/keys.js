// What the admin page shows of a key, and what its forms send: limits, labels, times.

const number = new Intl.NumberFormat();

/** The per-key limits of the admin API, in the order the page shows them. */
export const LIMITS = Object.freeze([
  { field: "max_queued", label: "Max queued tasks", help: "Tasks of this key waiting at once." },
  { field: "submits_per_minute", label: "Submits per minute", help: "Refilled evenly over a minute, per api node." },
  { field: "images_per_day", label: "Images per day", help: "Tasks accepted per UTC day." },
  { field: "max_pixels", label: "Max pixels", help: "Largest width × height, e.g. 1048576 for 1024 × 1024." },
  { field: "allowed_engines", label: "Allowed engines", list: true, help: "Engine names, comma-separated." },
]);

/** A limit as a person reads it: "no limit", "500 / day", "every engine". */
export function limitText(field, value) {
  if (field === "allowed_engines") {
    return Array.isArray(value) && value.length > 0 ? value.join(", ") : "every engine";
  }
  if (!Number.isFinite(value) || value === 0) {
    return "no limit";
  }
  switch (field) {
    case "submits_per_minute":
      return `${number.format(value)} / min`;
    case "images_per_day":
      return `${number.format(value)} / day`;
    case "max_pixels": {
      const side = Math.sqrt(value);
      return Number.isInteger(side) ? `${number.format(value)} px (${side} × ${side})` : `${number.format(value)} px`;
    }
    default:
      return number.format(value);
  }
}

/** A limit field's text in a form: "" for the default, "10", "preview, qwen". */
export function limitInput(field, value) {
  if (value === null || value === undefined) {
    return "";
  }
  return Array.isArray(value) ? value.join(", ") : String(value);
}

/**
 * The limits object the API takes from the form's texts: an empty field is null (the default).
 * Anything else is sent as typed, so that the server's own rules (and messages) decide.
 * @returns {{limits: object}|{error: string, field: string}}
 */
export function parseLimits(texts) {
  const limits = {};
  for (const { field, label, list } of LIMITS) {
    const text = (texts[field] ?? "").trim();
    if (text === "") {
      limits[field] = null;
    } else if (list) {
      limits[field] = text.split(",").map((s) => s.trim()).filter(Boolean);
    } else if (/^[+-]?\d+$/.test(text)) {
      limits[field] = Number(text);
    } else {
      return { error: `${label} must be a whole number, or empty for the default.`, field };
    }
  }
  return { limits };
}

/** "team=growth, env=prod" from {team: "growth", env: "prod"}. */
export function labelsText(labels) {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
}

/**
 * {team: "growth"} from "team=growth"; {error} for an entry without "=". A comma starts a new
 * label only where a label name and "=" follow it, so values may hold commas ("a=x, y, b=z").
 */
export function parseLabels(text) {
  const labels = {};
  for (const entry of text.split(/,(?=\s*[a-z0-9][a-z0-9_.-]*\s*=)/).map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf("=");
    if (at <= 0) {
      return { error: `The label “${entry}” needs the form name=value, e.g. team=growth.` };
    }
    labels[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return { labels };
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A time of the API (RFC 3339) in the person's own time zone; `none` when there is none. */
export function timeText(iso, none = "—") {
  if (!iso) {
    return none;
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** The value of an <input type="datetime-local"> (local time) for an RFC 3339 time. */
export function toLocalInput(iso) {
  if (!iso) {
    return "";
  }
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The RFC 3339 UTC time of an <input type="datetime-local"> value (local time); null when empty. */
export function fromLocalInput(value) {
  if (!value) {
    return null;
  }
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Whether the old secret of a rotation still works at `nowMs`. */
export function inGrace(key, nowMs = Date.now()) {
  return Boolean(key.previous_secret_valid_until) && new Date(key.previous_secret_valid_until).getTime() > nowMs;
}

/** "30 s", "5 min", "2 h 30 min", "1 day": a grace period as a person reads it. */
export function durationText(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  if (seconds < 86400) {
    const h = Math.floor(seconds / 3600);
    const m = Math.round((seconds % 3600) / 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const days = Math.round((seconds / 86400) * 10) / 10;
  return `${days} day${days === 1 ? "" : "s"}`;
}

/** The API's most for grace_seconds: 30 days. */
export const MAX_GRACE_SECONDS = 30 * 86400;
