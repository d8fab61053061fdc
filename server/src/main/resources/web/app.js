// The playground page: the Generate and Edit forms, live progress of the current task, the result
// (an edit's before and after side by side) and the gallery.

import { Api, ApiError, CANCELLED, STATUS, isFinished } from "./api.js";
import { EDIT, GalleryStore, GalleryView, keyId } from "./gallery.js";
import { codePoints, countText, etaText, sizeText } from "./format.js";
import { checkCustom, editSize, parseSize, presets, sizeParam } from "./sizes.js";
import { EditInput, IMAGE_REASONS } from "./edit.js";

const SETTINGS_KEY = "qwen-image-playground.settings.v1";
const API_KEY_KEY = "qwen-image-playground.api-key";
const CUSTOM = "custom";
const GENERATE = "generate";

const $ = (id) => document.getElementById(id);
const el = {
  form: $("generate-form"),
  key: $("api-key"),
  toggleKey: $("toggle-key"),
  prompt: $("prompt"),
  promptCount: $("prompt-count"),
  presets: $("size-presets"),
  custom: $("custom-size"),
  customWidth: $("custom-width"),
  customHeight: $("custom-height"),
  sizeNote: $("size-note"),
  watermark: $("watermark"),
  negativePrompt: $("negative-prompt"),
  seed: $("seed"),
  imageType: $("image-type"),
  submit: $("submit"),
  cancel: $("cancel"),
  notice: $("notice"),
  serverStatus: $("server-status"),
  error: $("error"),
  errorMessage: $("error-message"),
  errorDetail: $("error-detail"),
  progressBlock: $("progress-block"),
  progress: $("progress"),
  progressPercent: $("progress-percent"),
  progressLabel: $("progress-label"),
  figure: $("result-figure"),
  image: $("result-image"),
  resultPrompt: $("result-prompt"),
  resultMeta: $("result-meta"),
  resultOpen: $("result-open"),
  reuseSeed: $("reuse-seed"),
  more: $("more-options"),
  resultEmpty: $("result-empty"),
  skip: document.querySelector(".skip"),
  modes: [...document.querySelectorAll("input[name=mode]")],
  editForm: $("edit-form"),
  editPrompt: $("edit-prompt"),
  editPromptCount: $("edit-prompt-count"),
  editSeed: $("edit-seed"),
  editFormat: $("edit-format"),
  editWatermark: $("edit-watermark"),
  editSubmit: $("edit-submit"),
  editFigure: $("edit-figure"),
  editBefore: $("edit-before"),
  editBeforeNote: $("edit-before-note"),
  editAfter: $("edit-after"),
  editAfterSize: $("edit-after-size"),
  editResultPrompt: $("edit-result-prompt"),
  editResultMeta: $("edit-result-meta"),
  editDownload: $("edit-download"),
  editOpen: $("edit-open"),
  editReuseSeed: $("edit-reuse-seed"),
  gallery: $("gallery"),
  galleryEmpty: $("gallery-empty"),
  galleryNote: $("gallery-note"),
  clearGallery: $("clear-gallery"),
};

const storage = {
  get(name) {
    try {
      return localStorage.getItem(name);
    } catch {
      return null;
    }
  },
  set(name, value) {
    try {
      localStorage.setItem(name, value);
    } catch {
      // storage disabled: nothing is remembered, everything else works
    }
  },
};

const api = new Api(() => el.key.value);
const PRESETS = presets();
const MAX_SEED = 2 ** 53 - 1;
/** The edit endpoint's seed range (the vendor's). */
const MAX_EDIT_SEED = 2147483647;
let tracked = null; // {taskId, controller, cancelling, kind} of the task the result panel follows
/** The pictures this page sent for edits, in full, while it stays open (the gallery keeps small copies). */
const editInputs = new Map();

const editInput = new EditInput({
  drop: $("edit-drop"),
  file: $("edit-file"),
  url: $("edit-url"),
  preview: $("edit-preview"),
  info: $("edit-image-info"),
  clear: $("edit-clear"),
  error: $("edit-image-error"),
  errorMessage: $("edit-image-error-message"),
  errorDetail: $("edit-image-error-detail"),
});

// ---- form -------------------------------------------------------------------------------------

function buildPresets() {
  const choices = [...PRESETS.map((p) => ({ value: p.id, title: p.id, detail: sizeText(p.width, p.height) })),
    { value: CUSTOM, title: "Custom", detail: "W × H" }];
  for (const c of choices) {
    const label = document.createElement("label");
    label.className = "preset";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "size";
    input.value = c.value;
    input.id = `size-${c.value.replace(":", "x")}`;
    const title = document.createElement("span");
    title.className = "preset-title";
    title.textContent = c.title;
    const detail = document.createElement("span");
    detail.className = "preset-detail";
    detail.textContent = c.detail;
    if (c.value !== CUSTOM) {
      const p = PRESETS.find((x) => x.id === c.value);
      const box = document.createElement("span");
      box.className = "preset-shape";
      box.style.aspectRatio = `${p.width} / ${p.height}`;
      box.setAttribute("aria-hidden", "true");
      label.append(input, box, title, detail);
    } else {
      label.append(input, title, detail);
    }
    el.presets.append(label);
  }
}

function selectedPreset() {
  return el.presets.querySelector("input[name=size]:checked")?.value ?? PRESETS[0].id;
}

/** The size that will be sent, or {error} for a custom size the API would refuse. */
function chosenSize() {
  const choice = selectedPreset();
  if (choice === CUSTOM) {
    const width = Number(el.customWidth.value);
    const height = Number(el.customHeight.value);
    const error = checkCustom(width, height);
    return error ? { error } : { width, height };
  }
  const p = PRESETS.find((x) => x.id === choice);
  return { width: p.width, height: p.height, preset: p };
}

function showSizeNote() {
  const choice = selectedPreset();
  el.custom.hidden = choice !== CUSTOM;
  const size = chosenSize();
  el.sizeNote.classList.toggle("invalid", Boolean(size.error));
  if (size.error) {
    el.sizeNote.textContent = size.error;
  } else if (size.preset?.scaled) {
    const n = size.preset.native;
    el.sizeNote.textContent = `Sends ${sizeText(size.width, size.height)}: Qwen-Image's native ` +
      `${sizeText(n.width, n.height)} scaled down to the API's limit of 1536 pixels a side.`;
  } else if (size.preset) {
    el.sizeNote.textContent = `Sends ${sizeText(size.width, size.height)}, a native Qwen-Image size.`;
  } else {
    el.sizeNote.textContent = `Sends ${sizeText(size.width, size.height)}. Each side: 256 to 1536 pixels.`;
  }
  saveSettings();
}

function selectSize(width, height) {
  const preset = PRESETS.find((p) => p.width === width && p.height === height);
  const value = preset ? preset.id : CUSTOM;
  el.presets.querySelector(`input[value="${value}"]`).checked = true;
  if (!preset) {
    el.customWidth.value = width;
    el.customHeight.value = height;
  }
  showSizeNote();
}

function saveSettings() {
  storage.set(SETTINGS_KEY, JSON.stringify({
    size: selectedPreset(),
    customWidth: el.customWidth.value,
    customHeight: el.customHeight.value,
    watermark: el.watermark.checked,
    imageType: el.imageType.value,
    mode: mode(),
    editFormat: el.editFormat.value,
    editWatermark: el.editWatermark.checked,
  }));
}

function loadSettings() {
  el.key.value = storage.get(API_KEY_KEY) ?? "";
  let s = {};
  try {
    s = JSON.parse(storage.get(SETTINGS_KEY) ?? "{}") ?? {};
  } catch {
    s = {};
  }
  const value = [...PRESETS.map((p) => p.id), CUSTOM].includes(s.size) ? s.size : PRESETS[0].id;
  el.presets.querySelector(`input[value="${value}"]`).checked = true;
  if (s.customWidth) el.customWidth.value = s.customWidth;
  if (s.customHeight) el.customHeight.value = s.customHeight;
  el.watermark.checked = s.watermark === true;
  if (["jpeg", "png", "webp"].includes(s.imageType)) el.imageType.value = s.imageType;
  if (["jpeg", "png", "webp"].includes(s.editFormat)) el.editFormat.value = s.editFormat;
  el.editWatermark.checked = s.editWatermark === true;
  setMode(s.mode === EDIT ? EDIT : GENERATE);
  showSizeNote();
}

function mode() {
  return el.modes.find((m) => m.checked)?.value === EDIT ? EDIT : GENERATE;
}

/** Shows the form of one mode; the other keeps what was typed in it. */
function setMode(value) {
  for (const m of el.modes) m.checked = m.value === value;
  el.form.hidden = value !== GENERATE;
  el.editForm.hidden = value !== EDIT;
  el.skip.href = value === EDIT ? "#edit-prompt" : "#prompt";
}

/** The seed to send: null for a random one, or {error}. */
function chosenSeed(input = el.seed, max = MAX_SEED) {
  const text = input.value.trim();
  if (text === "" || text === "-1") {
    return { seed: null };
  }
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > max) {
    return { error: `The seed must be a whole number from 0 to ${max}, or empty for a random one.` };
  }
  return { seed };
}

function updatePromptCount() {
  el.promptCount.textContent = countText(codePoints(el.prompt.value), "character");
  el.editPromptCount.textContent = countText(codePoints(el.editPrompt.value), "character");
}

// ---- result panel -----------------------------------------------------------------------------

function showError(message, detail = "") {
  el.errorMessage.textContent = message;
  el.errorDetail.textContent = detail;
  el.errorDetail.hidden = detail === "";
  el.error.hidden = false;
}

function clearError() {
  el.error.hidden = true;
  el.notice.hidden = true;
}

function showNotice(text) {
  el.notice.textContent = text;
  el.notice.hidden = false;
}

function showApiError(e, doing) {
  if (!(e instanceof ApiError)) {
    showError(`Something went wrong while ${doing}.`, String(e?.message ?? e));
    return;
  }
  const hints = [];
  if (e.status === 401) hints.push("Check the API key: the server prints it in its start-up banner.");
  if (e.retryAfterSeconds !== null) hints.push(`Try again in ${e.retryAfterSeconds} s.`);
  const code = e.status === 0 ? e.reason : `${e.reason} · HTTP ${e.status}`;
  showError(e.message, [hints.join(" "), code].filter(Boolean).join(" — "));
}

function showProgress(status, percent, eta, waitReason = "") {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  const queued = status === STATUS.QUEUED;
  el.progressBlock.hidden = false;
  // a waiting task has no progress yet: the bar is indeterminate and no percentage is shown
  if (queued) {
    el.progress.removeAttribute("value");
  } else {
    el.progress.value = value;
  }
  el.progressPercent.textContent = queued ? "" : `${value}%`;
  const doing = tracked?.kind === EDIT ? "Editing" : "Generating";
  const what = `${tracked?.cancelling ? "Cancelling" : queued ? "Waiting in the queue" : doing}${queued ? "" : `: ${value}%`}`;
  // while no engine can start it, the server says why instead of giving an ETA
  const text = [what, waitReason || etaText(eta)].filter(Boolean).join(" · ");
  if (el.progressLabel.textContent !== text) {
    el.progressLabel.textContent = text;
  }
}

function showResult(item, body) {
  if (item.kind === EDIT) {
    showEditResult(item, body);
    return;
  }
  const image = body.images[0];
  const size = parseSize(item.size);
  el.progressBlock.hidden = true;
  el.resultEmpty.hidden = true;
  el.editFigure.hidden = true;
  el.figure.hidden = false;
  el.figure.dataset.taskId = item.taskId;
  if (size) {
    el.image.width = size.width;
    el.image.height = size.height;
  }
  el.image.alt = item.prompt;
  el.image.src = image.image_url;
  el.resultPrompt.textContent = item.prompt;
  const meta = [size ? sizeText(size.width, size.height) : item.size, (image.image_type ?? "jpeg").toUpperCase()];
  const seed = body.extra?.seed;
  if (Number.isSafeInteger(seed)) meta.push(`seed ${seed}`);
  el.resultMeta.textContent = meta.join(" · ");
  el.reuseSeed.hidden = !Number.isSafeInteger(seed);
  el.reuseSeed.dataset.seed = String(seed);
  el.resultOpen.href = image.image_url;
}

/** An edit's result: the picture that was sent beside the one that came back. */
function showEditResult(item, body) {
  const image = body.images[0];
  const type = image.image_type ?? "jpeg";
  const size = parseSize(item.size);
  el.progressBlock.hidden = true;
  el.resultEmpty.hidden = true;
  el.figure.hidden = true;
  el.editFigure.hidden = false;
  el.editFigure.dataset.taskId = item.taskId;

  const before = editInputs.get(item.taskId) ?? item.input ?? null;
  el.editBefore.closest(".side").hidden = before === null;
  el.editBeforeNote.textContent = editInputs.has(item.taskId) ? "" : "(the small copy kept in this browser)";
  el.editBefore.alt = `Before: the picture sent to be edited (${item.prompt})`;
  if (before !== null) {
    el.editBefore.src = before;
  } else {
    el.editBefore.removeAttribute("src");
  }

  if (size) {
    el.editAfter.width = size.width;
    el.editAfter.height = size.height;
  } else {
    el.editAfter.removeAttribute("width");
    el.editAfter.removeAttribute("height");
  }
  el.editAfter.alt = `After: ${item.prompt}`;
  el.editAfter.src = image.image_url;
  el.editAfterSize.textContent = size ? `(${sizeText(size.width, size.height)})` : "";
  el.editResultPrompt.textContent = item.prompt;
  const meta = ["Edit", size ? sizeText(size.width, size.height) : "", type.toUpperCase()].filter(Boolean);
  const seed = body.extra?.seed;
  if (Number.isSafeInteger(seed)) meta.push(`seed ${seed}`);
  el.editResultMeta.textContent = meta.join(" · ");
  el.editReuseSeed.hidden = !Number.isSafeInteger(seed);
  el.editReuseSeed.dataset.seed = String(seed);
  el.editOpen.href = image.image_url;
  el.editDownload.href = image.image_url;
  el.editDownload.download = `qwen-image-edit-${item.taskId.slice(0, 8)}.${type === "jpeg" ? "jpg" : type}`;
}

/** While a task runs neither form submits; the running one's button says what it does. */
function setBusy(busy, kind = tracked?.kind) {
  el.submit.disabled = busy;
  el.submit.textContent = busy && kind !== EDIT ? "Generating…" : "Generate";
  el.form.setAttribute("aria-busy", String(busy && kind !== EDIT));
  el.editSubmit.disabled = busy;
  el.editSubmit.textContent = busy && kind === EDIT ? "Editing…" : "Edit";
  el.editForm.setAttribute("aria-busy", String(busy && kind === EDIT));
  el.cancel.disabled = false;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener("abort", () => {
    clearTimeout(t);
    resolve();
  }, { once: true });
});

/** Poll about once a second; faster near the end, so the result shows without delay. */
function pollDelay(task) {
  if (tracked?.cancelling) return 250;
  const eta = Number(task?.eta ?? 0);
  if (task?.status === STATUS.QUEUED && eta > 10) return 2000;
  if (eta > 5) return 1000;
  if (eta > 2) return 500;
  return 250;
}

/** Follows one task in the result panel until it ends. */
async function track(item) {
  tracked?.controller.abort();
  const controller = new AbortController();
  tracked = { taskId: item.taskId, controller, cancelling: false, kind: item.kind === EDIT ? EDIT : GENERATE };
  const signal = controller.signal;
  setBusy(true);
  el.figure.hidden = true;
  el.editFigure.hidden = true;
  el.resultEmpty.hidden = true;
  showProgress(STATUS.QUEUED, 0, 0);
  let failures = 0;
  let delay = 250;
  try {
    while (!signal.aborted) {
      await sleep(delay, signal);
      if (signal.aborted) return;
      let body;
      try {
        body = await api.result(item.taskId, signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && e.transient && failures < 10) {
          failures++;
          delay = Math.max(1000, (e.retryAfterSeconds ?? 0) * 1000, 1000 * 2 ** Math.min(failures, 4));
          el.progressLabel.textContent = `${e.message} Retrying…`;
          continue;
        }
        el.progressBlock.hidden = true;
        showApiError(e, "checking on the task");
        return;
      }
      gallery.update(item.taskId, body);
      const task = body.task;
      if (task.status === STATUS.SUCCEED) {
        showProgress(task.status, 100, 0);
        showResult(item, body);
        return;
      }
      if (task.status === STATUS.FAILED) {
        el.progressBlock.hidden = true;
        el.resultEmpty.hidden = false;
        if (task.reason === CANCELLED) {
          showNotice(`Cancelled: the task was stopped and no picture was ${item.kind === EDIT ? "edited" : "made"}.`);
        } else {
          showError(`The task failed: ${task.reason || "no reason given"}.`, `task ${item.taskId}`);
        }
        return;
      }
      if (!isFinished(task.status)) {
        showProgress(task.status, task.progress_percent ?? 0, task.eta, body.extra?.wait_reason ?? "");
      }
      delay = pollDelay(task);
    }
  } finally {
    if (tracked?.controller === controller) {
      tracked = null;
      setBusy(false);
    }
  }
}

async function cancel() {
  const current = tracked;
  if (!current || current.cancelling) return;
  current.cancelling = true;
  el.cancel.disabled = true;
  el.progressLabel.textContent = "Cancelling…";
  try {
    await api.cancel(current.taskId);
  } catch (e) {
    // 409: it finished meanwhile, and the next poll shows how
    if (!(e instanceof ApiError && e.status === 409)) {
      current.cancelling = false;
      el.cancel.disabled = false;
      showApiError(e, "cancelling the task");
    }
  }
}

async function generate(event) {
  event.preventDefault();
  clearError();
  const key = el.key.value.trim();
  const prompt = el.prompt.value.trim();
  const size = chosenSize();
  if (!key) {
    showError("Enter the API key first.", "The server prints it in its start-up banner, on the line “API key”.");
    el.key.focus();
    return;
  }
  if (!prompt) {
    showError("Write a prompt first: what should the picture show?");
    el.prompt.focus();
    return;
  }
  if (size.error) {
    showError(size.error);
    el.customWidth.focus();
    return;
  }
  const seed = chosenSeed();
  if (seed.error) {
    showError(seed.error);
    el.seed.focus();
    return;
  }
  setBusy(true, GENERATE);
  const sizeValue = sizeParam(size.width, size.height);
  const negativePrompt = el.negativePrompt.value.trim();
  let taskId;
  try {
    taskId = await api.submit({
      prompt,
      size: sizeValue,
      watermark: el.watermark.checked,
      seed: seed.seed,
      negativePrompt,
      imageType: el.imageType.value,
    });
  } catch (e) {
    setBusy(false);
    showApiError(e, "submitting the task");
    return;
  }
  const item = { taskId, prompt, size: sizeValue, createdAt: Date.now(), keyId: keyId(key) };
  if (negativePrompt) item.negativePrompt = negativePrompt;
  tracked = { taskId, controller: new AbortController(), cancelling: false, kind: GENERATE };
  gallery.add(item);
  track(item);
}

/** Whether an API error is about the input picture (or that no engine edits), so it belongs next to the input. */
function aboutTheImage(e) {
  return e instanceof ApiError && (IMAGE_REASONS.includes(e.reason) || e.metadata?.field === "image" || e.status === 413);
}

async function edit(event) {
  event.preventDefault();
  clearError();
  const key = el.key.value.trim();
  if (!key) {
    showError("Enter the API key first.", "The server prints it in its start-up banner, on the line “API key”.");
    el.key.focus();
    return;
  }
  const source = await editInput.ready();
  if (!source) {
    // a file refused here already says why; otherwise nothing was chosen
    if ($("edit-image-error").hidden) {
      editInput.showError("Choose the picture to edit first: a file, one dropped or pasted here, or its URL.");
    }
    $("edit-file").focus();
    return;
  }
  editInput.clearError();
  const prompt = el.editPrompt.value.trim();
  if (!prompt) {
    showError("Write what to change first, e.g. “make the sky purple”.");
    el.editPrompt.focus();
    return;
  }
  const seed = chosenSeed(el.editSeed, MAX_EDIT_SEED);
  if (seed.error) {
    showError(seed.error);
    el.editSeed.focus();
    return;
  }
  setBusy(true, EDIT);
  let taskId;
  try {
    taskId = await api.submitEdit({
      prompt,
      image: source.image,
      watermark: el.editWatermark.checked,
      seed: seed.seed,
      outputFormat: el.editFormat.value,
    });
  } catch (e) {
    setBusy(false, EDIT);
    if (aboutTheImage(e)) {
      editInput.showError(e.message, `${e.reason} · HTTP ${e.status}`);
    } else {
      showApiError(e, "submitting the edit");
    }
    return;
  }
  const item = { taskId, kind: EDIT, prompt, createdAt: Date.now(), keyId: keyId(key) };
  if (source.width && source.height) {
    const out = editSize(source.width, source.height);
    item.size = sizeParam(out.width, out.height);
  }
  const thumbnail = editInput.thumbnail();
  if (thumbnail) item.input = thumbnail;
  editInputs.set(taskId, source.image);
  tracked = { taskId, controller: new AbortController(), cancelling: false, kind: EDIT };
  gallery.add(item);
  track(item);
}

// ---- server status ----------------------------------------------------------------------------

async function checkServer() {
  try {
    const health = await api.health();
    const engines = health.engines ?? [];
    const names = engines.map((e) => e.name).join(", ") || "none";
    const previewOnly = engines.length > 0 && engines.every((e) => String(e.description).startsWith("preview"));
    el.serverStatus.dataset.state = health.status === "ok" ? "ok" : "degraded";
    el.serverStatus.textContent = `Server ${health.status} · engine${engines.length === 1 ? "" : "s"}: ${names}` +
      (previewOnly ? " (draws the prompt on a poster; runs no model)" : "");
  } catch (e) {
    el.serverStatus.dataset.state = "down";
    el.serverStatus.textContent = e instanceof ApiError ? e.message : "The server did not answer.";
  }
}

// ---- wiring -----------------------------------------------------------------------------------

const store = new GalleryStore();
const gallery = new GalleryView({
  list: el.gallery,
  empty: el.galleryEmpty,
  note: el.galleryNote,
  api,
  store,
  currentKeyId: () => (el.key.value.trim() ? keyId(el.key.value) : ""),
  trackedTaskId: () => tracked?.taskId ?? null,
  onShow: (item, body) => {
    clearError();
    showResult(item, body);
    (item.kind === EDIT ? el.editFigure : el.figure).scrollIntoView({ behavior: "smooth", block: "nearest" });
  },
  onReuse: (item) => {
    if (item.kind === EDIT) {
      setMode(EDIT);
      saveSettings();
      el.editPrompt.value = item.prompt;
      updatePromptCount();
      const full = editInputs.get(item.taskId) ?? (/^https?:/i.test(item.input ?? "") ? item.input : null);
      if (full) editInput.restore(full);
      el.editPrompt.focus();
      return;
    }
    setMode(GENERATE);
    saveSettings();
    el.prompt.value = item.prompt;
    el.negativePrompt.value = item.negativePrompt ?? "";
    if (item.negativePrompt) el.more.open = true;
    updatePromptCount();
    const size = parseSize(item.size);
    if (size) selectSize(size.width, size.height);
    el.prompt.focus();
  },
});

buildPresets();
loadSettings();
updatePromptCount();

let keyTimer = 0;
el.key.addEventListener("input", () => {
  storage.set(API_KEY_KEY, el.key.value.trim());
  clearTimeout(keyTimer);
  keyTimer = setTimeout(() => gallery.render(), 400);
});
el.toggleKey.addEventListener("click", () => {
  const show = el.key.type === "password";
  el.key.type = show ? "text" : "password";
  el.toggleKey.textContent = show ? "Hide" : "Show";
  el.toggleKey.setAttribute("aria-pressed", String(show));
});
el.prompt.addEventListener("input", updatePromptCount);
el.prompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    el.form.requestSubmit();
  }
});
el.editPrompt.addEventListener("input", updatePromptCount);
el.editPrompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    el.editForm.requestSubmit();
  }
});
for (const m of el.modes) {
  m.addEventListener("change", () => {
    setMode(mode());
    saveSettings();
  });
}
// a picture pasted anywhere on the page while editing is the picture to edit
document.addEventListener("paste", (e) => {
  const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
  if (mode() === EDIT && file) {
    e.preventDefault();
    editInput.take(file, true);
  }
});
el.editFormat.addEventListener("change", saveSettings);
el.editWatermark.addEventListener("change", saveSettings);
el.editForm.addEventListener("submit", edit);
el.editReuseSeed.addEventListener("click", () => {
  el.editSeed.value = el.editReuseSeed.dataset.seed;
  el.editSeed.focus();
});
el.presets.addEventListener("change", showSizeNote);
el.customWidth.addEventListener("input", showSizeNote);
el.customHeight.addEventListener("input", showSizeNote);
el.watermark.addEventListener("change", saveSettings);
el.imageType.addEventListener("change", saveSettings);
el.cancel.addEventListener("click", cancel);
el.reuseSeed.addEventListener("click", () => {
  el.seed.value = el.reuseSeed.dataset.seed;
  el.more.open = true;
  el.seed.focus();
});
el.form.addEventListener("submit", generate);
el.clearGallery.addEventListener("click", () => {
  const id = gallery.currentKeyId();
  if (id && window.confirm("Remove every picture made with this key from this list? The server keeps them.")) {
    store.clear(id);
    gallery.render();
  }
});

gallery.render();
checkServer();
