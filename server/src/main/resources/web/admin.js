// The admin page: the admin token, the list of API keys and what can be done to them, and the
// usage chart. Everything comes from the admin API; the page itself holds no data.

import { ApiError } from "./api.js";
import { AdminApi } from "./admin-api.js";
import {
  LIMITS, MAX_GRACE_SECONDS, durationText, fromLocalInput, inGrace, labelsText, limitInput, limitText, parseLabels,
  parseLimits, timeText, toLocalInput,
} from "./keys.js";
import { dayText, drawChart, drawLegend, drawTotals, imageSeries, lastDays, totals } from "./usage-chart.js";

const TOKEN_KEY = "qwen-image-admin.token";
const USAGE_DAYS = 30;

const $ = (id) => document.getElementById(id);
const el = {
  signin: $("signin"),
  tokenForm: $("token-form"),
  token: $("admin-token"),
  toggleToken: $("toggle-token"),
  useToken: $("use-token"),
  signinError: $("signin-error"),
  forget: $("forget-token"),
  app: $("app"),
  error: $("error"),
  secret: $("secret"),
  secretTitle: $("secret-title"),
  secretValue: $("secret-value"),
  copySecret: $("copy-secret"),
  copyStatus: $("copy-status"),
  dismissSecret: $("dismiss-secret"),
  keys: $("keys"),
  keysCount: $("keys-count"),
  refreshKeys: $("refresh-keys"),
  newKey: $("new-key"),
  usageRange: $("usage-range"),
  usageEmpty: $("usage-empty"),
  usageChart: $("usage-chart"),
  usageLegend: $("usage-legend"),
  usageTotals: $("usage-totals"),
  refreshUsage: $("refresh-usage"),
  keyDialog: $("key-dialog"),
  keyForm: $("key-form"),
  keyDialogTitle: $("key-dialog-title"),
  keyName: $("key-name"),
  keyExpires: $("key-expires"),
  keyLabels: $("key-labels"),
  keyLimits: $("key-limits"),
  keyFormError: $("key-form-error"),
  keyFormCancel: $("key-form-cancel"),
  keyFormSubmit: $("key-form-submit"),
  rotateDialog: $("rotate-dialog"),
  rotateForm: $("rotate-form"),
  rotateTitle: $("rotate-dialog-title"),
  rotateWhat: $("rotate-what"),
  rotateGrace: $("rotate-grace"),
  rotateGraceHelp: $("rotate-grace-help"),
  rotateError: $("rotate-error"),
  rotateCancel: $("rotate-cancel"),
  rotateSubmit: $("rotate-submit"),
};

const session = {
  get() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) ?? "";
    } catch {
      return "";
    }
  },
  set(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: the token lasts as long as the page
    }
  },
};

let token = "";
const admin = new AdminApi(() => token);
let keys = []; // as the server last listed them
let editing = null; // the key the key dialog edits; null: it creates one
let rotating = null; // the key the rotate dialog rotates
let engines = []; // names of this server's engines, for the allowed-engines hint

// ---- errors -----------------------------------------------------------------------------------

/** Shows an admin API error in `box` (an .error block): the server's message, then its reason and status. */
function showError(box, e, doing) {
  const message = box.querySelector(".error-message");
  const detail = box.querySelector(".error-detail");
  if (e instanceof ApiError) {
    const hints = [];
    if (e.status === 401) {
      hints.push("This page needs the admin token: QWEN_IMAGE_ADMIN_TOKEN, or the one in the start-up banner.");
    } else if (e.status === 403) {
      hints.push("That is an API key; admin routes take only the admin token.");
    }
    if (e.metadata?.field) hints.push(`Field: ${e.metadata.field}.`);
    if (e.retryAfterSeconds !== null) hints.push(`Try again in ${e.retryAfterSeconds} s.`);
    message.textContent = e.message;
    detail.textContent = [hints.join(" "), e.status === 0 ? e.reason : `${e.reason} · HTTP ${e.status} · while ${doing}`]
      .filter(Boolean).join(" — ");
  } else {
    message.textContent = typeof e === "string" ? e : `Something went wrong while ${doing}.`;
    detail.textContent = typeof e === "string" ? "" : String(e?.message ?? e);
  }
  detail.hidden = detail.textContent === "";
  box.hidden = false;
}

function hideError(box) {
  box.hidden = true;
}

/** A refused token sends the person back to the token form, with the server's message there. */
function refusedToken(e) {
  return e instanceof ApiError && (e.status === 401 || e.status === 403);
}

function signOut(e = null) {
  token = "";
  session.set("");
  keys = [];
  el.app.hidden = true;
  el.forget.hidden = true;
  el.signin.hidden = false;
  el.secret.hidden = true;
  el.secretValue.textContent = "";
  closeDialogs();
  if (e) {
    showError(el.signinError, e, "opening the admin page");
  } else {
    hideError(el.signinError);
  }
  el.token.focus();
}

/** Runs an admin call for `doing`; its error goes to `box`, or back to the token form when the token is refused. */
async function guarded(box, doing, call) {
  hideError(box);
  try {
    return await call();
  } catch (e) {
    if (refusedToken(e)) {
      signOut(e);
    } else {
      showError(box, e, doing);
    }
    return undefined;
  }
}

// ---- token ------------------------------------------------------------------------------------

async function open(candidate) {
  token = candidate.trim();
  el.useToken.disabled = true;
  hideError(el.signinError);
  try {
    const listed = await admin.keys();
    session.set(token);
    el.token.value = "";
    el.signin.hidden = true;
    el.app.hidden = false;
    el.forget.hidden = false;
    renderKeys(listed);
    loadEngines();
    loadUsage();
  } catch (e) {
    token = "";
    session.set("");
    showError(el.signinError, e, "opening the admin page");
    el.token.focus();
  } finally {
    el.useToken.disabled = false;
  }
}

// ---- keys -------------------------------------------------------------------------------------

function badge(text, kind) {
  const b = document.createElement("span");
  b.className = `badge ${kind}`;
  b.textContent = text;
  return b;
}

function td(...children) {
  const cell = document.createElement("td");
  cell.append(...children);
  return cell;
}

function timeCell(iso, none) {
  const cell = document.createElement("td");
  if (iso) {
    const t = document.createElement("time");
    t.dateTime = iso;
    t.title = iso;
    t.textContent = timeText(iso);
    cell.append(t);
  } else {
    cell.textContent = none;
    cell.className = "muted";
  }
  return cell;
}

function limitsList(key) {
  const list = document.createElement("dl");
  list.className = "limits-list";
  for (const { field, label } of LIMITS) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.dataset.limit = field;
    const set = key.limits?.[field] !== null && key.limits?.[field] !== undefined;
    dd.textContent = limitText(field, key.effective_limits?.[field]);
    dd.className = set ? "set" : "default";
    dd.title = set ? "set on this key" : "the server's default";
    list.append(dt, dd);
  }
  return list;
}

function actionButton(text, action, key) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `quiet ${action}`;
  b.dataset.action = action;
  b.dataset.keyId = key.id;
  b.textContent = text;
  b.setAttribute("aria-label", `${text} ${key.name}`);
  return b;
}

function keyRow(key) {
  const tr = document.createElement("tr");
  tr.dataset.keyId = key.id;
  tr.dataset.status = key.status;

  const name = document.createElement("div");
  name.className = "key-name";
  const strong = document.createElement("strong");
  strong.textContent = key.name;
  name.append(strong);
  if (key.bootstrap) name.append(" ", badge("bootstrap", "bootstrap"));
  const id = document.createElement("div");
  id.className = "key-id";
  id.textContent = key.id;
  const labels = document.createElement("div");
  labels.className = "labels";
  for (const [k, v] of Object.entries(key.labels ?? {})) {
    const chip = document.createElement("span");
    chip.className = "label";
    chip.textContent = `${k}=${v}`;
    labels.append(chip);
  }
  const prefix = document.createElement("code");
  prefix.textContent = `${key.prefix}…`;

  const status = [badge(key.status, `status-${key.status}`)];
  if (inGrace(key)) {
    const grace = document.createElement("div");
    grace.className = "grace";
    grace.textContent = `old secret works until ${timeText(key.previous_secret_valid_until)}`;
    status.push(grace);
  }

  const actions = document.createElement("div");
  actions.className = "row-actions";
  if (key.bootstrap) {
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = "not editable";
    note.title = "set by QWEN_IMAGE_API_KEYS; change it there and restart";
    actions.append(note);
  } else {
    actions.append(actionButton("Edit", "edit", key));
    if (key.status !== "revoked") {
      actions.append(actionButton("Rotate", "rotate", key), actionButton("Revoke", "revoke", key));
    }
  }

  tr.append(td(name, id, labels), td(prefix), td(...status), timeCell(key.created_at, "—"),
    timeCell(key.expires_at, "never"), td(limitsList(key)), td(actions));
  return tr;
}

function renderKeys(listed) {
  keys = listed;
  el.keysCount.textContent = `(${listed.length})`;
  el.keys.replaceChildren(...listed.map(keyRow));
}

async function reloadKeys() {
  const listed = await guarded(el.error, "listing the keys", () => admin.keys());
  if (listed) renderKeys(listed);
}

/** The global defaults, as a bootstrap key's effective limits show them. */
function defaults() {
  return keys.find((k) => k.bootstrap)?.effective_limits ?? null;
}

function buildLimitFields() {
  for (const { field, label, help, list } of LIMITS) {
    const wrap = document.createElement("div");
    wrap.className = "limit-field";
    const l = document.createElement("label");
    l.htmlFor = `limit-${field}`;
    l.textContent = label;
    const input = document.createElement("input");
    input.id = `limit-${field}`;
    input.name = field;
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
    if (!list) input.inputMode = "numeric";
    input.setAttribute("aria-describedby", `limit-${field}-help`);
    const p = document.createElement("p");
    p.id = `limit-${field}-help`;
    p.className = "help";
    p.textContent = help;
    wrap.append(l, input, p);
    el.keyLimits.append(wrap);
  }
}

function limitInputs() {
  return Object.fromEntries(LIMITS.map(({ field }) => [field, $(`limit-${field}`)]));
}

function openKeyDialog(key) {
  editing = key;
  hideError(el.keyFormError);
  el.keyDialogTitle.textContent = key ? `Edit “${key.name}”` : "New key";
  el.keyFormSubmit.textContent = key ? "Save changes" : "Create key";
  el.keyName.value = key?.name ?? "";
  el.keyExpires.value = toLocalInput(key?.expires_at ?? null);
  el.keyLabels.value = labelsText(key?.labels);
  const d = defaults();
  for (const [field, input] of Object.entries(limitInputs())) {
    input.value = limitInput(field, key?.limits?.[field] ?? null);
    input.placeholder = d ? `default: ${limitText(field, d[field])}` : "default";
  }
  $("limit-allowed_engines-help").textContent = `Engine names, comma-separated. This server has: ${engines.join(", ") || "—"}.`;
  el.keyDialog.showModal();
  el.keyName.focus();
}

async function submitKey(event) {
  event.preventDefault();
  hideError(el.keyFormError);
  const name = el.keyName.value.trim();
  if (!name) {
    showError(el.keyFormError, "Give the key a name, e.g. the customer or app it is for.", "checking the form");
    el.keyName.focus();
    return;
  }
  const texts = Object.fromEntries(Object.entries(limitInputs()).map(([f, input]) => [f, input.value]));
  const limits = parseLimits(texts);
  if (limits.error) {
    showError(el.keyFormError, limits.error, "checking the form");
    $(`limit-${limits.field}`).focus();
    return;
  }
  const labels = parseLabels(el.keyLabels.value);
  if (labels.error) {
    showError(el.keyFormError, labels.error, "checking the form");
    el.keyLabels.focus();
    return;
  }
  const expiresAt = fromLocalInput(el.keyExpires.value);
  const key = editing;
  el.keyFormSubmit.disabled = true;
  try {
    if (key) {
      const change = { name, labels: labels.labels, limits: limits.limits };
      if (el.keyExpires.value !== toLocalInput(key.expires_at)) {
        change.expires_at = expiresAt; // the input shows minutes: sent only when the person changed it
      }
      const saved = await guarded(el.keyFormError, `saving “${key.name}”`, () => admin.update(key.id, change));
      if (saved) {
        el.keyDialog.close();
        await reloadKeys();
      }
    } else {
      const fields = { name, limits: withoutDefaults(limits.limits) };
      if (expiresAt) fields.expires_at = expiresAt;
      if (Object.keys(labels.labels).length > 0) fields.labels = labels.labels;
      const created = await guarded(el.keyFormError, "creating the key", () => admin.create(fields));
      if (created) {
        el.keyDialog.close();
        showSecret(`Secret of the new key “${created.name}”`, created.secret);
        await reloadKeys();
      }
    }
  } finally {
    el.keyFormSubmit.disabled = false;
  }
}

/** A new key gets only the limits that were set: the others follow the defaults anyway. */
function withoutDefaults(limits) {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== null));
}

async function revoke(key) {
  const sure = window.confirm(`Revoke the key “${key.name}” (${key.prefix}…)?\n\n` +
    "Every request with its secret is refused from now on, on every node. This cannot be undone.");
  if (!sure) return;
  const revoked = await guarded(el.error, `revoking “${key.name}”`, () => admin.revoke(key.id));
  if (revoked) await reloadKeys();
}

function showGraceHelp() {
  const seconds = Number(el.rotateGrace.value);
  if (!Number.isInteger(seconds) || seconds < 0 || el.rotateGrace.value.trim() === "") {
    el.rotateGraceHelp.textContent = `A whole number of seconds, 0 to ${MAX_GRACE_SECONDS} (30 days).`;
  } else if (seconds === 0) {
    el.rotateGraceHelp.textContent = "0: the old secret stops working at once.";
  } else {
    el.rotateGraceHelp.textContent = `The old secret keeps working for ${durationText(seconds)}, then stops. ` +
      `At most ${MAX_GRACE_SECONDS} (30 days).`;
  }
}

function openRotateDialog(key) {
  rotating = key;
  hideError(el.rotateError);
  el.rotateTitle.textContent = `Rotate “${key.name}”`;
  el.rotateWhat.textContent = `A new secret replaces ${key.prefix}…; the key keeps its id, limits, tasks and usage.`;
  el.rotateGrace.value = "0";
  showGraceHelp();
  el.rotateDialog.showModal();
  el.rotateGrace.focus();
}

async function submitRotate(event) {
  event.preventDefault();
  const key = rotating;
  const text = el.rotateGrace.value.trim();
  if (!/^[+-]?\d+$/.test(text)) {
    showError(el.rotateError, "The grace period is a whole number of seconds (0: the old secret stops at once).", "checking the form");
    el.rotateGrace.focus();
    return;
  }
  el.rotateSubmit.disabled = true;
  try {
    const rotated = await guarded(el.rotateError, `rotating “${key.name}”`, () => admin.rotate(key.id, Number(text)));
    if (rotated) {
      el.rotateDialog.close();
      const until = rotated.previous_secret_valid_until;
      showSecret(`New secret of “${rotated.name}”`, rotated.secret,
        until ? `The old secret works until ${timeText(until)}.` : "The old secret no longer works.");
      await reloadKeys();
    }
  } finally {
    el.rotateSubmit.disabled = false;
  }
}

function closeDialogs() {
  for (const d of [el.keyDialog, el.rotateDialog]) {
    if (d.open) d.close();
  }
}

// ---- the secret, shown once -------------------------------------------------------------------

function showSecret(title, secret, note = "") {
  el.secretTitle.textContent = title;
  el.secretValue.textContent = secret;
  el.copyStatus.textContent = note;
  el.secret.hidden = false;
  el.secret.scrollIntoView({ behavior: "smooth", block: "nearest" });
  el.copySecret.focus();
}

function hideSecret() {
  el.secret.hidden = true;
  el.secretValue.textContent = "";
  el.copyStatus.textContent = "";
}

/** Without the Clipboard API (a page served over plain http from another host): a selection and execCommand. */
function copyBySelection(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

async function copySecret() {
  const text = el.secretValue.textContent;
  let copied = false;
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      copied = false;
    }
  }
  if (!copied) copied = copyBySelection(text);
  if (copied) {
    el.copyStatus.textContent = "Copied to the clipboard.";
  } else {
    // the browser refused both: leave the secret selected, for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents(el.secretValue);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    el.copyStatus.textContent = "The browser did not allow copying: the secret is selected, press Ctrl+C (⌘C).";
  }
}

// ---- usage ------------------------------------------------------------------------------------

async function loadUsage() {
  const days = lastDays(USAGE_DAYS);
  el.usageRange.textContent = `${dayText(days[0])} to ${dayText(days[days.length - 1])} (UTC), by key`;
  const usage = await guarded(el.error, "reading the usage", () => admin.usage(days[0], days[days.length - 1]));
  if (!usage) return;
  const names = new Map(keys.map((k) => [k.id, k.name]));
  const series = imageSeries(usage.rows ?? [], days, names);
  const empty = series.length === 0;
  el.usageEmpty.hidden = !empty;
  el.usageChart.hidden = empty;
  el.usageLegend.hidden = empty;
  if (empty) {
    el.usageChart.replaceChildren();
    el.usageLegend.replaceChildren();
  } else {
    drawChart(el.usageChart, days, series);
    drawLegend(el.usageLegend, series);
  }
  drawTotals(el.usageTotals, totals(usage.rows ?? [], names));
}

async function loadEngines() {
  try {
    const health = await admin.health();
    engines = (health.engines ?? []).map((e) => e.name);
  } catch {
    engines = []; // only a hint in the form
  }
}

// ---- wiring -----------------------------------------------------------------------------------

buildLimitFields();

el.tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!el.token.value.trim()) {
    showError(el.signinError, "Enter the admin token first.", "opening the admin page");
    el.token.focus();
    return;
  }
  open(el.token.value);
});
el.toggleToken.addEventListener("click", () => {
  const show = el.token.type === "password";
  el.token.type = show ? "text" : "password";
  el.toggleToken.textContent = show ? "Hide" : "Show";
  el.toggleToken.setAttribute("aria-pressed", String(show));
});
el.forget.addEventListener("click", () => signOut());
el.refreshKeys.addEventListener("click", reloadKeys);
el.refreshUsage.addEventListener("click", async () => {
  await reloadKeys();
  await loadUsage();
});
el.newKey.addEventListener("click", () => openKeyDialog(null));
el.keys.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  const key = button && keys.find((k) => k.id === button.dataset.keyId);
  if (!key) return;
  if (button.dataset.action === "edit") openKeyDialog(key);
  if (button.dataset.action === "rotate") openRotateDialog(key);
  if (button.dataset.action === "revoke") revoke(key);
});
el.keyForm.addEventListener("submit", submitKey);
el.keyFormCancel.addEventListener("click", () => el.keyDialog.close());
el.rotateForm.addEventListener("submit", submitRotate);
el.rotateCancel.addEventListener("click", () => el.rotateDialog.close());
el.rotateGrace.addEventListener("input", showGraceHelp);
el.copySecret.addEventListener("click", copySecret);
el.dismissSecret.addEventListener("click", hideSecret);

const remembered = session.get();
if (remembered) {
  open(remembered);
} else {
  el.token.focus();
}
