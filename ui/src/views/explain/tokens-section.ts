// Section 4 (decoder-only language models): where each answer token looked. Click a token;
// its attention to every visual token is drawn back onto the rectangle of the image that
// visual token came from.
import { h } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import type { AnswerAttentionInfo, AppError, AttentionMap, Rect } from '../../services/types';
import { availableWidth, drawPhoto, fit, prepare } from './canvas';
import { exportButtons } from './export';
import { drawRectHeat, OverlayControls, percent } from './heatmap';
import { qformerShape } from './qformer-math';
import { sectionHeader, type Section, type SectionContext } from './section';

export type AttentionSource = (token: number, layer: number | null, head: number | null, rollout: boolean) => Promise<AttentionMap>;

type Group = 'grid' | 'image' | 'base';
const GROUP_LABELS: Record<Group, string> = { grid: 'Tiles', image: 'Image', base: 'Base view' };

/** OneVision's base view and its tiles cover the same pixels, so they are shown one at a time;
 * every other kind ("image", "patch") is one layer over the image. */
function groupOf(view: string): Group {
  if (view === 'base') return 'base';
  return view.startsWith('tile') ? 'grid' : 'image';
}

/** How an answer token reads on a chip: spaces and line breaks made visible. */
export function tokenLabel(piece: string): string {
  const text = piece.replace(/\n/g, '↵').trim();
  return text === '' ? (piece.includes('\n') ? '↵' : '␣') : text;
}

function queries(ctx: SectionContext): string {
  return ctx.explanation.qformer ? String(qformerShape(ctx.explanation.qformer).queries) : 'Q-Former\'s';
}

export class TokensSection implements Section {
  readonly id = 'tokens';
  readonly label = 'Answer tokens';
  readonly el: HTMLElement;
  private canvas = h('canvas', { class: 'explain-canvas heat-canvas', attrs: { 'data-testid': 'tokens-canvas', role: 'img', 'aria-label': 'The image' } });
  private figure = h('div', { class: 'figure-host' });
  private layerSelect: HTMLSelectElement;
  private headSelect: HTMLSelectElement;
  private overlay: OverlayControls;
  private groupSwitch = h('div', { class: 'segmented segmented-sm', attrs: { role: 'radiogroup', 'aria-label': 'Visual tokens shown' } });
  private chips: HTMLButtonElement[];
  private status = h('div', { class: 'tokens-status', attrs: { 'data-testid': 'tokens-status', 'aria-live': 'polite' } });
  private groups: Group[];
  private group: Group;
  private token: number | null = null;
  private map: AttentionMap | null = null;
  private request = 0;

  constructor(private ctx: SectionContext, private info: AnswerAttentionInfo, private source: AttentionSource) {
    const present = new Set(info.imageTokens.filter((t) => t.rect).map((t) => groupOf(t.view)));
    this.groups = (['grid', 'image', 'base'] as Group[]).filter((g) => present.has(g));
    this.group = this.groups[0] ?? 'image';
    this.layerSelect = h('select', { class: 'select', attrs: { id: 'tokens-layer', 'aria-label': 'Layer' } },
      h('option', { text: 'Mean of layers', attrs: { value: 'mean' } }),
      ...Array.from({ length: info.layers }, (_, i) => h('option', { text: `Layer ${i}`, attrs: { value: i } })),
      ...(info.rollout ? [h('option', { text: 'Rollout (all layers)', attrs: { value: 'rollout' } })] : []));
    this.headSelect = h('select', { class: 'select', attrs: { id: 'tokens-head', 'aria-label': 'Head' } },
      h('option', { text: 'Mean of heads', attrs: { value: 'mean' } }),
      ...Array.from({ length: info.heads }, (_, i) => h('option', { text: `Head ${i}`, attrs: { value: i } })));
    this.layerSelect.addEventListener('change', () => {
      // Rollout follows every head of every layer: a head choice does not apply.
      this.headSelect.disabled = this.layerSelect.value === 'rollout';
      void this.load();
    });
    this.headSelect.addEventListener('change', () => void this.load());
    this.overlay = new OverlayControls('tokens', () => this.draw());
    // The shell captures the first `tokenCount` answer tokens only (a long answer is cut).
    this.chips = ctx.explanation.answer.tokens.map((piece, i) => h('button', {
      class: 'token-chip',
      text: tokenLabel(piece),
      attrs: {
        type: 'button', 'aria-pressed': 'false', 'data-testid': 'answer-token', disabled: i >= info.tokenCount,
        title: i < info.tokenCount ? `Token ${i}: ${JSON.stringify(piece)}` : `Token ${i}: not captured (only the first ${info.tokenCount} are)`,
      },
      on: { click: () => this.select(i) },
    }));
    this.buildGroupSwitch();
    const e = ctx.explanation;
    const actions = exportButtons('tokens', () => this.canvas,
      () => ({ explanationId: e.explanationId, tokens: e.answer.tokens, answerAttention: info, selected: this.map }),
      () => e.modelId);
    this.el = h('section', { class: 'explain-section', attrs: { 'data-testid': 'section-tokens' } },
      sectionHeader('Where each answer token looked',
        'Click a word of the answer: the image lights up where the language model attended while writing it.',
        actions),
      h('div', { class: 'token-chips', attrs: { role: 'group', 'aria-label': 'Answer tokens' } }, ...this.chips),
      info.throughQformer
        ? h('p', { class: 'note muted', attrs: { 'data-testid': 'tokens-through-qformer' } },
          `The language model never sees patches here: it attends to the ${queries(ctx)} learned queries. `
          + 'Each query\'s share is spread over the patches it reads (its Q-Former cross-attention, mean of layers and heads).')
        : null,
      h('div', { class: 'qformer-layout' },
        h('figure', { class: 'figure' }, this.figure, this.overlay.legend),
        h('div', { class: 'control-panel' },
          h('label', { class: 'control', attrs: { for: 'tokens-layer' } }, h('span', { class: 'control-label', text: 'Layer' }), this.layerSelect),
          h('label', { class: 'control', attrs: { for: 'tokens-head' } }, h('span', { class: 'control-label', text: 'Head' }), this.headSelect),
          this.groups.length > 1 ? h('div', { class: 'control' }, h('span', { class: 'control-label', text: 'Show' }), this.groupSwitch) : null,
          this.overlay.el,
          this.status)));
    this.figure.appendChild(this.canvas);
    this.showStatus();
  }

  render(): void {
    this.draw();
  }

  private buildGroupSwitch(): void {
    this.groupSwitch.replaceChildren(...this.groups.map((g) => {
      const input = h('input', { attrs: { type: 'radio', name: 'tokens-group', value: g, checked: g === this.group, 'aria-label': GROUP_LABELS[g] } });
      input.addEventListener('change', () => {
        if (input.checked) this.group = g;
        this.draw();
      });
      return h('label', { class: 'segment' }, input, h('span', { text: GROUP_LABELS[g] }));
    }));
  }

  private select(token: number): void {
    this.token = token;
    this.chips.forEach((chip, i) => chip.setAttribute('aria-pressed', String(i === token)));
    void this.load();
  }

  private async load(): Promise<void> {
    if (this.token === null) return;
    const rollout = this.layerSelect.value === 'rollout';
    const layer = rollout || this.layerSelect.value === 'mean' ? null : Number(this.layerSelect.value);
    const head = rollout || this.headSelect.value === 'mean' ? null : Number(this.headSelect.value);
    const request = ++this.request;
    this.status.classList.add('is-loading');
    try {
      const map = await this.source(this.token, layer, head, rollout);
      if (request !== this.request) return;
      this.map = map;
      this.showStatus();
    } catch (error) {
      if (request !== this.request) return;
      this.map = null;
      this.showStatus(error as AppError);
    } finally {
      if (request === this.request) this.status.classList.remove('is-loading');
    }
    this.draw();
  }

  private draw(): void {
    const { width, height } = this.ctx.explanation.image;
    const size = fit(width, height, availableWidth(this.figure, 720), 460);
    const { ctx, dpr } = prepare(this.canvas, size);
    drawPhoto(ctx, this.ctx.image, 0, 0, this.canvas.width, this.canvas.height);
    const map = this.map;
    if (!map) {
      this.overlay.setRange('0', 'max');
      return;
    }
    const tokens = this.info.imageTokens;
    let max = 0;
    tokens.forEach((t, i) => {
      if (t.rect && (map.values[i] ?? 0) > max) max = map.values[i];
    });
    const items: { rect: Rect; value: number }[] = [];
    tokens.forEach((t, i) => {
      if (t.rect && groupOf(t.view) === this.group) items.push({ rect: t.rect, value: max > 0 ? Math.max(0, map.values[i] ?? 0) / max : 0 });
    });
    drawRectHeat(ctx, items, size.scale * dpr, this.overlay.value);
    this.overlay.setRange('0', percent(max));
    this.canvas.setAttribute('aria-label', `Attention of answer token ${map.token} on the image`);
  }

  private showStatus(error: AppError | null = null): void {
    const map = this.map;
    if (error) {
      this.status.replaceChildren(errorView(error, { testid: 'tokens-error' }));
    } else if (!map || this.token === null) {
      this.status.replaceChildren(h('p', { class: 'muted', text: 'Click a token of the answer above.' }));
    } else {
      const piece = this.ctx.explanation.answer.tokens[map.token] ?? '';
      const split = this.breakdown(map);
      this.status.replaceChildren(
        h('p', { class: 'token-picked' }, 'Token ', h('strong', { text: `“${tokenLabel(piece)}”` }), ` (#${map.token})`),
        h('p', { class: 'image-share', attrs: { 'data-testid': 'image-share' } },
          h('strong', { text: percent(map.imageShare) }), " of this token's attention goes to the image."),
        ...(split ? [split] : []));
    }
  }

  /** The image share split by where the visual tokens came from (when there is more than one kind). */
  private breakdown(map: AttentionMap): HTMLElement | null {
    if (this.groups.length < 2) return null;
    const sums = new Map<string, number>();
    this.info.imageTokens.forEach((t, i) => {
      const key = t.rect ? GROUP_LABELS[groupOf(t.view)] : 'Newlines';
      sums.set(key, (sums.get(key) ?? 0) + (map.values[i] ?? 0));
    });
    return h('p', { class: 'muted share-split', text: [...sums].map(([k, v]) => `${k} ${percent(v)}`).join(' · ') });
  }
}
