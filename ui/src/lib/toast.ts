// App-wide notices (errors that belong to no single control).
import type { AppError } from '../services/types';
import { h, iconButton } from './dom';

let region: HTMLElement | null = null;

function host(): HTMLElement {
  if (!region) {
    region = h('div', { class: 'toasts', attrs: { role: 'region', 'aria-label': 'Notifications' } });
    document.body.appendChild(region);
  }
  return region;
}

export function toast(text: string, kind: 'info' | 'error' = 'info', details: string | null = null): void {
  const item = h(
    'div',
    { class: `toast toast-${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' } },
    h('div', { class: 'toast-body' }, h('span', { text }), details ? h('small', { class: 'muted', text: details }) : null),
  );
  const close = iconButton('close', 'Dismiss', () => item.remove());
  item.appendChild(close);
  host().appendChild(item);
  window.setTimeout(() => item.remove(), kind === 'error' ? 8000 : 3000);
}

export function toastError(error: AppError): void {
  toast(error.message, 'error', error.details);
}
