// The left column of "Documents": one row per page (thumbnail, number, status), kept in place
// and updated as the run's events come in.
import { h, icon } from '../../lib/dom';
import type { PageState } from './reading';

type Row = { el: HTMLLIElement; button: HTMLButtonElement; thumb: HTMLElement; status: HTMLElement };

export class PageList {
  readonly el = h('ol', { class: 'page-list', attrs: { 'aria-label': 'Pages' } });
  private rows: Row[] = [];

  constructor(private onSelect: (page: number) => void) {}

  /** New rows for a document of `count` pages (thumbnails come later with `setThumb`). */
  reset(count: number): void {
    this.rows = Array.from({ length: count }, (_, page) => {
      const thumb = h('span', { class: 'page-thumb is-empty', attrs: { 'aria-hidden': 'true' } });
      const status = h('span', { class: 'page-status', attrs: { 'data-testid': 'page-status' } });
      const button = h('button', {
        class: 'page-row',
        attrs: { type: 'button', 'data-testid': 'page-row', 'data-page': page, 'aria-label': `Page ${page + 1}` },
        on: { click: () => this.onSelect(page) },
      }, thumb, h('span', { class: 'page-info' }, h('span', { class: 'page-name', text: `Page ${page + 1}` }), status));
      return { el: h('li', {}, button), button, thumb, status };
    });
    this.el.replaceChildren(...this.rows.map((r) => r.el));
  }

  setThumb(page: number, src: string): void {
    const row = this.rows[page];
    if (!row) return;
    row.thumb.classList.remove('is-empty');
    row.thumb.replaceChildren(h('img', { attrs: { src, alt: '', 'data-testid': 'page-thumb' } }));
  }

  select(page: number | null, scroll = false): void {
    this.rows.forEach((row, i) => {
      if (i === page) row.button.setAttribute('aria-current', 'true');
      else row.button.removeAttribute('aria-current');
    });
    if (scroll && page !== null) this.rows[page]?.el.scrollIntoView({ block: 'nearest' });
  }

  update(page: number, state: PageState): void {
    const row = this.rows[page];
    if (!row) return;
    row.button.dataset.status = state.status;
    row.status.className = `page-status status-${state.status}`;
    row.status.title = state.error?.message ?? '';
    row.status.replaceChildren(...statusParts(state));
  }
}

function statusParts(state: PageState): (Node | string)[] {
  switch (state.status) {
    case 'idle': return ['Not read'];
    case 'waiting': return ['Waiting'];
    case 'reading': return [h('span', { class: 'spinner spinner-xs', attrs: { 'aria-hidden': 'true' } }), `Reading… ${tokens(state.tokens)}`];
    case 'done': return [icon('check'), tokens(state.tokens)];
    case 'stopped': return [`Stopped · ${tokens(state.tokens)}`];
    case 'error': return [icon('alert'), h('span', { class: 'page-error-text', text: state.error?.message ?? 'This page failed.' })];
  }
}

export function tokens(n: number): string {
  return `${n.toLocaleString('en-US')} token${n === 1 ? '' : 's'}`;
}
