// The top bar of "How it sees": model, image, prompt and the Explain button (errors beside it).
import { h, icon, iconButton } from '../../lib/dom';
import { fillModelSelect } from '../../lib/model-select';
import { errorView } from '../../lib/error-view';
import { defaultPrompt } from '../../services/explain';
import type { AppError, ImageRef, ModelEntry } from '../../services/types';

export type ExplainRequest = { model: ModelEntry; image: ImageRef; prompt: string };

export class ExplainBar {
  readonly el: HTMLElement;
  private modelSelect = h('select', { class: 'select', attrs: { id: 'explain-model', 'aria-label': 'Model' } });
  private imageSlot = h('div', { class: 'image-slot', attrs: { 'data-testid': 'explain-image' } });
  private promptInput = h('input', { class: 'input', attrs: { type: 'text', id: 'explain-prompt', 'aria-label': 'Prompt', autocomplete: 'off' } });
  private button: HTMLButtonElement;
  private errorEl = h('div', { class: 'explain-error', attrs: { 'data-testid': 'explain-error' } });
  private models: ModelEntry[] = [];
  private image: ImageRef | null = null;
  private busy = false;

  constructor(private onExplain: (request: ExplainRequest) => void, private onPick: () => void) {
    this.button = h('button', { class: 'btn btn-primary', attrs: { type: 'submit', 'data-testid': 'explain-button' } },
      icon('eye'), h('span', { text: 'Explain' }));
    this.modelSelect.addEventListener('change', () => this.modelChanged());
    this.errorEl.hidden = true;
    this.el = h('form', { class: 'explain-bar card', attrs: { 'aria-label': 'What to explain', novalidate: true } },
      h('div', { class: 'bar-row' },
        h('label', { class: 'field bar-model', attrs: { for: 'explain-model' } }, h('span', { class: 'field-label', text: 'Model' }), this.modelSelect),
        h('div', { class: 'field bar-image' }, h('span', { class: 'field-label', text: 'Image' }), this.imageSlot)),
      h('div', { class: 'bar-row bar-row-prompt' },
        h('label', { class: 'field bar-prompt', attrs: { for: 'explain-prompt' } }, h('span', { class: 'field-label', text: 'Prompt' }), this.promptInput),
        h('div', { class: 'bar-action' }, this.button)),
      this.errorEl);
    this.el.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.renderImage();
  }

  get modelId(): string | null {
    return this.modelSelect.value || null;
  }

  setModels(models: ModelEntry[]): void {
    const keep = this.modelSelect.value;
    this.models = fillModelSelect(this.modelSelect, models);
    const selected = this.modelSelect.value;
    this.modelSelect.disabled = this.busy || this.models.length === 0;
    if (keep !== selected || this.promptInput.value === '') this.modelChanged();
    this.syncButton();
  }

  setImage(image: ImageRef | null): void {
    this.image = image;
    this.renderImage();
    this.syncButton();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.el.classList.toggle('is-busy', busy);
    this.modelSelect.disabled = busy || this.models.length === 0;
    this.promptInput.readOnly = busy;
    (this.button.lastChild as HTMLElement).textContent = busy ? 'Explaining…' : 'Explain';
    this.syncButton();
    this.renderImage();
  }

  showError(error: AppError | null): void {
    this.errorEl.hidden = error === null;
    this.errorEl.replaceChildren(...(error ? [errorView(error, { testid: 'explain-error-box' })] : []));
  }

  /** A new model of another family gets its default prompt, unless the prompt was edited. */
  private modelChanged(): void {
    const family = this.models.find((m) => m.id === this.modelSelect.value)?.family;
    const current = this.promptInput.value.trim();
    const defaults = new Set(this.models.map((m) => defaultPrompt(m.family)));
    if (current === '' || defaults.has(current)) this.promptInput.value = defaultPrompt(family);
  }

  private submit(): void {
    if (this.busy) return;
    const model = this.models.find((m) => m.id === this.modelSelect.value);
    const prompt = this.promptInput.value.trim();
    const problem = !model ? 'Choose a model first (the Models page lists what is installed).'
      : !this.image ? 'Choose an image first: drop one on this page or use “Choose image…”.'
        : prompt === '' ? 'Write a prompt for the model.' : null;
    if (problem || !model || !this.image) {
      this.showError({ code: 'INVALID_INPUT', message: problem ?? '', details: null });
      return;
    }
    this.showError(null);
    this.onExplain({ model, image: this.image, prompt });
  }

  private renderImage(): void {
    const pick = iconButton('image', 'Choose image', () => this.onPick(),
      { text: this.image ? 'Change…' : 'Choose image…', class: 'btn-sm', testid: 'explain-pick' });
    pick.disabled = this.busy;
    this.imageSlot.replaceChildren(
      this.image
        ? h('div', { class: 'chip image-chip', attrs: { title: `${this.image.name} · ${this.image.width}×${this.image.height}` } },
          h('img', { attrs: { src: this.image.thumb, alt: '' } }),
          h('span', { class: 'chip-name', text: this.image.name }),
          h('span', { class: 'muted chip-size', text: `${this.image.width}×${this.image.height}` }))
        : h('span', { class: 'muted image-hint', text: 'Drop an image here' }),
      pick);
  }

  private syncButton(): void {
    this.button.disabled = this.busy || this.models.length === 0;
  }
}
