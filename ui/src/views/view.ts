// What the shell needs from a page, and what a page may ask of the shell.

export type ViewId = 'chat' | 'explain' | 'documents' | 'models' | 'settings';

export interface View {
  readonly id: ViewId;
  readonly el: HTMLElement;
  /** True for a page that takes files dropped on the window itself while it is shown
   * (otherwise a drop goes to the chat's composer). */
  readonly takesDrops?: boolean;
  /** Called once at start-up. */
  start(): Promise<void>;
  /** Called each time the page is shown / hidden. */
  activate(): void;
  deactivate(): void;
}

export interface Navigator {
  navigate(id: ViewId): void;
  /** The page shown now. */
  currentView(): View | null;
}
