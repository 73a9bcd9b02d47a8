// The "Documents" page: open a PDF or a page image (button or window drop), read its pages with
// a model page by page, watch each page's text stream in, export the result (docs/documents.md).
import { h, icon, iconButton } from '../../lib/dom';
import { formatPercent } from '../../lib/format';
import { toast, toastError } from '../../lib/toast';
import { cancelReading, documentPage, openDocument, readDocument } from '../../services/documents';
import { saveExport } from '../../services/explain';
import { fileToBase64, onDragDrop } from '../../services/images';
import { listModels } from '../../services/models';
import type { AppError, DocumentInfo } from '../../services/types';
import { openLightbox } from '../chat/lightbox';
import type { View } from '../view';
import { DocumentsBar, pageCount, type ReadRequest } from './documents-bar';
import { PageList } from './page-list';
import { PagePanel } from './page-panel';
import { Reading } from './reading';

const THUMB_SIDE = 160;
const PAGE_SIDE = 900;
const ZOOM_SIDE = 2000;

export class DocumentsView implements View {
  readonly id = 'documents';
  readonly takesDrops = true;
  readonly el: HTMLElement;
  private bar: DocumentsBar;
  private list = new PageList((page) => this.select(page, true));
  private panel = new PagePanel((page) => this.zoom(page));
  private progressLabel = h('span', { class: 'doc-progress-label', attrs: { 'data-testid': 'documents-progress' } });
  private progressFill = h('div', { class: 'progress-fill' });
  private progressBar = h('div', { class: 'progress', attrs: { role: 'progressbar', 'aria-label': 'Reading progress', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 } }, this.progressFill);
  private exportMd: HTMLButtonElement;
  private exportText: HTMLButtonElement;
  private workspace: HTMLElement;
  private empty: HTMLElement;
  private overlay = h('div', { class: 'drop-overlay', attrs: { 'data-testid': 'documents-drop-overlay', 'aria-hidden': 'true' } },
    h('div', { class: 'drop-card' }, icon('page'), h('span', { text: 'Drop a PDF or a page image to read' })));
  private doc: DocumentInfo | null = null;
  private reading = new Reading(0);
  private images = new Map<number, Promise<string>>();
  /** The page shown follows the page being read until the user picks one. */
  private follow = true;
  private active = false;
  private opening = false;

  constructor() {
    this.bar = new DocumentsBar(() => void this.open(null), (request) => void this.read(request), () => void this.stop());
    this.exportMd = iconButton('download', 'Export Markdown', () => void this.export('md'), { text: 'Export Markdown', class: 'btn-sm', testid: 'export-markdown' });
    this.exportText = iconButton('download', 'Export text', () => void this.export('txt'), { text: 'Export text', class: 'btn-sm', testid: 'export-text' });
    this.workspace = h('div', { class: 'doc-workspace' },
      h('div', { class: 'doc-strip card' },
        h('div', { class: 'doc-progress' }, this.progressLabel, this.progressBar),
        h('div', { class: 'section-actions' }, this.exportMd, this.exportText)),
      h('div', { class: 'doc-columns' },
        h('nav', { class: 'card page-list-card', attrs: { 'aria-label': 'Document pages' } }, this.list.el),
        this.panel.el));
    this.empty = h('div', { class: 'card doc-empty', attrs: { 'data-testid': 'documents-empty' } },
      icon('page'),
      h('p', { class: 'doc-empty-title', text: 'No document open' }),
      h('p', { class: 'muted', text: 'Open a PDF or an image of a page, or drop one on this window. Each page is read in turn and its text appears as the model writes it.' }));
    this.workspace.hidden = true;
    this.overlay.hidden = true;
    this.el = h('div', { class: 'view documents-view' },
      h('main', { class: 'page documents-page', attrs: { 'aria-labelledby': 'documents-title' } },
        h('header', { class: 'page-header' },
          h('div', {},
            h('h1', { text: 'Documents', attrs: { id: 'documents-title' } }),
            h('p', { class: 'muted', text: 'Read PDFs and scanned pages with a local model, page by page, into Markdown or plain text.' }))),
        this.bar.el,
        this.empty,
        this.workspace),
      this.overlay);
    this.drawProgress();
  }

  async start(): Promise<void> {
    void onDragDrop((event) => {
      if (!this.active) return;
      this.overlay.hidden = !(event.type === 'enter' || event.type === 'over');
      if (event.type !== 'drop' || event.paths.length === 0) return;
      if (this.reading.running) toast('Stop reading before opening another document.');
      else void this.open(event.paths[0]);
    }).catch((error) => toastError(error as AppError));
    await this.loadModels();
  }

  activate(): void {
    this.active = true;
    void this.loadModels();
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

  /** Opens `path` (a drop) or asks with the dialog (null). */
  private async open(path: string | null): Promise<void> {
    if (this.opening || this.reading.running) return;
    this.opening = true;
    this.bar.setOpening(true);
    try {
      const doc = await openDocument(path);
      this.bar.showOpenError(null);
      if (doc) this.setDocument(doc);
    } catch (error) {
      this.bar.showOpenError(error as AppError);
    } finally {
      this.opening = false;
      this.bar.setOpening(false);
    }
  }

  private setDocument(doc: DocumentInfo): void {
    this.doc = doc;
    this.reading = new Reading(doc.pages.length);
    this.images = new Map();
    this.follow = true;
    this.bar.setDocument(doc);
    this.bar.showReadError(null);
    this.list.reset(doc.pages.length);
    this.reading.pages.forEach((state, page) => this.list.update(page, state));
    this.empty.hidden = true;
    this.workspace.hidden = false;
    this.drawProgress();
    if (doc.pages.length > 0) this.select(0, false);
    void this.loadThumbs(doc);
  }

  /** Thumbnails one after another (the shell renders pages on one worker). */
  private async loadThumbs(doc: DocumentInfo): Promise<void> {
    for (let page = 0; page < doc.pages.length; page++) {
      if (this.doc !== doc) return;
      try {
        const src = await documentPage(doc.id, page, THUMB_SIDE);
        if (this.doc === doc) this.list.setThumb(page, src);
      } catch {
        // The row keeps its blank thumbnail; the page itself says why when shown.
      }
    }
  }

  private pageImage(page: number): Promise<string> {
    const doc = this.doc!;
    let image = this.images.get(page);
    if (!image) {
      image = documentPage(doc.id, page, PAGE_SIDE);
      image.catch(() => this.images.delete(page));
      this.images.set(page, image);
    }
    return image;
  }

  private select(page: number, byUser: boolean): void {
    if (!this.doc) return;
    if (byUser && this.reading.running) this.follow = false;
    this.list.select(page, !byUser);
    this.panel.show(page, this.reading.pages[page], this.pageImage(page));
  }

  private zoom(page: number): void {
    const doc = this.doc;
    if (!doc) return;
    const { width, height } = doc.pages[page];
    void openLightbox({ id: `${doc.id}:${page}`, name: `${doc.name} — page ${page + 1}`, width: Math.round(width), height: Math.round(height), thumb: '' },
      () => documentPage(doc.id, page, ZOOM_SIDE));
  }

  private async read({ model, spec, pages }: ReadRequest): Promise<void> {
    const doc = this.doc;
    if (!doc || this.reading.running) return;
    const reading = this.reading;
    reading.begin(pages);
    this.follow = true;
    reading.pages.forEach((state, page) => this.list.update(page, state));
    if (this.panel.shownPage !== null && !pages.includes(this.panel.shownPage) && pages.length > 0) this.select(pages[0], false);
    else if (this.panel.shownPage !== null) this.panel.update(reading.pages[this.panel.shownPage]);
    this.bar.setBusy(true);
    this.drawProgress();
    try {
      const result = await readDocument(doc.id, model.id, spec, (event) => {
        if (this.reading !== reading) return;
        const page = reading.apply(event);
        if (page !== null) {
          this.list.update(page, reading.pages[page]);
          if (event.kind === 'pageStarted' && this.follow) this.select(page, false);
          else if (page === this.panel.shownPage) this.panel.update(reading.pages[page]);
        }
        this.drawProgress();
      });
      if (this.reading === reading) reading.finish(result);
    } catch (error) {
      if (this.reading === reading) {
        reading.fail();
        this.bar.showReadError(error as AppError);
      }
    } finally {
      if (this.reading === reading) {
        reading.pages.forEach((state, page) => this.list.update(page, state));
        const shown = this.panel.shownPage;
        if (shown !== null) this.panel.update(reading.pages[shown]);
        this.drawProgress();
      }
      this.bar.setBusy(false);
    }
  }

  private async stop(): Promise<void> {
    if (!this.doc || !this.reading.running) return;
    this.bar.setStopping();
    try {
      await cancelReading(this.doc.id);
    } catch (error) {
      this.bar.showReadError(error as AppError);
    }
  }

  private drawProgress(): void {
    const { progress, pages } = this.reading;
    const total = progress.total;
    const done = pages.filter((p) => p.status === 'done').length;
    const failed = pages.filter((p) => p.status === 'error').length;
    const tally = `${done} of ${pageCount(total)} read${failed > 0 ? ` · ${failed} failed` : ''}`;
    let fraction = total > 0 ? this.reading.settled / total : 0;
    let label: string;
    switch (progress.state) {
      case 'idle':
        label = this.doc ? `${pageCount(this.doc.pages.length)} · not read yet` : '';
        fraction = 0;
        break;
      case 'loading':
        label = progress.loading ? `Loading model ${formatPercent(progress.loading.progress)} · ${progress.loading.stage}` : 'Starting…';
        fraction = progress.loading?.progress ?? 0;
        break;
      case 'reading':
        label = `Reading page ${progress.index + 1} of ${total}`;
        break;
      case 'finished':
        label = `Done · ${tally}`;
        break;
      case 'stopped':
        label = `Stopped · ${tally}`;
        break;
      case 'failed':
        label = `Stopped by an error · ${tally}`;
        break;
    }
    this.progressLabel.textContent = label;
    this.progressFill.style.width = formatPercent(fraction);
    this.progressBar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
    this.progressBar.classList.toggle('is-loading', progress.state === 'loading');
    this.progressBar.dataset.state = progress.state;
    const exportable = (this.reading.result?.pages.length ?? 0) > 0 && !this.reading.running;
    this.exportMd.disabled = !exportable;
    this.exportText.disabled = !exportable;
  }

  private async export(kind: 'md' | 'txt'): Promise<void> {
    const result = this.reading.result;
    const doc = this.doc;
    if (!result || !doc) return;
    const button = kind === 'md' ? this.exportMd : this.exportText;
    button.disabled = true;
    try {
      const body = kind === 'md' ? result.markdown : result.text;
      const type = kind === 'md' ? 'text/markdown' : 'text/plain';
      const path = await saveExport(`${baseName(doc.name)}.${kind}`, await fileToBase64(new Blob([body], { type })), null);
      if (path !== null) toast(`Saved ${path}`);
    } catch (error) {
      toastError(error as AppError);
    } finally {
      button.disabled = false;
    }
  }
}

/** "report.final.pdf" → "report.final"; a name without an extension stays as it is. */
export function baseName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}
