// This browser's pictures: a list in localStorage (task id, prompt, size, time; for an edit, a
// small copy of the picture it started from), shown as cards whose images come from fresh
// task-result links, because image links expire.

import { ApiError, CANCELLED, STATUS, isFinished } from "./api.js";
import { agoText, sizeText } from "./format.js";
import { parseSize } from "./sizes.js";

const STORAGE_KEY = "qwen-image-playground.gallery.v1";
const MAX_ITEMS = 60;
const PENDING_POLL_MS = 3000;
const RETRY_MS = 10000;
const PARALLEL_LOADS = 3;

/** The kind of an item that is an edit ({kind: "edit"}); a text-to-image item has no kind. */
export const EDIT = "edit";

/**
 * A short fingerprint of an API key (32-bit FNV-1a), so that each key sees its own pictures: the
 * server answers 404 for another key's task, and those items must not be mistaken for gone ones.
 */
export function keyId(key) {
  let h = 0x811c9dc5;
  for (const ch of key.trim()) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The list in localStorage, newest first. Survives a corrupt or missing entry. */
export class GalleryStore {
  constructor(storage = globalThis.localStorage) {
    this.storage = storage;
  }

  all() {
    try {
      const items = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? "[]");
      return Array.isArray(items) ? items.filter((i) => i && typeof i.taskId === "string") : [];
    } catch {
      return [];
    }
  }

  add(item) {
    const items = [item, ...this.all().filter((i) => i.taskId !== item.taskId)].slice(0, MAX_ITEMS);
    if (!this.#save(items)) {
      // full: the edits' small copies of their inputs are what takes the room; drop the oldest ones
      for (let i = items.length - 1; i > 0 && !this.#save(items); i--) {
        delete items[i].input;
      }
    }
  }

  remove(taskId) {
    this.#save(this.all().filter((i) => i.taskId !== taskId));
  }

  clear(ofKeyId) {
    this.#save(this.all().filter((i) => i.keyId !== ofKeyId));
  }

  /** Whether it was written. */
  #save(items) {
    try {
      this.storage.setItem(STORAGE_KEY, JSON.stringify(items));
      return true;
    } catch {
      // storage full or disabled: the gallery just isn't remembered
      return false;
    }
  }
}

/** Renders the current key's items and keeps each card up to date. */
export class GalleryView {
  /**
   * @param {object} o
   * @param {HTMLUListElement} o.list
   * @param {HTMLElement} o.empty shown when the list is empty
   * @param {HTMLElement} o.note explains hidden items
   * @param {import("./api.js").Api} o.api
   * @param {GalleryStore} o.store
   * @param {() => string} o.currentKeyId
   * @param {() => string|null} o.trackedTaskId the task the result panel is polling already
   * @param {(item: object, body: object) => void} o.onShow
   * @param {(item: object) => void} o.onReuse
   */
  constructor(o) {
    Object.assign(this, o);
    this.cards = new Map();
    this.aborter = new AbortController();
    this.noteText = o.note.textContent.trim();
  }

  /** Rebuilds every card and fetches a fresh link for each (a few at a time). */
  render() {
    this.aborter.abort();
    this.aborter = new AbortController();
    const signal = this.aborter.signal;
    this.cards.clear();
    this.list.replaceChildren();
    const key = this.currentKeyId();
    const all = this.store.all();
    const mine = key ? all.filter((i) => i.keyId === key) : [];
    for (const item of mine) {
      const card = this.#card(item);
      this.cards.set(item.taskId, card);
      this.list.append(card.li);
    }
    this.#updateEmpty();
    const hidden = all.length - mine.length;
    this.note.textContent = !key && all.length > 0
      ? "Enter your API key to see the pictures made with it."
      : hidden > 0
        ? `${this.noteText} ${hidden} made with another API key ${hidden === 1 ? "is" : "are"} not shown.`
        : this.noteText;

    const queue = [...mine];
    const worker = async () => {
      for (let item = queue.shift(); item && !signal.aborted; item = queue.shift()) {
        await this.#refresh(item, signal);
      }
    };
    for (let i = 0; i < PARALLEL_LOADS; i++) {
      worker();
    }
  }

  /** Adds a new item at the top (the task was just submitted). */
  add(item) {
    this.store.add(item);
    this.render();
  }

  /** A fresh task-result body for an item, from the result panel's own polling. */
  update(taskId, body) {
    const card = this.cards.get(taskId);
    if (card) {
      this.#apply(card, body, this.aborter.signal);
    }
  }

  async #refresh(item, signal) {
    const card = this.cards.get(item.taskId);
    if (!card || signal.aborted) {
      return;
    }
    try {
      const body = await this.api.result(item.taskId, signal);
      if (!signal.aborted) {
        this.#apply(card, body, signal);
      }
    } catch (e) {
      if (signal.aborted) {
        return;
      }
      if (e instanceof ApiError && e.status === 404) {
        // the task is gone from the server (retention): forget it
        this.store.remove(item.taskId);
        this.cards.delete(item.taskId);
        card.li.remove();
        this.#updateEmpty();
      } else if (e instanceof ApiError && e.status === 401) {
        this.#state(card, "error", "The API key was not accepted.");
      } else {
        this.#state(card, "error", e instanceof ApiError ? e.message : "Could not load.");
        setTimeout(() => this.#refresh(item, signal), RETRY_MS);
      }
    }
  }

  #apply(card, body, signal) {
    const task = body.task ?? {};
    card.latest = body;
    if (task.status === STATUS.SUCCEED && body.images?.[0]?.image_url) {
      card.retried = card.retried && card.img.dataset.src === body.images[0].image_url;
      card.img.dataset.src = body.images[0].image_url;
      card.img.src = body.images[0].image_url;
      this.#state(card, "done", "");
    } else if (task.status === STATUS.FAILED) {
      this.#state(card, "failed", task.reason === CANCELLED ? "Cancelled" : `Failed: ${task.reason || "no reason given"}`);
    } else if (!isFinished(task.status)) {
      const percent = Math.max(0, Math.min(100, Math.round(task.progress_percent ?? 0)));
      this.#state(card, "pending", task.status === STATUS.QUEUED ? "Queued" : `Generating… ${percent}%`);
      if (this.trackedTaskId() !== card.item.taskId) {
        clearTimeout(card.timer);
        card.timer = setTimeout(() => this.#refresh(card.item, signal), PENDING_POLL_MS);
      }
    }
  }

  #state(card, state, text) {
    card.li.dataset.state = state;
    card.status.textContent = text;
    card.status.hidden = text === "";
  }

  #card(item) {
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.taskId = item.taskId;
    li.dataset.state = "loading";
    const isEdit = item.kind === EDIT;
    if (isEdit) li.dataset.kind = EDIT;

    const size = parseSize(item.size);
    const show = document.createElement("button");
    show.type = "button";
    show.className = "thumb";
    show.setAttribute("aria-label", `${isEdit ? "Show this edit" : "Show this picture"}: ${item.prompt}`);
    const img = document.createElement("img");
    img.alt = item.prompt;
    img.decoding = "async";
    if (size) {
      img.width = size.width;
      img.height = size.height;
      show.style.aspectRatio = `${size.width} / ${size.height}`;
    }
    const status = document.createElement("span");
    status.className = "card-status";
    status.textContent = "Loading…";
    show.append(img, status);
    if (isEdit) {
      const badge = document.createElement("span");
      badge.className = "card-kind";
      badge.textContent = "Edit";
      if (typeof item.input === "string") {
        // the picture it started from, small, in a corner
        const before = document.createElement("img");
        before.className = "card-before";
        before.alt = "";
        before.decoding = "async";
        before.src = item.input;
        show.append(before);
      }
      show.append(badge);
    }

    const prompt = document.createElement("p");
    prompt.className = "card-prompt";
    prompt.textContent = item.prompt;
    prompt.title = item.prompt;

    const meta = document.createElement("p");
    meta.className = "card-meta";
    const time = document.createElement("time");
    time.dateTime = new Date(item.createdAt).toISOString();
    time.textContent = agoText(item.createdAt);
    meta.append(isEdit ? "Edit · " : "", size ? `${sizeText(size.width, size.height)} · ` : "", time);

    const actions = document.createElement("div");
    actions.className = "card-actions";
    const reuse = document.createElement("button");
    reuse.type = "button";
    reuse.className = "quiet";
    reuse.textContent = "Reuse";
    reuse.setAttribute("aria-label", isEdit ? `Reuse the edit's instruction: ${item.prompt}` : `Reuse the prompt and size: ${item.prompt}`);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "quiet";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove from this list: ${item.prompt}`);
    actions.append(reuse, remove);

    li.append(show, prompt, meta, actions);
    const card = { li, img, status, item, latest: null, retried: false, timer: 0 };

    show.addEventListener("click", () => {
      if (card.latest?.task?.status === STATUS.SUCCEED) {
        this.onShow(item, card.latest);
      }
    });
    reuse.addEventListener("click", () => this.onReuse(item));
    remove.addEventListener("click", () => {
      clearTimeout(card.timer);
      this.store.remove(item.taskId);
      this.cards.delete(item.taskId);
      li.remove();
      this.#updateEmpty();
    });
    img.addEventListener("error", () => {
      if (!img.getAttribute("src")) {
        return;
      }
      if (!card.retried) {
        // the link may have expired while the page was open: ask for a fresh one, once
        card.retried = true;
        this.#refresh(item, this.aborter.signal);
      } else {
        this.#state(card, "failed", "The picture is no longer available.");
      }
    });
    return card;
  }

  #updateEmpty() {
    this.empty.hidden = this.list.children.length > 0;
  }
}
