// The top bar of "Documents": model, the open document, pages to read, Read / Stop; open errors
// show under the Open button, read errors under the bar's action.
import { h, icon, iconButton } from '../../lib/dom';
import { fillModelSelect } from '../../lib/model-select';
import { errorView } from '../../lib/error-view';
import { parsePages } from '../../services/documents';
import type { AppError, DocumentInfo, ModelEntry } from '../../services/types';

export type ReadRequest = { model: ModelEntry; spec: string | null; pages: number[] };

const PAGES_HINT = 'e.g. 1-5 or 2,4-6 · empty: all';

export class DocumentsBar {
  readonly el: HTMLElement;
  private modelSelect = h('select', { class: 'select', attrs: { id: 'documents-model', 'aria-label': 'Model' } });
  private docSlot = h('div', { class: 'doc-slot', attrs: { 'data-testid': 'documents-file' } });
  private openButton: HTMLButtonElement;
  private openError = h('div', { class: 'doc-error', attrs: { 'data-testid': 'documents-open-error' } });
  private pagesInput = h('input', {
    class: 'input', attrs: { type: 'text', id: 'documents-pages', 'aria-label': 'Pages', placeholder: 'All pages', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'documents-pages-hint' },
  });
  private pagesHint = h('span', { class: 'field-hint', text: PAGES_HINT, attrs: { id: 'documents-pages-hint', 'data-testid': 'documents-pages-hint' } });
  private readButton: HTMLButtonElement;
  private stopButton: HTMLButtonElement;
  private readError = h('div', { class: 'doc-error', attrs: { 'data-testid': 'documents-read-error' } });
  private models: ModelEntry[] = [];
  private doc: DocumentInfo | null = null;
  private busy = false;
  private opening = false;

  constructor(private onOpen: () => void, private onRead: (request: ReadRequest) => void, private onStop: () => void) {
    this.openButton = iconButton('folder', 'Open document', () => this.onOpen(), { text: 'Open document…', class: 'btn-sm', testid: 'documents-open' });
    this.readButton = h('button', { class: 'btn btn-primary', attrs: { type: 'submit', 'data-testid': 'documents-read' } },
      icon('page'), h('span', { text: 'Read' }));
    this.stopButton = h('button', { class: 'btn btn-stop', attrs: { type: 'button', 'data-testid': 'documents-stop' }, on: { click: () => this.onStop() } },
      icon('stop'), h('span', { text: 'Stop' }));
    this.stopButton.hidden = true;
    this.openError.hidden = true;
    this.readError.hidden = true;
    this.pagesInput.addEventListener('input', () => {
      if (this.pagesInput.getAttribute('aria-invalid') === 'true') this.checkPages();
    });
    this.el = h('form', { class: 'documents-bar card', attrs: { 'aria-label': 'What to read', novalidate: true } },
      h('div', { class: 'bar-row' },
        h('label', { class: 'field doc-model', attrs: { for: 'documents-model' } }, h('span', { class: 'field-label', text: 'Model' }), this.modelSelect),
        h('div', { class: 'field doc-file' }, h('span', { class: 'field-label', text: 'Document' }), this.docSlot, this.openError),
        h('label', { class: 'field doc-pages', attrs: { for: 'documents-pages' } }, h('span', { class: 'field-label', text: 'Pages' }), this.pagesInput, this.pagesHint),
        h('div', { class: 'field doc-action' }, h('span', { class: 'field-label', text: '\u00a0', attrs: { 'aria-hidden': 'true' } }), this.readButton, this.stopButton)),
      this.readError);
    this.el.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.renderDocument();
    this.sync();
  }

  setModels(models: ModelEntry[]): void {
    this.models = fillModelSelect(this.modelSelect, models);
    this.sync();
  }

  setDocument(doc: DocumentInfo | null): void {
    this.doc = doc;
    this.pagesInput.value = '';
    this.showPagesProblem(null);
    this.renderDocument();
    this.sync();
  }

  setOpening(opening: boolean): void {
    this.opening = opening;
    this.sync();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.el.classList.toggle('is-busy', busy);
    this.readButton.hidden = busy;
    this.stopButton.hidden = !busy;
    this.stopButton.disabled = false;
    this.sync();
  }

  /** Stop was pressed: the run ends after the token in flight. */
  setStopping(): void {
    this.stopButton.disabled = true;
  }

  showOpenError(error: AppError | null): void {
    show(this.openError, error, 'documents-open-error-box');
  }

  showReadError(error: AppError | null): void {
    show(this.readError, error, 'documents-read-error-box');
  }

  private submit(): void {
    if (this.busy || !this.doc) return;
    const model = this.models.find((m) => m.id === this.modelSelect.value);
    if (!model) {
      this.showReadError({ code: 'NO_MODEL', message: 'Choose a model first (the Models page lists what is installed).', details: null });
      return;
    }
    const selection = this.checkPages();
    if (!selection) return;
    this.showReadError(null);
    this.onRead({ model, spec: selection.spec, pages: selection.pages });
  }

  /** Validates the pages field in place; the selection, or null when it needs fixing. */
  private checkPages(): { spec: string | null; pages: number[] } | null {
    const selection = parsePages(this.pagesInput.value, this.doc?.pages.length ?? 0);
    if ('problem' in selection) {
      this.showPagesProblem(selection.problem);
      return null;
    }
    this.showPagesProblem(null);
    return selection;
  }

  private showPagesProblem(problem: string | null): void {
    this.pagesInput.setAttribute('aria-invalid', problem ? 'true' : 'false');
    this.pagesHint.textContent = problem ?? PAGES_HINT;
    this.pagesHint.classList.toggle('field-error', problem !== null);
  }

  private renderDocument(): void {
    const doc = this.doc;
    (this.openButton.lastChild as HTMLElement).textContent = doc ? 'Open another…' : 'Open document…';
    this.docSlot.replaceChildren(
      doc
        ? h('div', { class: 'chip doc-chip', attrs: { title: doc.path } },
          h('span', { class: 'doc-chip-icon' }, icon('page')),
          h('span', { class: 'chip-name', text: doc.name }),
          h('span', { class: 'muted chip-size', text: `${doc.kind === 'pdf' ? 'PDF' : 'Image'} · ${pageCount(doc.pages.length)}` }))
        : h('span', { class: 'muted image-hint', text: 'Drop a PDF or a page image here' }),
      this.openButton);
  }

  private sync(): void {
    this.modelSelect.disabled = this.busy || this.models.length === 0;
    this.openButton.disabled = this.busy || this.opening;
    this.pagesInput.readOnly = this.busy;
    this.pagesInput.disabled = !this.doc;
    this.readButton.disabled = this.busy || this.opening || !this.doc || this.models.length === 0;
  }
}

export function pageCount(n: number): string {
  return `${n} page${n === 1 ? '' : 's'}`;
}

function show(slot: HTMLElement, error: AppError | null, testid: string): void {
  slot.hidden = error === null;
  slot.replaceChildren(...(error ? [errorView(error, { testid })] : []));
}
