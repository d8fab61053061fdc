// Small text helpers for what the page shows.

/** "about 12 s left", "about 2 min left"; empty when there is no estimate. */
export function etaText(seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return "";
  }
  if (seconds < 60) {
    return `about ${Math.max(1, Math.round(seconds))} s left`;
  }
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return rest === 0 || minutes >= 10 ? `about ${minutes} min left` : `about ${minutes} min ${rest} s left`;
}

/** "3 min ago", "yesterday", or a date for older items. */
export function agoText(timeMs, nowMs = Date.now()) {
  const seconds = Math.round((timeMs - nowMs) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 45) {
    return "just now";
  }
  if (abs < 3600) {
    return rtf.format(Math.round(seconds / 60), "minute");
  }
  if (abs < 86400) {
    return rtf.format(Math.round(seconds / 3600), "hour");
  }
  if (abs < 7 * 86400) {
    return rtf.format(Math.round(seconds / 86400), "day");
  }
  return new Date(timeMs).toLocaleDateString();
}

/** "1536 × 856" */
export function sizeText(width, height) {
  return `${width} × ${height}`;
}

/** "1 character", "2 characters", "0 characters". */
export function countText(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Length in code points, as the server counts a prompt. */
export function codePoints(text) {
  let n = 0;
  for (const _ of text) {
    n++;
  }
  return n;
}

/** "20 MB", "1.5 MB", "812 KB", in powers of 1000 as the server writes sizes. */
export function bytesText(bytes) {
  const units = ["bytes", "KB", "MB", "GB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) {
    return `${bytes} bytes`;
  }
  return `${v >= 100 || v === Math.floor(v) ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}
