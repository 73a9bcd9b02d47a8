// The state of one open chat: its messages as shown, and whether an answer is being generated.
// Views subscribe; the generation runner and the chat view mutate it.
import type { AppError, Chat, Message } from '../../services/types';

/** A message as the page shows it: the backend's, or a local one not (yet) stored. */
export type UiMessage = Message & {
  /** Shown before the backend confirmed it ("started" not yet received). */
  pending?: boolean;
  /** The send failed before the backend took it. */
  notSent?: boolean;
  /** An error the backend did not store on the message (e.g. a regenerate refused up front). */
  localError?: AppError | null;
};

export type LoadingState = { modelId: string; progress: number; stage: string };

export type SessionEvent =
  | { type: 'messages' }
  | { type: 'message'; message: UiMessage }
  | { type: 'token'; messageId: string; text: string }
  | { type: 'loading'; loading: LoadingState | null }
  | { type: 'busy'; busy: boolean };

export class ChatSession {
  messages: UiMessage[];
  busy = false;
  loading: LoadingState | null = null;
  private listeners = new Set<(event: SessionEvent) => void>();

  constructor(public chat: Chat) {
    this.messages = chat.messages.map((m) => ({ ...m }));
  }

  get id(): string {
    return this.chat.id;
  }

  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  setMessages(messages: UiMessage[]): void {
    this.messages = messages;
    this.emit({ type: 'messages' });
  }

  /** Appends a message shown before the backend has it. */
  addPending(message: UiMessage): void {
    this.setMessages([...this.messages.filter((m) => !m.notSent), message]);
  }

  /** Drops `messageId` and everything after it. */
  truncateFrom(messageId: string): void {
    const index = this.messages.findIndex((m) => m.id === messageId);
    if (index >= 0) this.setMessages(this.messages.slice(0, index));
  }

  /** Drops the answer after the last user message (regenerate replaces it). */
  dropLastAnswer(): void {
    const last = this.messages[this.messages.length - 1];
    if (last && last.role === 'assistant') this.setMessages(this.messages.slice(0, -1));
  }

  /** "started": the backend's user message replaces the pending one, the answer follows it. */
  started(user: Message, assistant: Message): void {
    const kept = this.messages.filter((m) => !m.pending && !m.notSent);
    const at = kept.findIndex((m) => m.id === user.id);
    const before = at >= 0 ? kept.slice(0, at) : kept;
    this.setMessages([...before, { ...user }, { ...assistant }]);
  }

  appendToken(messageId: string, text: string): void {
    const message = this.messages.find((m) => m.id === messageId);
    if (!message) return;
    message.text += text;
    this.emit({ type: 'token', messageId, text });
  }

  /** Replaces a message by id (final answer, error status). */
  replace(message: UiMessage): void {
    const index = this.messages.findIndex((m) => m.id === message.id);
    if (index < 0) return;
    this.messages[index] = message;
    this.emit({ type: 'message', message });
  }

  update(messageId: string, patch: Partial<UiMessage>): void {
    const message = this.messages.find((m) => m.id === messageId);
    if (message) this.replace({ ...message, ...patch });
  }

  setLoading(loading: LoadingState | null): void {
    this.loading = loading;
    this.emit({ type: 'loading', loading });
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.emit({ type: 'busy', busy });
  }

  lastAnswerId(): string | null {
    const last = this.messages[this.messages.length - 1];
    return last && last.role === 'assistant' && !last.pending ? last.id : null;
  }
}
