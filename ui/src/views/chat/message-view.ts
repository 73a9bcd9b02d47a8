// One message in the conversation: text (Markdown for answers), images, status, error, stats and
// the actions that belong to it (copy / regenerate on answers, edit & resend on the user's own).
import { h, icon, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { renderMarkdown } from '../../lib/markdown';
import type { ImageRef } from '../../services/types';
import type { UiMessage } from './session';

export type MessageActions = {
  copy(message: UiMessage): Promise<boolean>;
  regenerate(): void;
  editAndResend(message: UiMessage, text: string): void;
  openImage(image: ImageRef): void;
};

export class MessageView {
  readonly el: HTMLElement;
  private message: UiMessage;
  private textEl = h('div', { class: 'msg-text', attrs: { 'data-testid': 'message-text' } });
  private bubble = h('div', { class: 'msg-bubble' });
  private extras = h('div', { class: 'msg-extras' });
  private meta = h('div', { class: 'msg-meta' });
  private editing = false;
  private renderQueued = false;
  private canRegenerate = false;
  private canEdit = false;

  constructor(message: UiMessage, private actions: MessageActions) {
    this.message = message;
    this.el = h('article', { class: `msg msg-${message.role}`, attrs: { 'data-testid': 'message' } });
    this.bubble.appendChild(this.textEl);
    const body = message.role === 'user' ? h('div', { class: 'msg-row' }, this.meta, this.bubble) : this.bubble;
    this.el.append(this.imagesRow(message.images), body, this.extras);
    if (message.role === 'assistant') this.el.append(this.meta);
    this.update(message);
  }

  get id(): string {
    return this.message.id;
  }

  update(message: UiMessage): void {
    const imagesChanged = message.images.map((i) => i.id).join() !== this.message.images.map((i) => i.id).join();
    this.message = message;
    const el = this.el;
    el.dataset.role = message.role;
    el.dataset.status = message.notSent ? 'not-sent' : message.status;
    el.dataset.messageId = message.id;
    el.setAttribute('aria-label', message.role === 'user' ? 'You' : 'Iris');
    el.classList.toggle('is-pending', Boolean(message.pending));
    if (imagesChanged) el.replaceChild(this.imagesRow(message.images), el.firstChild as Node);
    if (!this.editing) this.renderText();
    this.renderExtras();
    this.renderMeta();
  }

  /** A streamed piece was appended to the message text: redraw once per frame. */
  textAppended(): void {
    if (this.renderQueued || this.editing) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderText();
    });
  }

  setControls(opts: { canRegenerate: boolean; canEdit: boolean }): void {
    if (opts.canRegenerate === this.canRegenerate && opts.canEdit === this.canEdit) return;
    this.canRegenerate = opts.canRegenerate;
    this.canEdit = opts.canEdit;
    this.renderMeta();
  }

  private renderText(): void {
    const m = this.message;
    const waiting = m.role === 'assistant' && m.status === 'streaming' && m.text === '';
    this.bubble.classList.toggle('is-typing', waiting);
    if (waiting) {
      this.textEl.replaceChildren(
        h('span', { class: 'typing', attrs: { 'aria-label': 'Writing' } }, h('i'), h('i'), h('i')),
      );
    } else if (m.role === 'assistant') {
      renderMarkdown(this.textEl, m.text);
    } else {
      this.textEl.textContent = m.text;
    }
    this.bubble.hidden = m.role === 'user' && m.text === '';
  }

  private imagesRow(images: ImageRef[]): HTMLElement {
    const row = h('div', { class: 'msg-images' });
    for (const image of images) {
      row.appendChild(
        h(
          'button',
          {
            class: 'thumb',
            attrs: { type: 'button', 'aria-label': `Open image ${image.name}`, title: image.name },
            on: { click: () => this.actions.openImage(image) },
          },
          h('img', { attrs: { src: image.thumb, alt: image.name, width: image.width, height: image.height } }),
        ),
      );
    }
    row.hidden = images.length === 0;
    return row;
  }

  private renderExtras(): void {
    const m = this.message;
    const parts: HTMLElement[] = [];
    if (m.status === 'stopped') {
      parts.push(h('span', { class: 'badge badge-muted', text: 'Stopped', attrs: { 'data-testid': 'message-stopped' } }));
    }
    if (m.notSent) parts.push(h('span', { class: 'badge badge-danger', text: 'Not sent' }));
    const error = m.error ?? m.localError ?? null;
    if (error) parts.push(errorView(error, { testid: 'message-error' }));
    this.extras.replaceChildren(...parts);
    this.extras.hidden = parts.length === 0;
  }

  private renderMeta(): void {
    const m = this.message;
    const items: (HTMLElement | null)[] = [];
    if (m.stats) {
      const s = m.stats;
      items.push(
        h('span', {
          class: 'msg-stats',
          text: `${s.tokens} tokens · ${s.tokensPerSecond.toFixed(1)} tok/s`,
          attrs: {
            'data-testid': 'message-stats',
            title: `Prompt ${s.promptTokens} tokens (${s.imageTokens} from images)`,
          },
        }),
      );
      const forgotten = s.forgottenExchanges ?? 0;
      if (forgotten > 0) {
        const exchanges = forgotten === 1 ? 'exchange' : 'exchanges';
        items.push(
          h('span', {
            class: 'badge badge-muted',
            text: `${forgotten} earlier ${exchanges} left out`,
            attrs: {
              'data-testid': 'message-forgotten',
              title:
                `This chat no longer fits the model's context, so the words of its first ${forgotten} ${exchanges} ` +
                'were left out of this answer (their images were kept). Start a new chat to give the model everything again.',
            },
          }),
        );
      }
    }
    const busyHere = m.status === 'streaming' || m.pending;
    if (m.role === 'assistant' && !busyHere && m.text !== '') {
      items.push(this.copyButton());
    }
    if (m.role === 'assistant' && this.canRegenerate && !busyHere) {
      items.push(iconButton('refresh', 'Regenerate', () => this.actions.regenerate(), { class: 'btn-ghost btn-sm' }));
    }
    if (m.role === 'user' && this.canEdit && !m.pending && !this.editing) {
      items.push(iconButton('pencil', 'Edit and resend', () => this.startEdit(), { class: 'btn-ghost btn-sm' }));
    }
    this.meta.replaceChildren(...items.filter((i): i is HTMLElement => i !== null));
    this.meta.hidden = this.meta.childElementCount === 0;
  }

  private copyButton(): HTMLButtonElement {
    const button = iconButton('copy', 'Copy', async () => {
      const ok = await this.actions.copy(this.message);
      button.replaceChildren(icon(ok ? 'check' : 'alert'));
      button.setAttribute('aria-label', ok ? 'Copied' : 'Copy failed');
      button.title = ok ? 'Copied' : 'Copy failed';
      window.setTimeout(() => {
        button.replaceChildren(icon('copy'));
        button.setAttribute('aria-label', 'Copy');
        button.title = 'Copy';
      }, 1500);
    }, { class: 'btn-ghost btn-sm' });
    return button;
  }

  private startEdit(): void {
    this.editing = true;
    const editor = h('textarea', {
      class: 'msg-editor',
      attrs: { 'aria-label': 'Edit message', rows: Math.min(8, this.message.text.split('\n').length + 1) },
    });
    editor.value = this.message.text;
    const submit = () => {
      const text = editor.value.trim();
      if (text === '' && this.message.images.length === 0) return;
      this.stopEdit();
      this.actions.editAndResend(this.message, text);
    };
    editor.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        this.stopEdit();
      }
    });
    const form = h(
      'div',
      { class: 'msg-edit' },
      editor,
      h(
        'div',
        { class: 'msg-edit-actions' },
        h('button', { class: 'btn btn-sm', text: 'Cancel', attrs: { type: 'button' }, on: { click: () => this.stopEdit() } }),
        h('button', { class: 'btn btn-primary btn-sm', text: 'Save & send', attrs: { type: 'button' }, on: { click: submit } }),
      ),
    );
    this.bubble.replaceChildren(form);
    this.bubble.hidden = false;
    this.bubble.classList.add('is-editing');
    this.renderMeta();
    editor.focus();
    editor.setSelectionRange(editor.value.length, editor.value.length);
  }

  private stopEdit(): void {
    this.editing = false;
    this.bubble.classList.remove('is-editing');
    this.bubble.replaceChildren(this.textEl);
    this.renderText();
    this.renderMeta();
  }
}
