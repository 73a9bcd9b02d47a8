// Modal confirmation built on <dialog> (window.confirm is not available in the Tauri webview).
import { h } from './dom';

export type ConfirmOptions = { title: string; body: string; confirm: string; danger?: boolean };

export function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = h('dialog', { class: 'modal', attrs: { 'aria-labelledby': titleId } });
    const finish = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const cancel = h('button', { class: 'btn', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => finish(false) } });
    const ok = h('button', {
      class: `btn ${opts.danger ? 'btn-danger' : 'btn-primary'}`,
      text: opts.confirm,
      attrs: { type: 'button' },
      on: { click: () => finish(true) },
    });
    dialog.append(
      h('h2', { class: 'modal-title', text: opts.title, attrs: { id: titleId } }),
      h('p', { class: 'modal-body', text: opts.body }),
      h('div', { class: 'modal-actions' }, cancel, ok),
    );
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** True while any modal dialog is open (Esc then belongs to it). */
export function modalOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}
