// An AppError shown in place: the message in words, the details behind a disclosure.
import type { AppError } from '../services/types';
import { h, icon } from './dom';

export function errorView(error: AppError, opts: { testid?: string; role?: 'alert' | null } = {}): HTMLElement {
  return h(
    'div',
    { class: 'error-box', attrs: { role: opts.role === null ? null : 'alert', 'data-testid': opts.testid ?? 'error', 'data-code': error.code } },
    h('div', { class: 'error-line' }, icon('alert'), h('span', { class: 'error-message', text: error.message })),
    error.details
      ? h('details', { class: 'error-details' }, h('summary', { text: 'Details' }), h('pre', { text: error.details }))
      : null,
  );
}
