// Section 3 (BLIP-2 / InstructBLIP): the Q-Former's cross-attention. One query's map over the
// patch grid (the class token set apart), every query as small multiples, and, under the
// pointer, the queries that read that patch most.
import { normalise } from '../../lib/colormap';
import { h } from '../../lib/dom';
import type { QFormerMap } from '../../services/types';
import { availableWidth, drawPhoto, fit, INK, outlineInside, prepare } from './canvas';
import { exportButtons } from './export';
import { drawGridHeat, OverlayControls, percent } from './heatmap';
import { patchAt, qformerShape, queryAttention, topQueriesAt, type QFormerShape } from './qformer-math';
import { sectionHeader, type Section, type SectionContext } from './section';

export class QFormerSection implements Section {
  readonly id = 'qformer';
  readonly label = 'Q-Former';
  readonly el: HTMLElement;
  private canvas = h('canvas', { class: 'explain-canvas heat-canvas', attrs: { 'data-testid': 'qformer-canvas', role: 'img' } });
  private figure = h('div', { class: 'figure-host' });
  private queryRange: HTMLInputElement;
  private queryNumber: HTMLInputElement;
  private layerSelect: HTMLSelectElement;
  private headSelect: HTMLSelectElement;
  private overlay: OverlayControls;
  private clsLine = h('p', { class: 'cls-share', attrs: { 'data-testid': 'qformer-cls' } });
  private hoverBox = h('div', { class: 'hover-box', attrs: { 'data-testid': 'qformer-hover', 'aria-live': 'polite' } });
  private multiples = h('div', { class: 'multiples', attrs: { role: 'group', 'aria-label': 'All queries' } });
  private tiles: { button: HTMLButtonElement; canvas: HTMLCanvasElement }[] = [];
  private query = 0;
  private layerIndex = 0;
  private head: number | null = null;
  private hover: { row: number; col: number } | null = null;
  private shape: QFormerShape;

  constructor(private ctx: SectionContext, private map: QFormerMap) {
    this.shape = qformerShape(map);
    const { queries, heads } = this.shape;
    const last = Math.max(0, queries - 1);
    this.queryRange = h('input', { class: 'range', attrs: { type: 'range', min: 0, max: last, step: 1, value: 0, id: 'qformer-query', 'aria-label': 'Query' } });
    this.queryNumber = h('input', { class: 'input input-num', attrs: { type: 'number', min: 0, max: last, step: 1, value: 0, 'aria-label': 'Query number' } });
    this.layerSelect = h('select', { class: 'select', attrs: { id: 'qformer-layer', 'aria-label': 'Layer' } },
      ...map.layers.map((l, i) => h('option', { text: `Layer ${l.layer}`, attrs: { value: i } })));
    this.headSelect = h('select', { class: 'select', attrs: { id: 'qformer-head', 'aria-label': 'Head' } },
      h('option', { text: 'Mean of heads', attrs: { value: 'mean' } }),
      ...Array.from({ length: heads }, (_, i) => h('option', { text: `Head ${i}`, attrs: { value: i } })));
    this.overlay = new OverlayControls('qformer', () => this.redraw(true));
    this.queryRange.addEventListener('input', () => this.selectQuery(Number(this.queryRange.value)));
    this.queryNumber.addEventListener('change', () => this.selectQuery(Number(this.queryNumber.value)));
    this.layerSelect.addEventListener('change', () => {
      this.layerIndex = Number(this.layerSelect.value);
      this.redraw(true);
    });
    this.headSelect.addEventListener('change', () => {
      this.head = this.headSelect.value === 'mean' ? null : Number(this.headSelect.value);
      this.redraw(true);
    });
    this.canvas.addEventListener('mousemove', (event) => this.onHover(event));
    this.canvas.addEventListener('mouseleave', () => {
      this.hover = null;
      this.redraw(false);
    });
    this.buildMultiples();
    const actions = exportButtons('qformer', () => this.canvas, () => map, () => ctx.explanation.modelId);
    this.el = h('section', { class: 'explain-section', attrs: { 'data-testid': 'section-qformer' } },
      sectionHeader('Q-Former cross-attention',
        `${queries} learned queries read the image through cross-attention; each becomes one token for the language model. The grid is the whole image, resized to the encoder's square.`,
        actions),
      h('div', { class: 'qformer-layout' },
        h('figure', { class: 'figure' }, this.figure, this.overlay.legend),
        h('div', { class: 'control-panel' },
          h('label', { class: 'control', attrs: { for: 'qformer-query' } },
            h('span', { class: 'control-label', text: `Query (0–${last})` }),
            h('div', { class: 'control-row' }, this.queryRange, this.queryNumber)),
          h('label', { class: 'control', attrs: { for: 'qformer-layer' } }, h('span', { class: 'control-label', text: 'Layer' }), this.layerSelect),
          h('label', { class: 'control', attrs: { for: 'qformer-head' } }, h('span', { class: 'control-label', text: 'Head' }), this.headSelect),
          this.overlay.el,
          this.clsLine,
          this.hoverBox)),
      h('h3', { class: 'inset-title multiples-title', text: `All ${queries} queries (click one to select it)` }),
      this.multiples);
    this.figure.appendChild(this.canvas);
    this.showHover();
  }

  render(): void {
    this.redraw(true);
  }

  private selectQuery(q: number): void {
    const query = Math.min(this.shape.queries - 1, Math.max(0, Math.round(Number.isFinite(q) ? q : 0)));
    this.query = query;
    this.queryRange.value = String(query);
    this.queryNumber.value = String(query);
    this.tiles.forEach((t, i) => t.button.setAttribute('aria-pressed', String(i === query)));
    this.redraw(false);
  }

  /** Draws the big map; `all` also redraws the small multiples (layer, head or colours changed). */
  private redraw(all: boolean): void {
    const { rows, cols } = this.shape;
    const { width, height } = this.ctx.explanation.image;
    const size = fit(width, height, availableWidth(this.figure, 720), 460);
    const { ctx, dpr } = prepare(this.canvas, size);
    const attention = queryAttention(this.map, this.layerIndex, this.head, this.query);
    drawPhoto(ctx, this.ctx.image, 0, 0, this.canvas.width, this.canvas.height);
    const box = { x: 0, y: 0, width: this.canvas.width, height: this.canvas.height };
    drawGridHeat(ctx, normalise(attention.patches), rows, cols, box, this.overlay.value);
    if (this.hover) {
      ctx.fillStyle = INK.hover;
      const cw = box.width / cols;
      const ch = box.height / rows;
      outlineInside(ctx, { x: this.hover.col * cw, y: this.hover.row * ch, width: cw, height: ch }, 2 * dpr);
    }
    const max = Math.max(0, ...attention.patches);
    this.overlay.setRange('0', percent(max));
    const layer = this.map.layers[this.layerIndex]?.layer ?? this.layerIndex;
    const headText = this.head === null ? 'mean of heads' : `head ${this.head}`;
    this.canvas.setAttribute('aria-label', `Query ${this.query}, layer ${layer}, ${headText}: attention over ${rows}×${cols} patches`);
    this.clsLine.replaceChildren(
      this.map.cls_token
        ? h('span', {}, 'Class token: ', h('strong', { text: percent(attention.cls) }), ` of query ${this.query}'s attention (not drawn: it stands for the whole image, not a place in it).`)
        : h('span', { class: 'muted', text: 'This encoder has no class token.' }));
    if (all) this.drawMultiples();
    this.showHover();
  }

  private buildMultiples(): void {
    this.tiles = Array.from({ length: this.shape.queries }, (_, q) => {
      const canvas = h('canvas', { class: 'multiple-canvas' });
      const button = h('button', {
        class: 'multiple',
        attrs: { type: 'button', 'data-testid': 'qformer-multiple', 'aria-pressed': String(q === this.query), 'aria-label': `Query ${q}` },
        on: { click: () => this.selectQuery(q) },
      }, canvas, h('span', { class: 'multiple-label', text: String(q) }));
      return { button, canvas };
    });
    this.multiples.replaceChildren(...this.tiles.map((t) => t.button));
  }

  private drawMultiples(): void {
    const { rows, cols } = this.shape;
    const { width, height } = this.ctx.explanation.image;
    const size = fit(width, height, 84, 64);
    this.tiles.forEach(({ canvas }, q) => {
      const { ctx } = prepare(canvas, size);
      drawPhoto(ctx, this.ctx.image, 0, 0, canvas.width, canvas.height);
      const values = normalise(queryAttention(this.map, this.layerIndex, this.head, q).patches);
      drawGridHeat(ctx, values, rows, cols, { x: 0, y: 0, width: canvas.width, height: canvas.height }, this.overlay.value);
    });
  }

  private onHover(event: MouseEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const patch = patchAt(event.clientX - rect.left, event.clientY - rect.top, rect.width, rect.height, this.shape.rows, this.shape.cols);
    if (patch?.row === this.hover?.row && patch?.col === this.hover?.col) return;
    this.hover = patch;
    this.redraw(false);
  }

  private showHover(): void {
    if (!this.hover) {
      this.hoverBox.replaceChildren(h('p', { class: 'muted', text: 'Point at a patch to see which queries read it most.' }));
      return;
    }
    const { row, col } = this.hover;
    const top = topQueriesAt(this.map, this.layerIndex, this.head, row * this.shape.cols + col, 5);
    this.hoverBox.replaceChildren(
      h('p', { class: 'hover-title', text: `Patch row ${row}, column ${col}: top queries` }),
      h('ol', { class: 'hover-list' }, ...top.map((t) => h('li', { attrs: { 'data-testid': 'qformer-hover-item' } },
        h('span', { text: `Query ${t.query}` }), h('span', { class: 'num muted', text: percent(t.value) })))));
  }
}
