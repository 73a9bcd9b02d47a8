// Documents (docs/documents.md): open a PDF or page image, render its pages, read them with a
// model page by page (streamed), cancel; exports go through `save_export` (docs/teaching.md).
import { call, channel } from './ipc';
import type { DocumentInfo, DocumentResult, OcrEvent } from './types';

/** `path` null: the native dialog asks (PDFs and images); resolves null when it is cancelled. */
export const openDocument = (path: string | null) => call<DocumentInfo | null>('open_document', { path });

/** Page `page` (0-based) rendered to fit `maxSide` pixels, as a PNG `data:` URL. */
export const documentPage = (documentId: string, page: number, maxSide: number) =>
  call<string>('document_page', { documentId, page, maxSide });

/** Reads `pages` ("1-5", "2,4-6"; null: all) with `modelId`; `onEvent` sees every page stream. */
export function readDocument(documentId: string, modelId: string, pages: string | null, onEvent: (event: OcrEvent) => void) {
  return call<DocumentResult>('read_document', { documentId, modelId, pages, onEvent: channel(onEvent) });
}

/** The running read stops after the token in flight; pages done are kept. */
export const cancelReading = (documentId: string) => call<null>('cancel_reading', { documentId });

export type PageSelection = { spec: string | null; pages: number[] } | { problem: string };

/**
 * The page field as the engine reads it (models/src/document/page_range.rs): 1-based pages and
 * inclusive ranges separated by commas ("3", "1-5", "2,4-6", "10-" to the end). Empty: every
 * page (`spec` null). `pages` are the 0-based pages chosen, in document order.
 */
export function parsePages(input: string, pageCount: number): PageSelection {
  const spec = input.replace(/\s+/g, '');
  if (spec === '') return { spec: null, pages: Array.from({ length: pageCount }, (_, i) => i) };
  const chosen = new Set<number>();
  const number = (text: string): number | string => {
    if (text === '') return 'A range is missing its first page.';
    if (!/^\d+$/.test(text)) return `“${text}” is not a page number. Write pages like 3, ranges like 1-5, separated by commas.`;
    const page = Number(text);
    return page === 0 ? 'Pages are numbered from 1, so page 0 does not exist.' : page;
  };
  for (const part of spec.split(',')) {
    if (part === '') return { problem: 'There is an empty part between commas.' };
    const dash = part.indexOf('-');
    const first = number(dash < 0 ? part : part.slice(0, dash));
    if (typeof first === 'string') return { problem: first };
    const rest = dash < 0 ? String(first) : part.slice(dash + 1);
    const last = rest === '' ? Math.max(pageCount, first) : number(rest);
    if (typeof last === 'string') return { problem: last };
    if (last < first) return { problem: `The range ${first}-${last} runs backwards; write ${last}-${first}.` };
    if (last > pageCount) {
      return { problem: `Page ${last} does not exist: the document has ${pageCount} page${pageCount === 1 ? '' : 's'}.` };
    }
    for (let page = first; page <= last; page++) chosen.add(page - 1);
  }
  return { spec, pages: [...chosen].sort((a, b) => a - b) };
}
