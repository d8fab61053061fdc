// The picture an edit starts from: a file (chosen, dropped or pasted) read in the browser as a
// data: URI, or a URL that the server fetches itself; its preview, and the checks the page can
// make before anything is sent. The server has the last word on what is a picture.

import { bytesText, sizeText } from "./format.js";
import { editSize } from "./sizes.js";

/** The largest file the page sends: the server's default QWEN_IMAGE_EDIT_MAX_IMAGE (20 MB). */
export const MAX_FILE_BYTES = 20_000_000;
/** What an edit takes. A file the browser cannot name a type for is sent, and the server sniffs it. */
export const TYPES = Object.freeze(["image/jpeg", "image/png", "image/webp"]);
/** The gallery keeps a copy of the input this small (the longer side, in pixels), never the file. */
const THUMB_SIDE = 256;
const URL_DELAY_MS = 400;
const PREVIEW_WAIT_MS = 3000;

/** The errors of the API that are about the input picture, shown next to it rather than in the result panel. */
export const IMAGE_REASONS = Object.freeze(["INVALID_IMAGE", "IMAGE_TOO_LARGE", "IMAGE_FETCH_FAILED", "NO_EDIT_ENGINE"]);

/**
 * The input of the edit form. {@link source} is what will be sent: {image, from: "file"|"url",
 * name, bytes?, width?, height?} once a picture is chosen, else null.
 */
export class EditInput {
  /**
   * @param {object} o elements of the form
   * @param {HTMLElement} o.drop the zone a file may be dropped on
   * @param {HTMLInputElement} o.file
   * @param {HTMLInputElement} o.url
   * @param {HTMLImageElement} o.preview
   * @param {HTMLElement} o.info what the picture is and the size it will be edited at
   * @param {HTMLButtonElement} o.clear
   * @param {HTMLElement} o.error the alert next to the input
   * @param {HTMLElement} o.errorMessage
   * @param {HTMLElement} o.errorDetail
   */
  constructor(o) {
    Object.assign(this, o);
    this.source = null;
    this.pending = Promise.resolve(null);
    this.generation = 0;
    this.urlTimer = 0;

    this.preview.addEventListener("load", () => this.#previewed());
    this.preview.addEventListener("error", () => this.#notPreviewed());
    this.file.addEventListener("change", () => {
      if (this.file.files.length > 0) this.take(this.file.files[0], false);
    });
    this.url.addEventListener("input", () => {
      clearTimeout(this.urlTimer);
      this.urlTimer = setTimeout(() => this.useUrl(this.url.value), URL_DELAY_MS);
    });
    this.url.addEventListener("change", () => {
      clearTimeout(this.urlTimer);
      this.useUrl(this.url.value);
    });
    this.clear.addEventListener("click", () => {
      this.reset();
      this.file.focus();
    });
    for (const type of ["dragenter", "dragover"]) {
      this.drop.addEventListener(type, (e) => {
        if (![...(e.dataTransfer?.types ?? [])].includes("Files")) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        this.drop.classList.add("over");
      });
    }
    this.drop.addEventListener("dragleave", (e) => {
      if (!this.drop.contains(e.relatedTarget)) this.drop.classList.remove("over");
    });
    this.drop.addEventListener("drop", (e) => {
      this.drop.classList.remove("over");
      const file = e.dataTransfer?.files?.[0];
      if (!file) return;
      e.preventDefault();
      this.take(file, true);
    });
  }

  /**
   * Uses a file (from the file input, a drop or the clipboard): refused here when it is too large
   * or plainly not a picture type an edit takes, else read as a data: URI and previewed.
   * @param {boolean} outside whether it came from elsewhere than the file input, which then shows it too
   */
  take(file, outside) {
    const generation = ++this.generation;
    this.clearError();
    this.url.value = "";
    if (outside) {
      try {
        const list = new DataTransfer();
        list.items.add(file);
        this.file.files = list.files;
      } catch {
        // an older browser: the input just does not name the file
      }
    }
    const refused = file.size > MAX_FILE_BYTES
      ? `“${file.name}” is ${bytesText(file.size)}; an edit takes a picture of at most ${bytesText(MAX_FILE_BYTES)}. ` +
        "Choose a smaller file, or give the picture's URL."
      : file.type && !TYPES.includes(file.type)
        ? `“${file.name}” is a ${file.type} file; an edit takes a JPEG, PNG or WebP picture.`
        : null;
    if (refused) {
      this.#forget();
      this.file.value = "";
      this.showError(refused);
      this.pending = Promise.resolve(null);
      return this.pending;
    }
    this.info.textContent = `Reading “${file.name}”…`;
    this.pending = readAsDataUri(file).then(
      (image) => {
        if (generation !== this.generation) return this.source;
        this.#show({ image, from: "file", name: file.name, bytes: file.size });
        return this.source;
      },
      () => {
        if (generation !== this.generation) return this.source;
        this.#forget();
        this.showError(`The browser could not read “${file.name}”. Choose the file again.`);
        return null;
      },
    );
    return this.pending;
  }

  /** Uses the URL typed or pasted in the URL field (the server fetches it; the browser only previews it). */
  useUrl(text) {
    const url = text.trim();
    if (this.source?.from === "url" && this.source.image === url) return;
    const generation = ++this.generation;
    this.clearError();
    if (url === "") {
      if (this.source?.from === "url") this.#forget();
      this.pending = Promise.resolve(this.source);
      return;
    }
    this.file.value = "";
    if (!/^https?:\/\/\S+$/i.test(url)) {
      this.#forget();
      this.showError("A picture's URL starts with http: or https: (or choose a file instead).");
      this.pending = Promise.resolve(null);
      return;
    }
    if (generation === this.generation) {
      this.#show({ image: url, from: "url", name: url });
    }
    this.pending = Promise.resolve(this.source);
  }

  /** What will be sent, once a file being read is read: the source, or null. */
  async ready() {
    clearTimeout(this.urlTimer);
    if (this.url.value.trim() !== "" && this.source?.image !== this.url.value.trim()) {
      this.useUrl(this.url.value);
    }
    const source = await this.pending;
    if (source && !this.preview.hidden && !this.preview.complete) {
      // its size and the gallery's copy come from the preview: give it a moment to decode
      await Promise.race([this.preview.decode().catch(() => {}), new Promise((r) => setTimeout(r, PREVIEW_WAIT_MS))]);
    }
    return source;
  }

  /** The copy the gallery keeps: a small JPEG of a file (a data: URI), the URL itself, or null. */
  thumbnail() {
    const s = this.source;
    if (!s) return null;
    if (s.from === "url") return s.image;
    if (!this.preview.complete || this.preview.naturalWidth === 0) return null;
    const scale = Math.min(1, THUMB_SIDE / Math.max(this.preview.naturalWidth, this.preview.naturalHeight));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(this.preview.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(this.preview.naturalHeight * scale));
    try {
      canvas.getContext("2d").drawImage(this.preview, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.8);
    } catch {
      return null;
    }
  }

  /** Puts a picture back (Reuse): an image string as it was sent. */
  restore(image, name) {
    ++this.generation;
    this.clearError();
    this.file.value = "";
    if (/^https?:/i.test(image)) {
      this.url.value = image;
      this.#show({ image, from: "url", name: image });
    } else {
      this.url.value = "";
      this.#show({ image, from: "file", name: name || "the picture sent before" });
    }
    this.pending = Promise.resolve(this.source);
  }

  reset() {
    ++this.generation;
    this.file.value = "";
    this.url.value = "";
    this.clearError();
    this.#forget();
    this.pending = Promise.resolve(null);
  }

  showError(message, detail = "") {
    this.errorMessage.textContent = message;
    this.errorDetail.textContent = detail;
    this.errorDetail.hidden = detail === "";
    this.error.hidden = false;
    this.file.setAttribute("aria-invalid", "true");
    this.url.setAttribute("aria-invalid", "true");
  }

  clearError() {
    this.error.hidden = true;
    this.file.removeAttribute("aria-invalid");
    this.url.removeAttribute("aria-invalid");
  }

  #show(source) {
    this.source = source;
    this.drop.dataset.state = "chosen";
    this.clear.hidden = false;
    this.info.textContent = describe(source);
    this.preview.hidden = false;
    this.preview.alt = `The picture to edit: ${source.name}`;
    this.preview.src = source.image;
  }

  #previewed() {
    const s = this.source;
    if (!s || this.preview.getAttribute("src") !== s.image) return;
    s.width = this.preview.naturalWidth;
    s.height = this.preview.naturalHeight;
    this.info.textContent = describe(s);
  }

  #notPreviewed() {
    const s = this.source;
    if (!s || this.preview.getAttribute("src") !== s.image) return;
    this.preview.hidden = true;
    this.info.textContent = `${describe(s)} · ${s.from === "url"
      ? "this browser cannot show it; the server fetches it itself."
      : "this browser cannot show it as a picture; the server will check it."}`;
  }

  #forget() {
    this.source = null;
    this.drop.dataset.state = "empty";
    this.clear.hidden = true;
    this.preview.hidden = true;
    this.preview.removeAttribute("src");
    this.preview.alt = "";
    this.info.textContent = "";
  }
}

/** "photo.png · 1600 × 900 · 1.2 MB · edited at 1360 × 768" */
function describe(s) {
  const parts = [s.from === "url" ? "From its URL" : s.name];
  if (s.width && s.height) parts.push(sizeText(s.width, s.height));
  if (s.bytes !== undefined) parts.push(bytesText(s.bytes));
  if (s.width && s.height) {
    const out = editSize(s.width, s.height);
    parts.push(`edited at ${sizeText(out.width, out.height)}`);
  }
  return parts.join(" · ");
}

function readAsDataUri(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(String(reader.result)));
    reader.addEventListener("error", () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}
