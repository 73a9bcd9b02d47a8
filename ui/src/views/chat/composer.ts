// The message box: text, staged images (attach / paste / drop), send and stop.
import { h, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import * as images from '../../services/images';
import type { AppError, ImageRef } from '../../services/types';

export type ComposerHandlers = {
  send(text: string, images: ImageRef[]): void;
  stop(): void;
  /** The staged images changed (added, removed, sent). */
  stagedChanged?(images: ImageRef[]): void;
};

export type ImageApi = Pick<typeof images, 'pickImages' | 'addImageBytes' | 'addImageFiles'>;

export class Composer {
  readonly el: HTMLElement;
  private input = h('textarea', {
    class: 'composer-input',
    attrs: { rows: 1, 'aria-label': 'Message', placeholder: 'Ask about an image…', 'aria-describedby': 'composer-hint' },
  });
  private chips = h('ul', { class: 'chips', attrs: { 'aria-label': 'Attached images' } });
  private errorEl = h('div', { class: 'composer-error', attrs: { 'data-testid': 'composer-error' } });
  private sendButton: HTMLButtonElement;
  private stopButton: HTMLButtonElement;
  private attachButton: HTMLButtonElement;
  private staged: ImageRef[] = [];
  private busy = false;
  private enabled = true;
  private stagingCount = 0;

  constructor(
    private handlers: ComposerHandlers,
    private api: ImageApi = images,
  ) {
    this.attachButton = iconButton('paperclip', 'Attach images', () => void this.pick(), { class: 'btn-ghost' });
    this.sendButton = iconButton('send', 'Send', () => this.submit(), { class: 'btn-primary btn-round' });
    this.stopButton = iconButton('stop', 'Stop', () => this.handlers.stop(), { class: 'btn-stop btn-round' });
    this.stopButton.hidden = true;
    this.errorEl.hidden = true;
    this.chips.hidden = true;
    this.el = h(
      'form',
      { class: 'composer', attrs: { 'aria-label': 'Compose', novalidate: true } },
      this.errorEl,
      h('div', { class: 'composer-box' },
        this.chips,
        h('div', { class: 'composer-row' }, this.attachButton, this.input, this.sendButton, this.stopButton)),
      h('div', { class: 'composer-hint', attrs: { id: 'composer-hint' } },
        'Enter to send · Shift+Enter for a new line · Esc to stop'),
    );
    this.el.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (event) => this.onKey(event));
    this.input.addEventListener('input', () => this.autosize());
    this.input.addEventListener('paste', (event) => this.onPaste(event));
  }

  focus(): void {
    this.input.focus();
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
  }

  /** Disabled when no model can run; the conversation says why. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.input.disabled = !enabled;
    this.attachButton.disabled = !enabled;
    this.sendButton.disabled = !enabled;
  }

  /** Puts a refused message back so it can be sent again. */
  restore(text: string, imgs: ImageRef[]): void {
    if (this.input.value.trim() === '') this.input.value = text;
    for (const image of imgs) if (!this.staged.some((s) => s.id === image.id)) this.staged.push(image);
    this.renderChips();
    this.autosize();
  }

  /** Attaches an image that is already staged (a built-in sample scene), first removing the
   * staged images `replaces` picks. */
  attach(image: ImageRef, replaces: (staged: ImageRef) => boolean = () => false): void {
    if (!this.enabled || this.busy) return;
    this.staged = [...this.staged.filter((s) => !replaces(s) && s.id !== image.id), image];
    this.renderChips();
    this.input.focus();
  }

  /** Puts `text` in the box and sends it with what is attached. */
  ask(text: string): void {
    if (!this.enabled || this.busy || this.stagingCount > 0) return;
    this.input.value = text;
    this.autosize();
    this.submit();
  }

  /** Stages files dropped on the window. */
  async stagePaths(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.staging(() => this.api.addImageFiles(paths));
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  private submit(): void {
    if (this.busy || !this.enabled || this.stagingCount > 0) return;
    const text = this.input.value.trim();
    if (text === '' && this.staged.length === 0) return;
    const imgs = this.staged;
    this.staged = [];
    this.input.value = '';
    this.renderChips();
    this.autosize();
    this.showError(null);
    this.handlers.send(text, imgs);
  }

  private async pick(): Promise<void> {
    await this.staging(() => this.api.pickImages());
  }

  private onPaste(event: ClipboardEvent): void {
    const files = images.imagesFromClipboard(event.clipboardData);
    if (files.length === 0) return; // plain text: let the textarea have it
    event.preventDefault();
    void this.staging(() =>
      Promise.all(
        files.map(async (file, i) => {
          const data = await images.fileToBase64(file);
          const name = file.name && file.name !== 'image.png' ? file.name : `pasted-image-${i + 1}.${extension(file.type)}`;
          return this.api.addImageBytes(name, data);
        }),
      ),
    );
  }

  private async staging(work: () => Promise<ImageRef[] | ImageRef>): Promise<void> {
    this.showError(null);
    this.stagingCount += 1;
    this.el.classList.add('is-staging');
    try {
      const result = await work();
      const added = Array.isArray(result) ? result : [result];
      for (const image of added) if (!this.staged.some((s) => s.id === image.id)) this.staged.push(image);
      this.renderChips();
      this.input.focus();
    } catch (error) {
      this.showError(error as AppError);
    } finally {
      this.stagingCount -= 1;
      this.el.classList.toggle('is-staging', this.stagingCount > 0);
    }
  }

  private showError(error: AppError | null): void {
    this.errorEl.hidden = error === null;
    this.errorEl.replaceChildren();
    if (error) {
      this.errorEl.append(errorView(error, { testid: 'composer-error-box' }),
        iconButton('close', 'Dismiss error', () => this.showError(null), { class: 'btn-ghost btn-sm' }));
    }
  }

  private renderChips(): void {
    this.chips.replaceChildren(
      ...this.staged.map((image) =>
        h('li', { class: 'chip', attrs: { 'data-testid': 'staged-image', title: `${image.name} · ${image.width}×${image.height}` } },
          h('img', { attrs: { src: image.thumb, alt: '' } }),
          h('span', { class: 'chip-name', text: image.name }),
          iconButton('close', `Remove ${image.name}`, () => {
            this.staged = this.staged.filter((s) => s.id !== image.id);
            this.renderChips();
          }, { class: 'btn-ghost btn-xs' }),
        ),
      ),
    );
    this.chips.hidden = this.staged.length === 0;
    this.handlers.stagedChanged?.([...this.staged]);
  }

  private autosize(): void {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 220)}px`;
  }
}

function extension(mime: string): string {
  const sub = mime.split('/')[1] ?? 'png';
  return sub === 'jpeg' ? 'jpg' : sub.replace(/[^a-z0-9]/g, '') || 'png';
}
