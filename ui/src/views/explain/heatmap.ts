// Heat maps over the photo (a patch grid, or free rectangles) and the controls they share:
// opacity and colour map, with a legend bar.
import { colormapCss, colormapGradient, COLORMAPS, isColormap, type ColormapName } from '../../lib/colormap';
import { h } from '../../lib/dom';
import type { Rect } from '../../services/types';
import { fillSnapped } from './canvas';

export type Overlay = { colormap: ColormapName; opacity: number };

/** How opaque a cell of value `v` (0..1) is: the hottest at `opacity`, the coldest nearly clear,
 * so the photo shows where the model does not look. */
export function cellAlpha(v: number, opacity: number): number {
  return opacity * (0.15 + 0.85 * Math.min(1, Math.max(0, v)));
}

/**
 * Paints `values` (0..1, row-major `rows × cols`) as a grid stretched over the device-pixel box
 * (`x`, `y`, `width`, `height`), each cell in the map's colour at `opacity`.
 */
export function drawGridHeat(
  ctx: CanvasRenderingContext2D, values: readonly number[], rows: number, cols: number,
  box: Rect, overlay: Overlay,
): void {
  ctx.save();
  const cell = { x: 0, y: 0, width: box.width / cols, height: box.height / rows };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c] ?? 0;
      ctx.globalAlpha = cellAlpha(v, overlay.opacity);
      ctx.fillStyle = colormapCss(overlay.colormap, v);
      fillSnapped(ctx, { ...cell, x: c * cell.width, y: r * cell.height }, 1, box.x, box.y);
    }
  }
  ctx.restore();
}

/** Paints each rectangle (source units × `scale`, shifted by `dx`, `dy`) with its value's colour. */
export function drawRectHeat(
  ctx: CanvasRenderingContext2D, items: readonly { rect: Rect; value: number }[], scale: number,
  overlay: Overlay, dx = 0, dy = 0,
): void {
  ctx.save();
  for (const { rect, value } of items) {
    ctx.globalAlpha = cellAlpha(value, overlay.opacity);
    ctx.fillStyle = colormapCss(overlay.colormap, value);
    fillSnapped(ctx, rect, scale, dx, dy);
  }
  ctx.restore();
}

/** Opacity slider and colour-map select; `onChange` sees every change. */
export class OverlayControls {
  readonly el: HTMLElement;
  readonly legend: HTMLElement;
  private bar = h('div', { class: 'legend-bar' });
  private low = h('span', { class: 'legend-end', text: '0' });
  private high = h('span', { class: 'legend-end', text: 'max' });
  private opacityInput: HTMLInputElement;
  private opacityValue = h('output', { class: 'control-value' });
  private mapSelect: HTMLSelectElement;
  value: Overlay = { colormap: 'viridis', opacity: 0.8 };

  constructor(prefix: string, onChange: (overlay: Overlay) => void) {
    this.opacityInput = h('input', {
      class: 'range',
      attrs: { type: 'range', min: 0, max: 100, step: 1, value: Math.round(this.value.opacity * 100), id: `${prefix}-opacity`, 'aria-label': 'Opacity' },
    });
    this.mapSelect = h('select', { class: 'select', attrs: { id: `${prefix}-colormap`, 'aria-label': 'Colour map' } },
      ...COLORMAPS.map((m) => h('option', { text: m.label, attrs: { value: m.id } })));
    const changed = () => {
      const map = this.mapSelect.value;
      this.value = { colormap: isColormap(map) ? map : 'viridis', opacity: Number(this.opacityInput.value) / 100 };
      this.sync();
      onChange(this.value);
    };
    this.opacityInput.addEventListener('input', changed);
    this.mapSelect.addEventListener('change', changed);
    this.el = h('div', { class: 'control-group' },
      h('label', { class: 'control', attrs: { for: `${prefix}-opacity` } },
        h('span', { class: 'control-label' }, 'Opacity ', this.opacityValue), this.opacityInput),
      h('label', { class: 'control', attrs: { for: `${prefix}-colormap` } },
        h('span', { class: 'control-label', text: 'Colour map' }), this.mapSelect));
    this.legend = h('div', { class: 'legend', attrs: { 'aria-hidden': 'true' } }, this.low, this.bar, this.high);
    this.sync();
  }

  /** The legend's ends, e.g. "0" and "12.5%". */
  setRange(low: string, high: string): void {
    this.low.textContent = low;
    this.high.textContent = high;
  }

  private sync(): void {
    this.opacityValue.textContent = `${Math.round(this.value.opacity * 100)}%`;
    this.bar.style.background = colormapGradient(this.value.colormap);
  }
}

/** A probability as a percentage people read: 0.0423 → "4.2%", 0.5 → "50%". */
export function percent(p: number): string {
  const v = Math.max(0, p) * 100;
  if (v === 0) return '0%';
  if (v < 10) return `${v.toFixed(1)}%`;
  return `${Math.round(v)}%`;
}
