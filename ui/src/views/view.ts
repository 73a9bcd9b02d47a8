// What the shell needs from a page, and what a page may ask of the shell.

export type ViewId = 'chat' | 'models' | 'settings';

export interface View {
  readonly id: ViewId;
  readonly el: HTMLElement;
  /** Called once at start-up. */
  start(): Promise<void>;
  /** Called each time the page is shown / hidden. */
  activate(): void;
  deactivate(): void;
}

export interface Navigator {
  navigate(id: ViewId): void;
}
