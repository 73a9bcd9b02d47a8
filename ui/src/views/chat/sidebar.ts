// The chat list: newest first, New chat, select, delete.
import { h, icon, iconButton } from '../../lib/dom';
import { formatWhen } from '../../lib/format';
import type { ChatSummary } from '../../services/types';

export type SidebarHandlers = {
  select(id: string): void;
  create(): void;
  remove(chat: ChatSummary): void;
};

export class Sidebar {
  readonly el: HTMLElement;
  private list = h('ul', { class: 'chat-list', attrs: { 'aria-label': 'Chats' } });
  private newButton: HTMLButtonElement;

  constructor(private handlers: SidebarHandlers) {
    this.newButton = h('button', { class: 'btn btn-primary btn-block', attrs: { type: 'button' }, on: { click: () => this.handlers.create() } },
      icon('plus'), h('span', { text: 'New chat' }));
    this.el = h('aside', { class: 'sidebar', attrs: { 'aria-label': 'Chat list' } },
      h('div', { class: 'sidebar-head' }, this.newButton), this.list);
  }

  render(chats: ChatSummary[], currentId: string | null): void {
    const sorted = [...chats].sort((a, b) => b.updatedAt - a.updatedAt);
    if (sorted.length === 0) {
      this.list.replaceChildren(h('li', { class: 'chat-list-empty muted', text: 'No chats yet' }));
      return;
    }
    this.list.replaceChildren(...sorted.map((chat) => this.item(chat, chat.id === currentId)));
  }

  private item(chat: ChatSummary, current: boolean): HTMLElement {
    const title = chat.title.trim() || 'New chat';
    return h('li', { class: `chat-item${current ? ' is-current' : ''}`, attrs: { 'data-testid': 'chat-item', 'data-chat-id': chat.id } },
      h('button', {
        class: 'chat-open',
        attrs: { type: 'button', 'aria-current': current ? 'true' : null, 'aria-label': title, title },
        on: { click: () => this.handlers.select(chat.id) },
      },
      h('span', { class: 'chat-title', text: title }),
      h('span', { class: 'chat-when muted', text: formatWhen(chat.updatedAt) })),
      iconButton('trash', `Delete chat ${title}`, () => this.handlers.remove(chat), { class: 'btn-ghost btn-sm chat-delete' }),
    );
  }
}
