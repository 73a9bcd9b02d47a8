// The scrolling message list of the open chat, with model-loading progress and empty states.
import { h, icon } from '../../lib/dom';
import { formatPercent } from '../../lib/format';
import { MessageView, type MessageActions } from './message-view';
import type { ChatSession, LoadingState, SessionEvent } from './session';

export type EmptyKind = 'no-model' | 'welcome' | 'demo';

export class Conversation {
  readonly el = h('section', { class: 'conversation', attrs: { 'aria-label': 'Conversation' } });
  private list = h('div', { class: 'messages', attrs: { role: 'log', 'aria-label': 'Messages', 'aria-live': 'off' } });
  private loadingEl = h('div', { class: 'loading-card', attrs: { 'data-testid': 'model-loading' } });
  private emptyEl = h('div', { class: 'empty-state' });
  private views = new Map<string, MessageView>();
  private session: ChatSession | null = null;
  private unsubscribe: (() => void) | null = null;
  private emptyKind: EmptyKind = 'welcome';
  private stickToBottom = true;

  constructor(
    private actions: MessageActions,
    private goToModels: () => void,
    /** Shown instead of the welcome while the chat is on the built-in demo model. */
    private demoPanel: HTMLElement,
  ) {
    this.loadingEl.hidden = true;
    this.el.append(this.emptyEl, this.list, this.loadingEl);
    this.el.addEventListener('scroll', () => {
      const gap = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight;
      this.stickToBottom = gap < 48;
    });
  }

  show(session: ChatSession | null): void {
    this.unsubscribe?.();
    this.session = session;
    this.unsubscribe = session ? session.subscribe((e) => this.onEvent(e)) : null;
    this.views.clear();
    this.list.replaceChildren();
    this.renderMessages();
    this.renderLoading(session?.loading ?? null);
    this.stickToBottom = true;
    this.scrollToBottom(true);
  }

  /** What to show when there is nothing to read: a pointer to the Models page, a welcome, or
   * the built-in model's samples. */
  setEmptyKind(kind: EmptyKind): void {
    this.emptyKind = kind;
    this.renderEmpty();
  }

  private onEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'messages':
        this.renderMessages();
        break;
      case 'message':
        this.views.get(event.message.id)?.update(event.message);
        break;
      case 'token':
        this.views.get(event.messageId)?.textAppended();
        break;
      case 'loading':
        this.renderLoading(event.loading);
        break;
      case 'busy':
        this.list.setAttribute('aria-busy', String(event.busy));
        this.refreshControls();
        break;
    }
    this.scrollToBottom(false);
  }

  private renderMessages(): void {
    const messages = this.session?.messages ?? [];
    const next = new Map<string, MessageView>();
    const nodes: HTMLElement[] = [];
    for (const message of messages) {
      let view = this.views.get(message.id);
      if (view) view.update(message);
      else view = new MessageView(message, this.actions);
      next.set(message.id, view);
      nodes.push(view.el);
    }
    this.views = next;
    this.list.replaceChildren(...nodes);
    this.refreshControls();
    this.renderEmpty();
  }

  private refreshControls(): void {
    const busy = this.session?.busy ?? false;
    const lastAnswer = this.session?.lastAnswerId() ?? null;
    for (const [id, view] of this.views) {
      view.setControls({ canRegenerate: !busy && id === lastAnswer, canEdit: !busy });
    }
  }

  private renderEmpty(): void {
    const hasMessages = (this.session?.messages.length ?? 0) > 0;
    this.emptyEl.hidden = hasMessages;
    if (hasMessages) return;
    this.emptyEl.classList.toggle('is-demo', this.emptyKind === 'demo');
    if (this.emptyKind === 'demo') {
      this.emptyEl.replaceChildren(this.demoPanel);
      this.emptyEl.dataset.testid = 'empty-demo';
    } else if (this.emptyKind === 'no-model') {
      this.emptyEl.replaceChildren(
        h('div', { class: 'empty-icon' }, icon('models')),
        h('h2', { text: 'No model ready yet' }),
        h('p', { text: 'Iris needs a vision-language model on this computer. Import a model folder or download one from Hugging Face.' }),
        h('button', { class: 'btn btn-primary', text: 'Go to Models', attrs: { type: 'button' }, on: { click: this.goToModels } }),
      );
      this.emptyEl.dataset.testid = 'empty-no-model';
    } else {
      this.emptyEl.replaceChildren(
        h('div', { class: 'empty-icon' }, icon('iris')),
        h('h2', { text: 'Ask about an image' }),
        h('p', { text: 'Attach a photo, screenshot or scan — drop it on the window, paste it, or use the paperclip — and ask what you want to know. Everything stays on this computer.' }),
      );
      this.emptyEl.dataset.testid = 'empty-welcome';
    }
  }

  private renderLoading(loading: LoadingState | null): void {
    this.loadingEl.hidden = loading === null;
    if (!loading) return;
    const bar = h('div', {
      class: 'progress',
      attrs: {
        role: 'progressbar',
        'aria-label': 'Loading model',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': Math.round(loading.progress * 100),
      },
    }, h('div', { class: 'progress-fill' }));
    (bar.firstChild as HTMLElement).style.width = formatPercent(loading.progress);
    this.loadingEl.replaceChildren(
      h('div', { class: 'loading-head' },
        h('span', { class: 'loading-title', text: 'Loading model' }),
        h('span', { class: 'muted', text: formatPercent(loading.progress) })),
      bar,
      h('div', { class: 'loading-stage muted', text: loading.stage, attrs: { 'data-testid': 'model-loading-stage' } }),
    );
  }

  private scrollToBottom(force: boolean): void {
    if (!force && !this.stickToBottom) return;
    requestAnimationFrame(() => {
      this.el.scrollTop = this.el.scrollHeight;
    });
  }
}
