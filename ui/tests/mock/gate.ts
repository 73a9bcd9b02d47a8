// Pacing for the fake's streams: timers by default, or one step per call in manual mode.

export type MockConfig = {
  /** 'none' starts with no models / no chats. */
  models?: 'none' | import('../../src/services/types').ModelEntry[];
  chats?: 'none' | 'default';
  settings?: Partial<import('../../src/services/types').Settings>;
  /** Generation advances only on __irisMock.step(). */
  manual?: boolean;
  manualDownloads?: boolean;
  tokenDelayMs?: number;
  downloadDelayMs?: number;
  /** The answer streamed for every message. */
  answer?: string;
  /** The first model counts as loaded (no "loading" events). */
  modelLoaded?: boolean;
  /** Answers report this many earlier exchanges left out (the chat outgrew the context). */
  forgottenExchanges?: number;
  /** Fail generation with OUT_OF_MEMORY after this many tokens. */
  failAfterTokens?: number;
  /** PDFs opened have this many pages (default 3). */
  documentPages?: number;
  /** read_document fails this 0-based page (a pageError after its first token); the run goes on. */
  failPage?: number;
};

export class Gate {
  private credits = 0;
  private waiters: (() => void)[] = [];

  constructor(private manual: boolean, private delayMs: number) {}

  /** Waits for the next step (manual) or a short delay. */
  tick(): Promise<void> {
    if (!this.manual) return new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.credits > 0) {
      this.credits -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  step(n: number): void {
    for (let i = 0; i < n; i++) {
      const waiter = this.waiters.shift();
      if (waiter) waiter();
      else this.credits += 1;
    }
  }

  /** Lets every waiter run (it then sees its stop / cancel flag). */
  wakeAll(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  setManual(on: boolean): void {
    this.manual = on;
    if (!on) this.wakeAll();
  }
}
