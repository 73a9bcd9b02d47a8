// The "How it sees" page: one answer with capture on (`explain`), then what the engine recorded
// during that forward pass, section by section (docs/teaching.md).
import { h, icon } from '../../lib/dom';
import { formatPercent } from '../../lib/format';
import { toastError } from '../../lib/toast';
import { answerAttention, explain } from '../../services/explain';
import { addImageFiles, getImage, onDragDrop, pickImages } from '../../services/images';
import { listModels } from '../../services/models';
import type { AppError, ExplainEvent, Explanation, ImageRef } from '../../services/types';
import type { View } from '../view';
import { loadImage } from './canvas';
import { ExplainBar, type ExplainRequest } from './explain-bar';
import { PipelineSection } from './pipeline-section';
import { QFormerSection } from './qformer-section';
import type { Section, SectionContext } from './section';
import { SectionTabs } from './tabs';
import { TilesSection } from './tiles-section';
import { TokensSection } from './tokens-section';

export class ExplainView implements View {
  readonly id = 'explain';
  readonly takesDrops = true;
  readonly el: HTMLElement;
  private bar: ExplainBar;
  private tabs = new SectionTabs();
  private loading = h('div', { class: 'loading-card explain-loading' });
  private answerText = h('p', { class: 'explain-answer-text', attrs: { 'data-testid': 'explain-answer', 'aria-live': 'polite' } });
  private answerMeta = h('span', { class: 'muted explain-answer-meta' });
  private answerCard: HTMLElement;
  private overlay = h('div', { class: 'drop-overlay', attrs: { 'data-testid': 'explain-drop-overlay', 'aria-hidden': 'true' } },
    h('div', { class: 'drop-card' }, icon('image'), h('span', { text: 'Drop an image to explain' })));
  private active = false;
  private busy = false;
  private resizeTimer = 0;

  constructor() {
    this.bar = new ExplainBar((request) => void this.run(request), () => void this.stage(() => pickImages()));
    this.answerCard = h('section', { class: 'card explain-answer', attrs: { 'aria-label': 'Answer' } },
      h('div', { class: 'explain-answer-head' }, h('h2', { text: 'Answer' }), this.answerMeta),
      this.answerText);
    this.answerCard.hidden = true;
    this.loading.hidden = true;
    this.overlay.hidden = true;
    this.tabs.el.hidden = true;
    this.el = h('div', { class: 'view explain-view' },
      h('main', { class: 'page explain-page', attrs: { 'aria-labelledby': 'explain-title' } },
        h('header', { class: 'page-header' },
          h('div', {},
            h('h1', { text: 'How it sees', attrs: { id: 'explain-title' } }),
            h('p', { class: 'muted', text: 'Run one answer and look inside: how the image was cut, which parts each step read, and where each answer word looked.' }))),
        this.bar.el,
        this.loading,
        this.answerCard,
        this.tabs.el),
      this.overlay);
    window.addEventListener('resize', () => {
      window.clearTimeout(this.resizeTimer);
      this.resizeTimer = window.setTimeout(() => {
        if (this.active) this.tabs.refresh();
      }, 150);
    });
  }

  async start(): Promise<void> {
    void onDragDrop((event) => {
      if (!this.active) return;
      this.overlay.hidden = !(event.type === 'enter' || event.type === 'over');
      if (event.type === 'drop' && event.paths.length > 0 && !this.busy) void this.stage(() => addImageFiles(event.paths));
    }).catch((error) => toastError(error as AppError));
    await this.loadModels();
  }

  activate(): void {
    this.active = true;
    void this.loadModels();
    this.tabs.refresh();
  }

  deactivate(): void {
    this.active = false;
    this.overlay.hidden = true;
  }

  private async loadModels(): Promise<void> {
    try {
      this.bar.setModels(await listModels());
    } catch (error) {
      toastError(error as AppError);
    }
  }

  /** Stages an image (picked or dropped); the first one is the image to explain. */
  private async stage(work: () => Promise<ImageRef[]>): Promise<void> {
    try {
      const [first] = await work();
      if (first) this.bar.setImage(first);
      this.bar.showError(null);
    } catch (error) {
      this.bar.showError(error as AppError);
    }
  }

  private async run({ model, image, prompt }: ExplainRequest): Promise<void> {
    this.busy = true;
    this.bar.setBusy(true);
    this.tabs.set([]);
    this.answerText.textContent = '';
    this.answerText.classList.add('is-streaming');
    this.answerMeta.textContent = `${model.name} · ${model.family}`;
    this.answerCard.hidden = false;
    this.showLoading(null);
    try {
      const result = await explain(model.id, image.id, prompt, (event) => this.onEvent(event));
      this.answerText.textContent = result.answer.text;
      this.answerMeta.textContent = `${model.name} · ${result.family} · ${result.answer.tokens.length} tokens`;
      const picture = await getImage(result.image.id).then(loadImage, () => null);
      this.tabs.set(this.sections({ explanation: result, image: picture }));
    } catch (error) {
      this.bar.showError(error as AppError);
      if (this.answerText.textContent === '') this.answerCard.hidden = true;
    } finally {
      this.busy = false;
      this.bar.setBusy(false);
      this.answerText.classList.remove('is-streaming');
      this.loading.hidden = true;
    }
  }

  private sections(ctx: SectionContext): Section[] {
    const e: Explanation = ctx.explanation;
    const sections: Section[] = [new PipelineSection(ctx)];
    if (e.imageViews) sections.push(new TilesSection(ctx, e.imageViews, e.tilePlan));
    if (e.qformer) sections.push(new QFormerSection(ctx, e.qformer));
    if (e.answerAttention) {
      const id = e.explanationId;
      sections.push(new TokensSection(ctx, e.answerAttention, (token, layer, head, rollout) => answerAttention(id, token, layer, head, rollout)));
    }
    return sections;
  }

  private onEvent(event: ExplainEvent): void {
    if (event.kind === 'loading') this.showLoading(event);
    else if (event.kind === 'token') {
      this.loading.hidden = true;
      this.answerText.textContent += event.text;
    }
  }

  private showLoading(event: Extract<ExplainEvent, { kind: 'loading' }> | null): void {
    this.loading.hidden = event === null;
    if (!event) return;
    const fill = h('div', { class: 'progress-fill' });
    fill.style.width = formatPercent(event.progress);
    this.loading.replaceChildren(
      h('div', { class: 'loading-head' }, h('span', { text: 'Loading model' }), h('span', { class: 'muted', text: formatPercent(event.progress) })),
      h('div', {
        class: 'progress',
        attrs: { role: 'progressbar', 'aria-label': 'Loading model', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(event.progress * 100) },
      }, fill),
      h('span', { class: 'loading-stage muted', text: event.stage }));
  }
}
