// The Chat page: chat list, the open conversation with its model, and the composer.
import { copyText } from '../../lib/clipboard';
import { confirmDialog, modalOpen } from '../../lib/dialog';
import { h, icon } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { toastError } from '../../lib/toast';
import * as chats from '../../services/chat';
import { demoSamples, isBuiltin } from '../../services/demo';
import { onDragDrop } from '../../services/images';
import { listModels } from '../../services/models';
import type { AppError, ChatSummary, ImageRef, ModelEntry } from '../../services/types';
import type { Navigator, View } from '../view';
import { Composer } from './composer';
import { Conversation, type EmptyKind } from './conversation';
import { DemoPanel } from './demo-panel';
import { runGeneration, type GenerationRequest } from './generation';
import { openLightbox } from './lightbox';
import type { MessageActions } from './message-view';
import { ModelPicker } from './model-picker';
import { ChatSession } from './session';
import { Sidebar } from './sidebar';

export class ChatView implements View {
  readonly id = 'chat';
  readonly el: HTMLElement;
  private sidebar: Sidebar;
  private conversation: Conversation;
  private composer: Composer;
  private picker: ModelPicker;
  private demo: DemoPanel;
  private titleEl = h('h1', { class: 'chat-heading', text: 'New chat' });
  private headerError = h('div', { class: 'header-error' });
  private overlay = h('div', { class: 'drop-overlay', attrs: { 'data-testid': 'drop-overlay', 'aria-hidden': 'true' } },
    h('div', { class: 'drop-card' }, icon('image'), h('span', { text: 'Drop images to attach' })));
  private summaries: ChatSummary[] = [];
  private models: ModelEntry[] = [];
  private sessions = new Map<string, ChatSession>();
  private current: ChatSession | null = null;
  private unsubscribe: (() => void) | null = null;
  private active = false;
  /** The chat (id, '' for none open) whose empty state last fetched the sample scenes. */
  private samplesFor: string | null = null;
  /** The model picked while no chat is open: the next new chat gets it. */
  private draftModel: string | null = null;

  constructor(private nav: Navigator) {
    const actions: MessageActions = {
      copy: (message) => copyText(message.text),
      regenerate: () => void this.generate({ kind: 'regenerate' }),
      editAndResend: (message, text) =>
        void this.generate({ kind: 'edit', messageId: message.id, text, images: message.images }),
      openImage: (image) => void openLightbox(image),
    };
    this.sidebar = new Sidebar({
      select: (id) => void this.select(id),
      create: () => void this.createChat(),
      remove: (chat) => void this.remove(chat),
    });
    this.demo = new DemoPanel({
      attach: (sample) => this.composer.attach(sample.image, (staged) => this.demo.isSample(staged.id)),
      ask: (question) => this.composer.ask(question),
      goToModels: () => this.nav.navigate('models'),
    });
    this.conversation = new Conversation(actions, () => this.nav.navigate('models'), this.demo.el);
    this.composer = new Composer({
      send: (text, images) => void this.send(text, images),
      stop: () => void this.stop(),
      stagedChanged: (images) => this.demo.setStaged(images.map((image) => image.id)),
    });
    this.picker = new ModelPicker((modelId) => void this.changeModel(modelId));
    this.overlay.hidden = true;
    this.headerError.hidden = true;
    this.el = h('div', { class: 'view chat-view' },
      this.sidebar.el,
      h('main', { class: 'chat-main', attrs: { 'aria-label': 'Chat' } },
        h('header', { class: 'chat-header' }, this.titleEl, this.picker.el),
        this.headerError,
        this.conversation.el,
        this.composer.el,
        this.overlay));
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.active && this.current?.busy && !modalOpen()) {
        event.preventDefault();
        void this.stop();
      }
    });
  }

  async start(): Promise<void> {
    void onDragDrop((event) => {
      const page = this.nav.currentView();
      if (page && page !== this && page.takesDrops) return; // that page stages the files itself
      if (event.type === 'enter' || event.type === 'over') this.overlay.hidden = false;
      else this.overlay.hidden = true;
      if (event.type === 'drop') {
        if (!this.active) this.nav.navigate('chat');
        void this.composer.stagePaths(event.paths);
      }
    }).catch((error) => toastError(error as AppError));
    await Promise.all([this.loadModels(), this.loadChats()]);
    const first = this.sortedSummaries()[0];
    if (first) await this.select(first.id);
    else this.show(null);
  }

  activate(): void {
    this.active = true;
    void this.loadModels();
    this.composer.focus();
  }

  deactivate(): void {
    this.active = false;
    this.overlay.hidden = true;
  }

  private sortedSummaries(): ChatSummary[] {
    return [...this.summaries].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  private async loadChats(): Promise<void> {
    try {
      this.summaries = await chats.listChats();
    } catch (error) {
      toastError(error as AppError);
    }
    this.sidebar.render(this.summaries, this.current?.id ?? null);
  }

  private async loadModels(): Promise<void> {
    try {
      this.models = await listModels();
    } catch (error) {
      toastError(error as AppError);
    }
    this.composer.setEnabled(this.models.some((m) => m.runnable));
    this.refreshEmpty();
    this.picker.render(this.models, this.current?.chat.modelId ?? this.defaultModel());
  }

  /** The chosen model when it can run; else the built-in demo model; else any that runs. */
  private defaultModel(): string | null {
    const wanted = this.current ? this.current.chat.modelId : this.draftModel;
    const currentModel = this.models.find((m) => m.id === wanted && m.runnable);
    const builtin = this.models.find((m) => isBuiltin(m) && m.runnable);
    return currentModel?.id ?? builtin?.id ?? this.models.find((m) => m.runnable)?.id ?? null;
  }

  /** The empty chat's content: the Models page when nothing runs, the sample scenes when the
   * chat is on the built-in demo model, else the welcome. */
  private refreshEmpty(): void {
    const modelId = this.current?.chat.modelId ?? this.defaultModel();
    let kind: EmptyKind = 'welcome';
    if (!this.models.some((m) => m.runnable)) kind = 'no-model';
    else if (isBuiltin(this.models.find((m) => m.id === modelId))) kind = 'demo';
    this.conversation.setEmptyKind(kind);
    const key = this.current?.id ?? '';
    if (kind === 'demo' && (this.current?.messages.length ?? 0) === 0 && this.samplesFor !== key) {
      this.samplesFor = key;
      void this.loadSamples();
    }
  }

  /** The sample scenes, once per empty chat shown (the shell stages them again when an
   * earlier staging is gone, e.g. with a deleted chat). */
  private async loadSamples(): Promise<void> {
    try {
      this.demo.setSamples(await demoSamples());
    } catch (error) {
      this.samplesFor = null;
      toastError(error as AppError);
    }
  }

  private async select(id: string): Promise<void> {
    let session = this.sessions.get(id);
    if (!session || !session.busy) {
      try {
        const chat = await chats.getChat(id);
        session = new ChatSession(chat);
        this.sessions.set(id, session);
      } catch (error) {
        toastError(error as AppError);
        return;
      }
    }
    this.show(session);
  }

  private show(session: ChatSession | null): void {
    this.unsubscribe?.();
    this.current = session;
    this.unsubscribe = session
      ? session.subscribe((event) => {
          if (event.type === 'busy') this.composer.setBusy(event.busy);
        })
      : null;
    this.composer.setBusy(session?.busy ?? false);
    this.titleEl.textContent = session?.chat.title.trim() || 'New chat';
    this.showHeaderError(null);
    this.conversation.show(session);
    this.refreshEmpty();
    this.picker.render(this.models, session ? session.chat.modelId : this.defaultModel());
    this.sidebar.render(this.summaries, session?.id ?? null);
  }

  private async createChat(): Promise<ChatSession | null> {
    try {
      const chat = await chats.createChat(this.defaultModel());
      const session = new ChatSession(chat);
      this.sessions.set(chat.id, session);
      this.summaries = [chat, ...this.summaries.filter((s) => s.id !== chat.id)];
      this.show(session);
      this.composer.focus();
      return session;
    } catch (error) {
      toastError(error as AppError);
      return null;
    }
  }

  private async remove(chat: ChatSummary): Promise<void> {
    const ok = await confirmDialog({
      title: 'Delete this chat?',
      body: `“${chat.title || 'New chat'}” and its images will be removed from this computer.`,
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      await chats.deleteChat(chat.id);
    } catch (error) {
      toastError(error as AppError);
      return;
    }
    this.sessions.delete(chat.id);
    this.summaries = this.summaries.filter((s) => s.id !== chat.id);
    if (this.current?.id === chat.id) {
      const next = this.sortedSummaries()[0];
      if (next) await this.select(next.id);
      else this.show(null);
    } else {
      this.sidebar.render(this.summaries, this.current?.id ?? null);
    }
  }

  private async changeModel(modelId: string): Promise<void> {
    this.draftModel = modelId;
    if (!this.current) {
      this.refreshEmpty();
      return;
    }
    const session = this.current;
    try {
      const summary = await chats.setChatModel(session.id, modelId);
      session.chat = { ...session.chat, ...summary };
      this.updateSummary(summary);
      this.showHeaderError(null);
      if (this.current === session) this.refreshEmpty();
    } catch (error) {
      this.showHeaderError(error as AppError);
      this.picker.render(this.models, session.chat.modelId);
    }
  }

  private async send(text: string, images: ImageRef[]): Promise<void> {
    let session = this.current;
    if (!session) session = await this.createChat();
    if (!session) {
      this.composer.restore(text, images);
      return;
    }
    if (!session.chat.modelId) {
      const model = this.defaultModel();
      if (model) await this.changeModel(model);
    }
    const outcome = await this.generate({ kind: 'send', text, images }, session);
    if (outcome && !outcome.ok && !outcome.accepted && this.current === session) this.composer.restore(text, images);
  }

  private async generate(request: GenerationRequest, session: ChatSession | null = this.current) {
    if (!session || session.busy) return null;
    const outcome = await runGeneration(session, request);
    await this.refreshSummary(session);
    return outcome;
  }

  private async stop(): Promise<void> {
    const session = this.current;
    if (!session?.busy) return;
    try {
      await chats.stopGeneration(session.id);
    } catch (error) {
      toastError(error as AppError);
    }
  }

  /** Title, order and counts change as messages arrive: re-read the list. */
  private async refreshSummary(session: ChatSession): Promise<void> {
    try {
      this.summaries = await chats.listChats();
    } catch {
      return; // the list stays as it was; the conversation itself is up to date
    }
    const summary = this.summaries.find((s) => s.id === session.id);
    if (summary) {
      session.chat = { ...session.chat, ...summary };
      if (this.current === session) this.titleEl.textContent = summary.title.trim() || 'New chat';
    }
    this.sidebar.render(this.summaries, this.current?.id ?? null);
  }

  private updateSummary(summary: ChatSummary): void {
    this.summaries = this.summaries.map((s) => (s.id === summary.id ? { ...s, ...summary } : s));
    this.sidebar.render(this.summaries, this.current?.id ?? null);
  }

  private showHeaderError(error: AppError | null): void {
    this.headerError.hidden = error === null;
    this.headerError.replaceChildren(...(error ? [errorView(error, { testid: 'model-select-error' })] : []));
  }
}
