// Section 2 (every family that tiles): how the image was cut into encoder views, drawn from the
// engine's ImageViews — each view's rectangle and tokens on the photo (with the padding where
// the processor pads), the squeezed whole-image view, the token sum — plus, for
// LLaVA-OneVision, the AnyRes candidates it chose from (its TilePlan).
import { h } from '../../lib/dom';
import type { EncoderView, ImageViews, Rect, TilePlan, TilingScheme } from '../../services/types';
import { availableWidth, drawPhoto, fit, INK, label, outlineInside, prepare } from './canvas';
import { exportButtons } from './export';
import { count, sectionHeader, type Section, type SectionContext } from './section';

const WORDS: Record<TilingScheme, { tab: string; title: string; blurb: string; wholeName: string; cost: string }> = {
  any_res: {
    tab: 'AnyRes tiles',
    title: 'AnyRes tiling',
    blurb: 'The encoder sees fixed-size squares. AnyRes picks a grid of them that fits the image best, pads the rest, and adds one squeezed view of the whole image.',
    wholeName: 'Base view',
    cost: 'AnyRes',
  },
  image_splitting: {
    tab: 'Image tiles',
    title: 'Image splitting',
    blurb: 'The encoder sees fixed-size squares. The image is resized to a whole number of them and cut into a grid, and one more square holds the whole image squeezed (the global view). Every view becomes the same number of tokens, marked in the prompt by its place.',
    wholeName: 'Global view',
    cost: 'splitting',
  },
  dynamic_resolution: {
    tab: 'Patch grid',
    title: 'Dynamic resolution',
    blurb: 'The image is read in one piece at close to its own size: resized to whole patches, and each block of neighbouring patches merged into one token.',
    wholeName: 'Whole image',
    cost: 'it',
  },
};

/** Where the image sits in the views' frame (source pixels; the frame starts at 0, 0). */
export function frameLayout(views: ImageViews): { width: number; height: number; imageX: number; imageY: number; padded: boolean } {
  const f = views.frame;
  const padded = f.x < 0 || f.y < 0 || f.width > views.source.width || f.height > views.source.height;
  return { width: f.width, height: f.height, imageX: 0 - f.x, imageY: 0 - f.y, padded };
}

/** "729 base + 3,942 grid + 54 newlines = 4,725"; a negative term is taken away. */
export function tokenEquation(views: ImageViews): string {
  const terms = views.token_terms.map((t, i) => {
    const term = `${count(Math.abs(t.count))} ${t.label}`;
    if (i === 0) return t.count < 0 ? `− ${term}` : term;
    return t.count < 0 ? ` − ${term}` : ` + ${term}`;
  });
  return `${terms.join('')} = ${count(views.total_tokens)}`;
}

/** A view's short name on the canvas: "1,2" for a tile, "global view" for the others. */
function shortName(view: EncoderView): string {
  return view.cell ? `${view.cell[0] + 1},${view.cell[1] + 1}` : view.label;
}

export class TilesSection implements Section {
  readonly id = 'tiles';
  readonly label: string;
  readonly el: HTMLElement;
  private canvas = h('canvas', { class: 'explain-canvas', attrs: { 'data-testid': 'tiles-canvas', role: 'img' } });
  private wholeCanvas = h('canvas', { class: 'explain-canvas base-canvas', attrs: { 'data-testid': 'tiles-whole', role: 'img' } });
  private figure = h('div', { class: 'figure-host' });
  private tiles: EncoderView[];
  private whole: EncoderView | undefined;

  constructor(private ctx: SectionContext, private views: ImageViews, plan: TilePlan | null) {
    const words = WORDS[views.scheme];
    this.label = words.tab;
    this.tiles = views.views.filter((v) => v.kind === 'tile');
    this.whole = views.views.find((v) => v.kind !== 'tile');
    const layout = frameLayout(views);
    const [rows, cols] = views.grid;
    const tile = this.tiles[0];
    this.canvas.setAttribute('aria-label', tile
      ? `The image on a ${rows} by ${cols} grid of ${tile.encoded_size.height}-pixel tiles${this.whole ? `, with the ${this.whole.label}` : ''}${layout.padded ? ' and padding' : ''}`
      : `The image as one view of ${views.views[0]?.patch_grid.join(' by ')} patches`);
    const whole = this.whole;
    this.wholeCanvas.setAttribute('aria-label', whole ? `The ${whole.label}: ${whole.encoded_size.width}×${whole.encoded_size.height} pixels` : 'No whole-image view');
    const actions = exportButtons('tiles', () => this.canvas, () => ({ image_views: views, tile_plan: plan }), () => ctx.explanation.modelId);
    const legend = [
      tile ? [h('span', { class: 'swatch swatch-tile' }), `Grid tile (${count(tile.tokens)} tokens each)`] : [],
      whole ? [h('span', { class: 'swatch swatch-base' }), words.wholeName] : [],
      layout.padded ? [h('span', { class: 'swatch swatch-padding' }), 'Padding'] : [],
    ].flat();
    this.el = h('section', { class: 'explain-section', attrs: { 'data-testid': 'section-tiles' } },
      sectionHeader(words.title, words.blurb, actions),
      h('div', { class: 'anyres-figures' },
        h('figure', { class: 'figure' }, this.figure, h('figcaption', { class: 'muted' }, ...legend)),
        whole
          ? h('figure', { class: 'figure base-figure' }, this.wholeCanvas,
            h('figcaption', { class: 'muted', attrs: { 'data-testid': 'tiles-whole-caption' }, text: wholeCaption(words.wholeName, whole) }))
          : null),
      h('div', { class: 'anyres-columns' }, plan ? this.candidates(plan) : this.viewTable(), this.tokens()));
    this.figure.appendChild(this.canvas);
  }

  render(): void {
    this.drawViews();
    this.drawWhole();
    // Long candidate lists (OneVision has 36): bring the chosen row into the table's view.
    const chosen = this.el.querySelector<HTMLElement>('tr.is-chosen');
    const scroller = this.el.querySelector<HTMLElement>('.table-scroll');
    if (chosen && scroller && scroller.scrollHeight > scroller.clientHeight) {
      scroller.scrollTop = Math.max(0, chosen.offsetTop - scroller.clientHeight / 2);
    }
  }

  private drawViews(): void {
    const views = this.views;
    const frame = frameLayout(views);
    const size = fit(frame.width, frame.height, availableWidth(this.figure, 660), 440);
    const { ctx, dpr } = prepare(this.canvas, size);
    const s = size.scale * dpr; // device pixels per source pixel
    const toDevice = (r: Rect): Rect => ({ x: (frame.imageX + r.x) * s, y: (frame.imageY + r.y) * s, width: r.width * s, height: r.height * s });
    if (frame.padded) {
      ctx.fillStyle = INK.padding;
      ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
      hatch(ctx, this.canvas.width, this.canvas.height, 10 * dpr);
    }
    const image = toDevice({ x: 0, y: 0, width: views.source.width, height: views.source.height });
    drawPhoto(ctx, this.ctx.image, image.x, image.y, image.width, image.height);
    // Each view's tokens as a faint grid where they are far enough apart to read (not for
    // AnyRes: its tiles' tokens are trimmed and packed across tiles afterwards).
    if (views.scheme !== 'any_res') {
      for (const view of views.views) {
        if (view.kind === 'tile' || view.kind === 'whole') tokenGrid(ctx, view, toDevice, 6 * dpr, dpr);
      }
    }
    if (frame.padded) {
      // Whole cells, dashed: where tiles run on into the padding.
      ctx.save();
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
      ctx.lineWidth = Math.max(1, dpr);
      ctx.setLineDash([4 * dpr, 4 * dpr]);
      for (const tile of this.tiles) {
        const r = toDevice(tile.extent);
        ctx.strokeRect(r.x + 0.5, r.y + 0.5, r.width - 1, r.height - 1);
      }
      ctx.restore();
    }
    // The squeezed whole-image view (base or global): dashed, inset so the tile outlines stay visible.
    const whole = this.whole && this.whole.kind !== 'whole' && this.whole.source_rect ? toDevice(this.whole.source_rect) : null;
    if (whole) {
      ctx.save();
      ctx.strokeStyle = INK.base;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash([8 * dpr, 5 * dpr]);
      const inset = 7 * dpr;
      ctx.strokeRect(whole.x + inset, whole.y + inset, whole.width - 2 * inset, whole.height - 2 * inset);
      ctx.restore();
    }
    ctx.fillStyle = INK.tile;
    for (const tile of this.tiles) if (tile.source_rect) outlineInside(ctx, toDevice(tile.source_rect), 2 * dpr);
    for (const tile of this.tiles) {
      const at = toDevice(tile.source_rect ?? tile.extent);
      const text = tile.source_rect ? `${shortName(tile)} · ${count(tile.tokens)}` : `${shortName(tile)} · padding only`;
      label(ctx, text, Math.round(at.x + 6 * dpr), Math.round(at.y + 6 * dpr), dpr, INK.tile);
    }
    if (whole && this.whole) {
      label(ctx, `${this.whole.label} · ${count(this.whole.tokens)}`, Math.round(whole.x + 12 * dpr),
        Math.round(whole.y + whole.height - 32 * dpr), dpr, INK.base);
    } else if (this.whole?.kind === 'whole') {
      label(ctx, `${this.whole.label} · ${count(this.whole.tokens)}`, Math.round(image.x + 6 * dpr), Math.round(image.y + 6 * dpr), dpr, INK.base);
    }
  }

  /** The base / global / whole view as the encoder gets it: squeezed to its input size. */
  private drawWhole(): void {
    const view = this.whole;
    if (!view) return;
    const side = 132;
    const size = fit(view.encoded_size.width, view.encoded_size.height, side, side);
    const { ctx, dpr } = prepare(this.wholeCanvas, size);
    const [w, hgt] = [this.wholeCanvas.width, this.wholeCanvas.height];
    drawPhoto(ctx, this.ctx.image, 0, 0, w, hgt);
    const rect = view.source_rect ?? view.extent;
    const scale = { x: w / rect.width, y: hgt / rect.height };
    tokenGrid(ctx, view, (r) => ({ x: (r.x - rect.x) * scale.x, y: (r.y - rect.y) * scale.y, width: r.width * scale.x, height: r.height * scale.y }), 5 * dpr, dpr);
    ctx.fillStyle = INK.base;
    outlineInside(ctx, { x: 0, y: 0, width: w, height: hgt }, 2 * dpr);
  }

  private candidates(plan: TilePlan): HTMLElement {
    const cut = Math.max(1, plan.tile.height);
    const chosen = plan.candidates[plan.chosen];
    return h('div', { class: 'card-inset' },
      h('h3', { class: 'inset-title', text: `Candidate grids (${plan.candidates.length})` }),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'table compact-table', attrs: { 'data-testid': 'tiles-candidates' } },
          h('thead', {}, h('tr', {},
            h('th', { text: 'Grid (rows × cols)' }), h('th', { text: 'Resolution (w×h)' }), h('th', { text: 'Effective' }), h('th', { text: 'Wasted' }))),
          h('tbody', {}, ...plan.candidates.map((c, i) => h('tr', {
            class: i === plan.chosen ? 'is-chosen' : '',
            attrs: { 'data-testid': 'tiles-candidate', 'aria-current': i === plan.chosen ? 'true' : null },
          },
          h('td', { class: 'nowrap' }, `${Math.ceil(c.resolution.height / cut)} × ${Math.ceil(c.resolution.width / cut)}`,
            i === plan.chosen ? h('span', { class: 'badge badge-accent', text: 'chosen' }) : null),
          h('td', { class: 'num', text: `${c.resolution.width}×${c.resolution.height}` }),
          h('td', { class: 'num', text: count(c.effective_resolution) }),
          h('td', { class: 'num', text: count(c.wasted_resolution) })))))),
      chosen
        ? h('p', { class: 'why', attrs: { 'data-testid': 'tiles-why' } },
          `Chosen: ${chosen.resolution.width}×${chosen.resolution.height} — largest effective resolution, then least waste.`)
        : null);
  }

  /** Every view the encoder reads, in order: its prompt marker, input size, patches and tokens. */
  private viewTable(): HTMLElement {
    const views = this.views.views;
    return h('div', { class: 'card-inset' },
      h('h3', { class: 'inset-title', text: `Views the encoder reads (${views.length})` }),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'table compact-table', attrs: { 'data-testid': 'tiles-views' } },
          h('thead', {}, h('tr', {},
            h('th', { text: 'View' }), h('th', { text: 'In the prompt' }), h('th', { text: 'Input (w×h)' }), h('th', { text: 'Patches' }), h('th', { text: 'Tokens' }))),
          h('tbody', {}, ...views.map((v) => h('tr', { attrs: { 'data-testid': 'tiles-view' } },
            h('td', { class: 'nowrap', text: v.label }),
            h('td', {}, v.marker ? h('code', { text: v.marker }) : h('span', { class: 'muted', text: '–' })),
            h('td', { class: 'num', text: `${v.encoded_size.width}×${v.encoded_size.height}` }),
            h('td', { class: 'num', text: v.merge > 1 ? `${v.patch_grid[0]}×${v.patch_grid[1]} ÷ ${v.merge}×${v.merge}` : `${v.patch_grid[0]}×${v.patch_grid[1]}` }),
            h('td', { class: 'num', text: count(v.tokens) })))))));
  }

  private tokens(): HTMLElement {
    const views = this.views;
    const whole = this.whole;
    const compare = whole && views.views.length > 1
      ? h('p', { class: 'token-compare' },
        `A fixed-resolution encoder would use ${count(whole.tokens)} (the ${whole.label} alone): ${WORDS[views.scheme].cost} costs `,
        h('strong', { text: `${(views.total_tokens / Math.max(1, whole.tokens)).toFixed(1)}×` }), ' as many.')
      : null;
    return h('div', { class: 'card-inset token-sum', attrs: { 'data-testid': 'tiles-tokens' } },
      h('h3', { class: 'inset-title', text: 'Visual tokens in the prompt' }),
      h('p', { class: 'token-equation', attrs: { 'data-testid': 'tiles-equation' } }, tokenEquation(views)),
      compare,
      h('ul', { class: 'token-notes muted', attrs: { 'data-testid': 'tiles-notes' } }, ...views.notes.map((note) => h('li', { text: note }))));
  }
}

function wholeCaption(name: string, view: EncoderView): string {
  const size = `${view.encoded_size.width}×${view.encoded_size.height}`;
  return view.kind === 'whole'
    ? `${name}: resized to ${size} → ${count(view.tokens)} tokens`
    : `${name}: the whole image squeezed to ${size} → ${count(view.tokens)} tokens`;
}

/** Faint lines between `view`'s tokens (its patch grid folded by the merge), when at least
 * `minGap` device pixels apart. */
function tokenGrid(ctx: CanvasRenderingContext2D, view: EncoderView, toDevice: (r: Rect) => Rect, minGap: number, dpr: number): void {
  if (!view.source_rect) return;
  const rows = Math.floor(view.patch_grid[0] / Math.max(1, view.merge));
  const cols = Math.floor(view.patch_grid[1] / Math.max(1, view.merge));
  const r = toDevice(view.source_rect);
  if (rows < 2 && cols < 2) return;
  if (r.width / cols < minGap || r.height / rows < minGap) return;
  ctx.save();
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.45)';
  ctx.lineWidth = Math.max(1, dpr);
  ctx.beginPath();
  for (let c = 1; c < cols; c++) {
    const x = Math.round(r.x + (c * r.width) / cols) + 0.5;
    ctx.moveTo(x, r.y);
    ctx.lineTo(x, r.y + r.height);
  }
  for (let row = 1; row < rows; row++) {
    const y = Math.round(r.y + (row * r.height) / rows) + 0.5;
    ctx.moveTo(r.x, y);
    ctx.lineTo(r.x + r.width, y);
  }
  ctx.stroke();
  ctx.restore();
}

/** Diagonal hatching over the whole canvas (the padding shows through where no photo is). */
function hatch(ctx: CanvasRenderingContext2D, width: number, height: number, step: number): void {
  ctx.save();
  ctx.strokeStyle = INK.hatch;
  ctx.lineWidth = Math.max(1, step / 5);
  ctx.beginPath();
  for (let x = -height; x < width; x += step) {
    ctx.moveTo(x, height);
    ctx.lineTo(x + height, 0);
  }
  ctx.stroke();
  ctx.restore();
}
