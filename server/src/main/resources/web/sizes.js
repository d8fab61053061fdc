// Image sizes: Qwen-Image's native sizes, fitted to what the API accepts.

/** The API accepts each side within this range (spec: "each side an integer 256..1536"). */
export const MIN_SIDE = 256;
export const MAX_SIDE = 1536;
/** Scaled sides are rounded to this multiple (the VAE works in steps of 8 pixels). */
export const STEP = 8;

/** The sizes Qwen-Image was trained on (its model card), by aspect ratio. */
export const NATIVE_SIZES = [
  { id: "1:1", width: 1328, height: 1328 },
  { id: "16:9", width: 1664, height: 928 },
  { id: "9:16", width: 928, height: 1664 },
  { id: "4:3", width: 1472, height: 1104 },
  { id: "3:4", width: 1104, height: 1472 },
  { id: "3:2", width: 1584, height: 1056 },
  { id: "2:3", width: 1056, height: 1584 },
];

/**
 * A size within the API's limits: a side above MAX_SIDE scales the whole image down, keeping the
 * aspect ratio, with the scaled sides rounded to a multiple of STEP (1664*928 becomes 1536*856).
 * Sizes that already fit are sent as they are.
 */
export function fitToApi(width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  if (scale === 1) {
    return { width, height, scaled: false };
  }
  const side = (v) => clamp(Math.round((v * scale) / STEP) * STEP);
  return { width: side(width), height: side(height), scaled: true };
}

/** The presets as shown: native size and the size actually sent. */
export function presets() {
  return NATIVE_SIZES.map((n) => {
    const fit = fitToApi(n.width, n.height);
    return { id: n.id, native: { width: n.width, height: n.height }, width: fit.width, height: fit.height, scaled: fit.scaled };
  });
}

/** Checks a custom size; returns an error message, or null when the API will accept it. */
export function checkCustom(width, height) {
  for (const [name, v] of [["Width", width], ["Height", height]]) {
    if (!Number.isInteger(v)) {
      return `${name} must be a whole number of pixels.`;
    }
    if (v < MIN_SIDE || v > MAX_SIDE) {
      return `${name} must be between ${MIN_SIDE} and ${MAX_SIDE} pixels (the API's limit).`;
    }
  }
  return null;
}

/** The API's size string, "<width>*<height>". */
export function sizeParam(width, height) {
  return `${width}*${height}`;
}

/** Parses the API's size string; null when it is not one. */
export function parseSize(size) {
  const m = /^\s*(\d+)\s*\*\s*(\d+)\s*$/.exec(String(size ?? ""));
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

function clamp(v) {
  return Math.max(MIN_SIDE, Math.min(MAX_SIDE, v));
}

/** An edit works at the model's pixel budget of 1024 × 1024, the input's aspect ratio kept. */
export const EDIT_PIXEL_BUDGET = 1024 * 1024;
export const EDIT_MIN_SIDE = 256;
export const EDIT_MAX_SIDE = 2048;

/**
 * The size an edit of a width × height input comes back at, as the server computes it: the input's
 * aspect ratio at about one megapixel, each side a multiple of 16 within 256..2048.
 */
export function editSize(width, height) {
  const ratio = width / height;
  const w = Math.sqrt(EDIT_PIXEL_BUDGET * ratio);
  const side = (v) => Math.max(EDIT_MIN_SIDE, Math.min(EDIT_MAX_SIDE, Math.round(v / 16) * 16));
  return { width: side(w), height: side(w / ratio) };
}
