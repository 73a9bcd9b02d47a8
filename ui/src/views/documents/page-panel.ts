// The right side of "Documents": one page's rendered image beside its text — raw pieces while it
// streams, its Markdown (rendered safely by lib/markdown) once done, or its error.
import { copyText } from '../../lib/clipboard';
import { h, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { renderMarkdown } from '../../lib/markdown';
import { toast } from '../../lib/toast';
import { tokens } from './page-list';
import type { PageState } from './reading';

type Mode = 'rendered' | 'raw';

export class PagePanel {
  readonly el: HTMLElement;
  private title = h('h2', { attrs: { 'data-testid': 'page-title' } });
  private meta = h('span', { class: 'muted page-meta', attrs: { 'data-testid': 'page-meta' } });
  private figure = h('button', { class: 'page-figure', attrs: { type: 'button', 'aria-label': 'Zoom page', title: 'Zoom', 'data-testid': 'page-zoom' } });
  private text = h('div', { class: 'page-text', attrs: { 'data-testid': 'page-text', 'aria-live': 'polite', tabindex: 0 } });
  private copyButton: HTMLButtonElement;
  private modeInputs: HTMLInputElement[] = [];
  private mode: Mode = 'rendered';
  private page: number | null = null;
  private state: PageState | null = null;
  private imageToken = 0;

  constructor(private onZoom: (page: number) => void) {
    this.copyButton = iconButton('copy', 'Copy page', () => void this.copy(), { text: 'Copy page', class: 'btn-sm', testid: 'page-copy' });
    const modes = h('div', { class: 'segmented segmented-sm', attrs: { role: 'radiogroup', 'aria-label': 'Text shown' } },
      ...(['rendered', 'raw'] as const).map((mode) => {
        const input = h('input', { attrs: { type: 'radio', name: 'documents-text-mode', value: mode, checked: mode === this.mode } });
        input.addEventListener('change', () => {
          this.mode = mode;
          this.drawText();
        });
        this.modeInputs.push(input);
        return h('label', { class: 'segment' }, input, h('span', { text: mode === 'rendered' ? 'Rendered' : 'Raw' }));
      }));
    this.figure.addEventListener('click', () => {
      if (this.page !== null) this.onZoom(this.page);
    });
    this.el = h('section', { class: 'card page-panel', attrs: { 'aria-labelledby': 'documents-page-title', 'data-testid': 'page-panel' } },
      h('header', { class: 'page-panel-head' },
        h('div', { class: 'page-panel-title' }, this.title, this.meta),
        h('div', { class: 'section-actions' }, modes, this.copyButton)),
      h('div', { class: 'page-panel-body' }, this.figure, this.text));
    this.title.id = 'documents-page-title';
  }

  get shownPage(): number | null {
    return this.page;
  }

  /** Shows page `page`; its image comes from `image` (cached by the caller). */
  show(page: number, state: PageState, image: Promise<string>): void {
    const changed = page !== this.page;
    this.page = page;
    this.title.textContent = `Page ${page + 1}`;
    if (changed) {
      const token = ++this.imageToken;
      this.figure.replaceChildren(h('span', { class: 'spinner', attrs: { 'aria-label': 'Rendering page' } }));
      image.then(
        (src) => token === this.imageToken && this.figure.replaceChildren(h('img', { attrs: { src, alt: `Page ${page + 1}`, 'data-testid': 'page-image' } })),
        () => token === this.imageToken && this.figure.replaceChildren(h('span', { class: 'muted', text: 'This page could not be rendered.' })),
      );
    }
    this.update(state);
  }

  /** The shown page's state changed (a token, done, error). */
  update(state: PageState): void {
    this.state = state;
    const meta: Record<PageState['status'], string> = {
      idle: 'Not read', waiting: 'Waiting', reading: `Reading… ${tokens(state.tokens)}`, done: tokens(state.tokens),
      stopped: `Stopped · ${tokens(state.tokens)}`, error: 'Failed',
    };
    this.meta.textContent = meta[state.status];
    this.copyButton.disabled = this.content() === '';
    for (const input of this.modeInputs) input.disabled = state.markdown === null;
    this.drawText();
  }

  private content(): string {
    return this.state?.markdown ?? this.state?.raw ?? '';
  }

  private drawText(): void {
    const state = this.state;
    if (!state) return;
    this.text.dataset.status = state.status;
    this.text.classList.toggle('is-streaming', state.status === 'reading');
    if (state.status === 'error' && state.error) {
      this.text.replaceChildren(errorView(state.error, { testid: 'page-error', role: null }));
    } else if (state.markdown !== null && this.mode === 'rendered') {
      renderMarkdown(this.text, state.markdown);
    } else if (state.markdown !== null || state.raw !== '') {
      this.text.replaceChildren(h('div', { class: 'page-raw', text: state.markdown ?? state.raw }));
    } else {
      const hint = state.status === 'reading' ? 'Reading this page…' : state.status === 'waiting' ? 'This page is next in line.' : 'Not read yet: choose a model and press Read.';
      this.text.replaceChildren(h('p', { class: 'muted page-empty', text: hint }));
    }
  }

  private async copy(): Promise<void> {
    if (await copyText(this.content())) toast(`Copied page ${(this.page ?? 0) + 1}`);
  }
}
