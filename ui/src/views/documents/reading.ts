// One read of an open document, folded from its OcrEvents: each page's status and text, and the
// run's progress. Pure state; the views draw it.
import type { AppError, DocumentResult, OcrEvent } from '../../services/types';

export type PageStatus = 'idle' | 'waiting' | 'reading' | 'done' | 'stopped' | 'error';

export type PageState = {
  status: PageStatus;
  /** Raw text streamed so far (the engine's pieces, as they came). */
  raw: string;
  /** The page's Markdown once it is done (or stopped). */
  markdown: string | null;
  tokens: number;
  error: AppError | null;
};

export type RunProgress = {
  state: 'idle' | 'loading' | 'reading' | 'finished' | 'stopped' | 'failed';
  /** Position (0-based) of the page being read in this run, and the run's page count. */
  index: number;
  total: number;
  loading: { progress: number; stage: string } | null;
};

export class Reading {
  pages: PageState[];
  progress: RunProgress = { state: 'idle', index: 0, total: 0, loading: null };
  result: DocumentResult | null = null;

  constructor(pageCount: number) {
    this.pages = Array.from({ length: pageCount }, () => blank('idle'));
  }

  /** A new run over `chosen` (0-based pages): those wait, the others are not read. */
  begin(chosen: number[]): void {
    const set = new Set(chosen);
    this.pages = this.pages.map((_, page) => blank(set.has(page) ? 'waiting' : 'idle'));
    this.progress = { state: 'loading', index: 0, total: chosen.length, loading: null };
    this.result = null;
  }

  /** Applies one event; returns the page it touched (null for model loading). */
  apply(event: OcrEvent): number | null {
    if (event.kind === 'loading') {
      this.progress = { ...this.progress, state: 'loading', loading: { progress: event.progress, stage: event.stage } };
      return null;
    }
    const page = this.pages[event.page];
    if (!page) return null;
    switch (event.kind) {
      case 'pageStarted':
        Object.assign(page, blank('reading'));
        this.progress = { state: 'reading', index: event.index, total: event.total, loading: null };
        break;
      case 'token':
        page.raw += event.text;
        page.tokens += 1;
        break;
      case 'pageDone':
        Object.assign(page, { status: event.stopped ? 'stopped' : 'done', markdown: event.markdown, tokens: event.tokens });
        break;
      case 'pageError':
        Object.assign(page, { status: 'error', error: event.error });
        break;
    }
    // The shell loads the model inside the first page's read, after its pageStarted: the
    // page's first text (or its end) means the load is over.
    if (this.progress.state === 'loading' && event.kind !== 'pageStarted') {
      this.progress = { ...this.progress, state: 'reading', loading: null };
    }
    return event.page;
  }

  /** The run resolved: pages that never started stay unread; a page cut short is stopped. */
  finish(result: DocumentResult): void {
    this.result = result;
    for (const page of this.pages) {
      if (page.status === 'waiting') page.status = 'idle';
      if (page.status === 'reading') page.status = 'stopped';
    }
    this.progress = { ...this.progress, state: result.cancelled ? 'stopped' : 'finished', loading: null };
  }

  /** The run was refused or failed as a whole; what was read stays shown. */
  fail(): void {
    for (const page of this.pages) {
      if (page.status === 'waiting') page.status = 'idle';
      if (page.status === 'reading') page.status = 'stopped';
    }
    this.progress = { ...this.progress, state: 'failed', loading: null };
  }

  get running(): boolean {
    return this.progress.state === 'loading' || this.progress.state === 'reading';
  }

  /** Pages that ended (done, stopped, failed) in this run. */
  get settled(): number {
    return this.pages.filter((p) => p.status === 'done' || p.status === 'stopped' || p.status === 'error').length;
  }
}

function blank(status: PageStatus): PageState {
  return { status, raw: '', markdown: null, tokens: 0, error: null };
}
