// Canvas plumbing shared by the sections: device-pixel-ratio aware sizing, the source image,
// pixel-snapped rectangles, and the fixed colours drawn over photos (the same in both themes).
import type { Rect } from '../../services/types';

/** Colours drawn over the photo: they must read on any picture, so they ignore the theme. */
export const INK = {
  tile: '#ffd23f',
  base: '#4cc9f0',
  label: 'rgba(16, 16, 24, 0.78)',
  labelText: '#ffffff',
  padding: '#7c7c8a',
  hatch: '#9d9dab',
  hover: '#ffffff',
  empty: '#3a3a46',
} as const;

export type Size = { width: number; height: number };

/** The largest size of `width`×`height` that fits in `maxWidth`×`maxHeight` (aspect kept). */
export function fit(width: number, height: number, maxWidth: number, maxHeight: number): Size & { scale: number } {
  const scale = Math.min(maxWidth / Math.max(1, width), maxHeight / Math.max(1, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/**
 * Sizes `canvas` to `size` CSS pixels backed by device pixels, and returns its context with
 * the transform reset to device pixels; `dpr` is what one CSS pixel is worth.
 */
export function prepare(canvas: HTMLCanvasElement, size: Size): { ctx: CanvasRenderingContext2D; dpr: number } {
  const dpr = Math.max(1, window.devicePixelRatio || 1);
  canvas.width = Math.round(size.width * dpr);
  canvas.height = Math.round(size.height * dpr);
  canvas.style.width = `${size.width}px`;
  canvas.style.height = `${size.height}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  return { ctx, dpr };
}

/** The photo, or a dark placeholder when it could not be read. Coordinates in device pixels. */
export function drawPhoto(ctx: CanvasRenderingContext2D, image: HTMLImageElement | null, x: number, y: number, width: number, height: number): void {
  if (image) {
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(image, x, y, width, height);
  } else {
    ctx.fillStyle = INK.empty;
    ctx.fillRect(x, y, width, height);
  }
}

/**
 * Fills `rect` (in source units) scaled by `scale` and shifted by (`dx`, `dy`) device pixels,
 * with its edges rounded to whole device pixels so neighbours meet without seams or overlap.
 */
export function fillSnapped(ctx: CanvasRenderingContext2D, rect: Rect, scale: number, dx = 0, dy = 0): void {
  const x0 = Math.round(dx + rect.x * scale);
  const y0 = Math.round(dy + rect.y * scale);
  const x1 = Math.round(dx + (rect.x + rect.width) * scale);
  const y1 = Math.round(dy + (rect.y + rect.height) * scale);
  if (x1 > x0 && y1 > y0) ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
}

/** A `line`-pixel outline drawn inside `rect` (device pixels, snapped). */
export function outlineInside(ctx: CanvasRenderingContext2D, rect: Rect, line: number): void {
  const x0 = Math.round(rect.x);
  const y0 = Math.round(rect.y);
  const x1 = Math.round(rect.x + rect.width);
  const y1 = Math.round(rect.y + rect.height);
  const w = x1 - x0;
  const h = y1 - y0;
  if (w <= 0 || h <= 0) return;
  ctx.fillRect(x0, y0, w, Math.min(line, h));
  ctx.fillRect(x0, y1 - Math.min(line, h), w, Math.min(line, h));
  ctx.fillRect(x0, y0, Math.min(line, w), h);
  ctx.fillRect(x1 - Math.min(line, w), y0, Math.min(line, w), h);
}

/** A text label on a dark box with its top-left corner at (`x`, `y`) device pixels. */
export function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, dpr: number, color: string = INK.labelText): void {
  const size = Math.round(11 * dpr);
  ctx.font = `600 ${size}px system-ui, sans-serif`;
  const pad = Math.round(4 * dpr);
  const width = ctx.measureText(text).width + pad * 2;
  const height = size + pad * 2;
  ctx.fillStyle = INK.label;
  ctx.fillRect(x, y, width, height);
  ctx.fillStyle = color;
  ctx.textBaseline = 'top';
  ctx.fillText(text, x + pad, y + pad + Math.round(dpr));
}

/** Loads a `data:` URL (the shell's full image) into an image element; null when it fails. */
export function loadImage(url: string): Promise<HTMLImageElement | null> {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => resolve(null);
    image.src = url;
  });
}

/** The width a section's canvas may use: its host's width, within [min, max]. */
export function availableWidth(host: HTMLElement, max: number, min = 240): number {
  const width = host.clientWidth;
  return Math.max(min, Math.min(max, width > 0 ? width : max));
}
