// Images per day per key: the usage rows of the admin API as a stacked bar chart in inline SVG,
// a legend and a table of totals. No library: a handful of rectangles, lines and labels.

const SVG = "http://www.w3.org/2000/svg";
/** Series with their own colour; the keys after them are drawn together as "Other keys". */
const MAX_SERIES = 8;
export const OTHER = "other";

const number = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const tenths = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const dayLong = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const monthShort = new Intl.DateTimeFormat(undefined, { month: "short", timeZone: "UTC" });

/** The last `n` whole UTC days up to today's, oldest first, as "2026-12-03". */
export function lastDays(n, nowMs = Date.now()) {
  const today = Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate());
  return Array.from({ length: n }, (_, i) => new Date(today - (n - 1 - i) * 86400000).toISOString().slice(0, 10));
}

/** "Thu, 3 Dec 2026" for "2026-12-03" (the day is a UTC day). */
export function dayText(day) {
  return dayLong.format(new Date(`${day}T00:00:00Z`));
}

/**
 * The chart's series: images of each key on each day, biggest total first; keys beyond the
 * colours are summed as one "Other keys" series. Keys that made no image are left out.
 * @param rows the usage rows (day granularity)
 * @param days the days of the chart, as lastDays gives them
 * @param names key id -> the name to show (the current one; a row carries the name of its time)
 */
export function imageSeries(rows, days, names = new Map()) {
  const index = new Map(days.map((d, i) => [d, i]));
  const byKey = new Map();
  for (const row of rows) {
    const i = index.get(String(row.period).slice(0, 10));
    if (i === undefined || !(row.images > 0)) continue;
    let s = byKey.get(row.key);
    if (!s) {
      s = { key: row.key, name: names.get(row.key) ?? row.name ?? row.key, values: days.map(() => 0), total: 0 };
      byKey.set(row.key, s);
    }
    s.values[i] += row.images;
    s.total += row.images;
  }
  const all = [...byKey.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  if (all.length <= MAX_SERIES) {
    return all.map((s, i) => ({ ...s, colour: i }));
  }
  const shown = all.slice(0, MAX_SERIES - 1).map((s, i) => ({ ...s, colour: i }));
  const rest = all.slice(MAX_SERIES - 1);
  const other = { key: OTHER, name: `Other keys (${rest.length})`, values: days.map(() => 0), total: 0, colour: OTHER };
  for (const s of rest) {
    s.values.forEach((v, i) => { other.values[i] += v; });
    other.total += s.total;
  }
  return [...shown, other];
}

/** Per key: the sums of every usage column over the rows, biggest image count first. */
export function totals(rows, names = new Map()) {
  const byKey = new Map();
  for (const row of rows) {
    let t = byKey.get(row.key);
    if (!t) {
      t = { key: row.key, name: names.get(row.key) ?? row.name ?? row.key, submitted: 0, succeeded: 0, failed: 0,
        cancelled: 0, images: 0, megapixels: 0, engine_seconds: 0, nsfw_flagged: 0 };
      byKey.set(row.key, t);
    }
    for (const column of COLUMNS) {
      t[column.field] += Number(row[column.field]) || 0;
    }
  }
  return [...byKey.values()].sort((a, b) => b.images - a.images || b.submitted - a.submitted || a.name.localeCompare(b.name));
}

/** The totals table's columns after the key's name. */
export const COLUMNS = Object.freeze([
  { field: "images", label: "Images", format: (v) => number.format(v) },
  { field: "megapixels", label: "Megapixels", format: (v) => tenths.format(v) },
  { field: "submitted", label: "Submitted", format: (v) => number.format(v) },
  { field: "succeeded", label: "Succeeded", format: (v) => number.format(v) },
  { field: "failed", label: "Failed", format: (v) => number.format(v) },
  { field: "cancelled", label: "Cancelled", format: (v) => number.format(v) },
  { field: "engine_seconds", label: "Engine time", format: engineTime },
  { field: "nsfw_flagged", label: "NSFW flagged", format: (v) => number.format(v) },
]);

function engineTime(seconds) {
  if (seconds < 60) return `${tenths.format(seconds)} s`;
  if (seconds < 3600) return `${tenths.format(seconds / 60)} min`;
  return `${tenths.format(seconds / 3600)} h`;
}

/** A round top for the y axis and its step: 1, 2 or 5 times a power of ten, about four gridlines. */
export function scale(max) {
  if (!(max > 0)) return { top: 4, step: 1 };
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw));
  return { top: step * Math.ceil(max / step), step };
}

const imagesText = (n) => `${number.format(n)} image${n === 1 ? "" : "s"}`;

function node(name, attributes = {}, text = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  if (text !== null) e.textContent = text;
  return e;
}

const W = 960;
const H = 300;
const M = { top: 20, right: 8, bottom: 44, left: 48 };

/**
 * Draws the stacked bars into `container` (replacing what was there): one bar per day, one
 * segment per series, each with a hover title giving the exact numbers.
 */
export function drawChart(container, days, series) {
  const dayTotals = days.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
  const { top, step } = scale(Math.max(0, ...dayTotals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const band = plotW / days.length;
  const barW = Math.max(2, band * 0.68);
  const y = (v) => M.top + plotH - (v / top) * plotH;

  const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "usage-chart-title", class: "chart" });
  const total = dayTotals.reduce((a, b) => a + b, 0);
  svg.append(node("title", { id: "usage-chart-title" },
    `Images per day, ${dayText(days[0])} to ${dayText(days[days.length - 1])}: ${imagesText(total)} in all`));

  const grid = node("g", { class: "grid" });
  for (let v = 0; v <= top; v += step) {
    grid.append(node("line", { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: v === 0 ? "baseline" : "" }));
    grid.append(node("text", { x: M.left - 8, y: y(v), class: "axis y" }, compact.format(v)));
  }
  svg.append(grid);

  days.forEach((day, i) => {
    const x = M.left + i * band;
    const g = node("g", { class: "day", "data-day": day });
    // the whole column answers a hover with the day's breakdown
    const hit = node("rect", { x, y: M.top, width: band, height: plotH, class: "hit" });
    const breakdown = series.filter((s) => s.values[i] > 0).map((s) => `${s.name}: ${number.format(s.values[i])}`);
    hit.append(node("title", {}, `${dayText(day)} (UTC): ${imagesText(dayTotals[i])}` +
      (breakdown.length ? `\n${breakdown.join("\n")}` : "")));
    g.append(hit);
    let base = 0;
    for (const s of series) {
      const v = s.values[i];
      if (v <= 0) continue;
      const segment = node("rect", {
        x: x + (band - barW) / 2, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)),
        class: `segment series-${s.colour}`, "data-key": s.key, "data-images": v,
      });
      segment.append(node("title", {}, `${s.name}: ${imagesText(v)} on ${dayText(day)} (UTC)` +
        (series.length > 1 ? `, of ${number.format(dayTotals[i])} that day` : "")));
      g.append(segment);
      base += v;
    }
    if (dayTotals[i] > 0) {
      g.append(node("text", { x: x + band / 2, y: y(dayTotals[i]) - 5, class: "bar-total" }, compact.format(dayTotals[i])));
    }
    const date = new Date(`${day}T00:00:00Z`);
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    g.append(node("text", { x: x + band / 2, y: H - M.bottom + 16, class: `axis x${weekend ? " weekend" : ""}` },
      String(date.getUTCDate())));
    if (i === 0 || date.getUTCDate() === 1) {
      g.append(node("text", { x: x + band / 2, y: H - M.bottom + 32, class: "axis month" }, monthShort.format(date)));
    }
    svg.append(g);
  });
  container.replaceChildren(svg);
}

/** The legend: a swatch, the name and the total of each series. */
export function drawLegend(list, series) {
  list.replaceChildren(...series.map((s) => {
    const item = document.createElement("li");
    item.dataset.key = s.key;
    const swatch = document.createElement("span");
    swatch.className = `swatch series-${s.colour}`;
    swatch.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "legend-name";
    name.textContent = s.name;
    const count = document.createElement("span");
    count.className = "legend-count";
    count.textContent = imagesText(s.total);
    item.append(swatch, name, count);
    return item;
  }));
}

/** The totals table's body and footer: one row per key, then every key together. */
export function drawTotals(table, keyTotals) {
  const head = document.createElement("tr");
  head.append(cell("th", "Key", { scope: "col" }), ...COLUMNS.map((c) => cell("th", c.label, { scope: "col", class: "num" })));
  const rows = keyTotals.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.key = t.key;
    tr.append(cell("th", t.name, { scope: "row" }), ...COLUMNS.map((c) => cell("td", c.format(t[c.field]), { class: "num" })));
    return tr;
  });
  const sum = document.createElement("tr");
  sum.append(cell("th", "All keys", { scope: "row" }),
    ...COLUMNS.map((c) => cell("td", c.format(keyTotals.reduce((a, t) => a + t[c.field], 0)), { class: "num" })));
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  tbody.append(...rows);
  const tfoot = document.createElement("tfoot");
  tfoot.append(sum);
  table.replaceChildren(thead, tbody, tfoot);
}

function cell(tag, text, attributes = {}) {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  return e;
}
