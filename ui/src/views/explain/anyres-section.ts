// Section 2 (LLaVA-OneVision): how AnyRes cut the image: the padded pinpoint canvas with the
// base view and every grid tile on the photo, the candidates it chose from, and the token sum.
import { h } from '../../lib/dom';
import type { Rect, TilePlan } from '../../services/types';
import { availableWidth, drawPhoto, fit, INK, label, outlineInside, prepare } from './canvas';
import { exportButtons } from './export';
import { count, sectionHeader, type Section, type SectionContext } from './section';

/** The pinpoint canvas in source-image units: the image sits at (imageX, imageY) inside it. */
export function anyresFrame(plan: TilePlan) {
  const sx = plan.source.width / Math.max(1, plan.resized.width);
  const sy = plan.source.height / Math.max(1, plan.resized.height);
  const cut = Math.max(1, plan.tile.height); // tiles are cut tile.height square, as the engine does
  return {
    width: plan.best_resolution.width * sx,
    height: plan.best_resolution.height * sy,
    imageX: plan.padding.left * sx,
    imageY: plan.padding.top * sy,
    cellWidth: cut * sx,
    cellHeight: cut * sy,
  };
}

export class AnyResSection implements Section {
  readonly id = 'anyres';
  readonly label = 'AnyRes tiles';
  readonly el: HTMLElement;
  private canvas = h('canvas', { class: 'explain-canvas', attrs: { 'data-testid': 'anyres-canvas', role: 'img' } });
  private baseCanvas = h('canvas', { class: 'explain-canvas base-canvas', attrs: { 'data-testid': 'anyres-base', role: 'img' } });
  private figure = h('div', { class: 'figure-host' });

  constructor(private ctx: SectionContext, private plan: TilePlan) {
    const t = plan.tokens;
    this.canvas.setAttribute('aria-label',
      `The image on a ${plan.rows} by ${plan.cols} grid of ${plan.tile.height}-pixel tiles, with the base view and padding`);
    this.baseCanvas.setAttribute('aria-label', 'The base view: the whole image squeezed into one tile');
    const actions = exportButtons('anyres', () => this.canvas, () => plan, () => ctx.explanation.modelId);
    this.el = h('section', { class: 'explain-section', attrs: { 'data-testid': 'section-anyres' } },
      sectionHeader('AnyRes tiling',
        'The encoder sees fixed-size squares. AnyRes picks a grid of them that fits the image best, pads the rest, and adds one squeezed view of the whole image.',
        actions),
      h('div', { class: 'anyres-figures' },
        h('figure', { class: 'figure' }, this.figure,
          h('figcaption', { class: 'muted' },
            h('span', { class: 'swatch swatch-tile' }), `Grid tile (${count(t.tokens_per_tile)} tokens each)`,
            h('span', { class: 'swatch swatch-base' }), 'Base view',
            h('span', { class: 'swatch swatch-padding' }), 'Padding')),
        h('figure', { class: 'figure base-figure' }, this.baseCanvas,
          h('figcaption', { class: 'muted', text: `Base view: the whole image squeezed to ${plan.tile.width}×${plan.tile.height} → ${count(t.base_tokens)} tokens` }))),
      h('div', { class: 'anyres-columns' }, this.candidates(), this.tokens()));
    this.figure.appendChild(this.canvas);
  }

  render(): void {
    this.drawTiles();
    this.drawBase();
    // Long candidate lists (OneVision has 36): bring the chosen row into the table's view.
    const chosen = this.el.querySelector<HTMLElement>('tr.is-chosen');
    const scroller = this.el.querySelector<HTMLElement>('.table-scroll');
    if (chosen && scroller && scroller.scrollHeight > scroller.clientHeight) {
      scroller.scrollTop = Math.max(0, chosen.offsetTop - scroller.clientHeight / 2);
    }
  }

  private drawTiles(): void {
    const plan = this.plan;
    const frame = anyresFrame(plan);
    const size = fit(frame.width, frame.height, availableWidth(this.figure, 660), 440);
    const { ctx, dpr } = prepare(this.canvas, size);
    const s = size.scale * dpr; // device pixels per source pixel
    ctx.fillStyle = INK.padding;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    hatch(ctx, this.canvas.width, this.canvas.height, 10 * dpr);
    const image = { x: frame.imageX * s, y: frame.imageY * s, width: plan.source.width * s, height: plan.source.height * s };
    drawPhoto(ctx, this.ctx.image, image.x, image.y, image.width, image.height);
    const toDevice = (r: Rect): Rect => ({ x: (frame.imageX + r.x) * s, y: (frame.imageY + r.y) * s, width: r.width * s, height: r.height * s });
    // Whole cells, dashed: where tiles run on into the padding.
    ctx.save();
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.8)';
    ctx.lineWidth = Math.max(1, dpr);
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    for (const tile of plan.tiles) {
      ctx.strokeRect(tile.col * frame.cellWidth * s + 0.5, tile.row * frame.cellHeight * s + 0.5,
        frame.cellWidth * s - 1, frame.cellHeight * s - 1);
    }
    ctx.restore();
    // The base view: the whole image, dashed, inset so the tile outlines stay visible.
    const base = toDevice(plan.base_view);
    ctx.save();
    ctx.strokeStyle = INK.base;
    ctx.lineWidth = 2 * dpr;
    ctx.setLineDash([8 * dpr, 5 * dpr]);
    const inset = 7 * dpr;
    ctx.strokeRect(base.x + inset, base.y + inset, base.width - 2 * inset, base.height - 2 * inset);
    ctx.restore();
    ctx.fillStyle = INK.tile;
    for (const tile of plan.tiles) if (tile.source_rect) outlineInside(ctx, toDevice(tile.source_rect), 2 * dpr);
    for (const tile of plan.tiles) {
      const at = tile.source_rect
        ? toDevice(tile.source_rect)
        : { x: tile.col * frame.cellWidth * s, y: tile.row * frame.cellHeight * s };
      const text = tile.source_rect ? `${tile.row},${tile.col} · ${count(plan.tokens.tokens_per_tile)}` : `${tile.row},${tile.col} · padding only`;
      label(ctx, text, Math.round(at.x + 6 * dpr), Math.round(at.y + 6 * dpr), dpr, INK.tile);
    }
    label(ctx, `base view · ${count(plan.tokens.base_tokens)}`, Math.round(base.x + 12 * dpr),
      Math.round(base.y + base.height - 32 * dpr), dpr, INK.base);
  }

  private drawBase(): void {
    const side = 132;
    const { ctx, dpr } = prepare(this.baseCanvas, fit(this.plan.tile.width, this.plan.tile.height, side, side));
    drawPhoto(ctx, this.ctx.image, 0, 0, this.baseCanvas.width, this.baseCanvas.height);
    ctx.fillStyle = INK.base;
    outlineInside(ctx, { x: 0, y: 0, width: this.baseCanvas.width, height: this.baseCanvas.height }, 2 * dpr);
  }

  private candidates(): HTMLElement {
    const plan = this.plan;
    const cut = Math.max(1, plan.tile.height);
    const chosen = plan.candidates[plan.chosen];
    return h('div', { class: 'card-inset' },
      h('h3', { class: 'inset-title', text: `Candidate grids (${plan.candidates.length})` }),
      h('div', { class: 'table-scroll' },
        h('table', { class: 'table compact-table', attrs: { 'data-testid': 'anyres-candidates' } },
          h('thead', {}, h('tr', {},
            h('th', { text: 'Grid (rows × cols)' }), h('th', { text: 'Resolution (w×h)' }), h('th', { text: 'Effective' }), h('th', { text: 'Wasted' }))),
          h('tbody', {}, ...plan.candidates.map((c, i) => h('tr', {
            class: i === plan.chosen ? 'is-chosen' : '',
            attrs: { 'data-testid': 'anyres-candidate', 'aria-current': i === plan.chosen ? 'true' : null },
          },
          h('td', { class: 'nowrap' }, `${Math.ceil(c.resolution.height / cut)} × ${Math.ceil(c.resolution.width / cut)}`,
            i === plan.chosen ? h('span', { class: 'badge badge-accent', text: 'chosen' }) : null),
          h('td', { class: 'num', text: `${c.resolution.width}×${c.resolution.height}` }),
          h('td', { class: 'num', text: count(c.effective_resolution) }),
          h('td', { class: 'num', text: count(c.wasted_resolution) })))))),
      chosen
        ? h('p', { class: 'why', attrs: { 'data-testid': 'anyres-why' } },
          `Chosen: ${chosen.resolution.width}×${chosen.resolution.height} — largest effective resolution, then least waste.`)
        : null);
  }

  private tokens(): HTMLElement {
    const t = this.plan.tokens;
    const terms = [`${count(t.base_tokens)} base`, `${count(t.grid_tokens)} grid`, `${count(t.newline_tokens)} newlines`];
    const sum = `${terms.join(' + ')}${t.drops_cls_token ? ' − 1 class token' : ''} = ${count(t.total)}`;
    return h('div', { class: 'card-inset token-sum', attrs: { 'data-testid': 'anyres-tokens' } },
      h('h3', { class: 'inset-title', text: 'Visual tokens in the prompt' }),
      h('p', { class: 'token-equation', attrs: { 'data-testid': 'anyres-equation' } }, sum),
      h('p', { class: 'token-compare' },
        `A fixed-resolution encoder would use ${count(t.base_tokens)} (the base view alone): AnyRes costs `,
        h('strong', { text: `${(t.total / Math.max(1, t.base_tokens)).toFixed(1)}×` }), ' as many.'),
      h('ul', { class: 'token-notes muted' },
        h('li', { text: `${this.plan.rows} × ${this.plan.cols} tiles of ${this.plan.tile.height} px, ${t.patches_per_side}×${t.patches_per_side} = ${count(t.tokens_per_tile)} tokens each before the padding is trimmed.` }),
        h('li', { text: 'One newline token closes each row of the packed grid, so the model knows where rows end.' })));
  }
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
