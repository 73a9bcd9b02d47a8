// The empty chat on the built-in demo model: what that model knows (and the way to a real one),
// the sample scenes to attach, and the attached scene's suggested questions.
import { h, icon } from '../../lib/dom';
import type { DemoSample } from '../../services/types';

export type DemoPanelHandlers = {
  /** Attach this scene to the message being written (instead of another sample). */
  attach(sample: DemoSample): void;
  /** Send this question (with what is attached). */
  ask(question: string): void;
  goToModels(): void;
};

export const DEMO_NOTICE =
  'This built-in model was trained by Iris on synthetic scenes of coloured shapes and printed words, and knows nothing else. For photos, add a real model on the Models page.';

export class DemoPanel {
  readonly el: HTMLElement;
  private scenes = h('ul', { class: 'demo-scenes', attrs: { 'aria-label': 'Sample scenes' } });
  private questions = h('div', { class: 'demo-questions' });
  private samples: DemoSample[] = [];
  private attached: DemoSample | null = null;

  constructor(private handlers: DemoPanelHandlers) {
    this.el = h('div', { class: 'demo-panel', attrs: { 'data-testid': 'demo-panel' } },
      h('div', { class: 'demo-notice', attrs: { role: 'note', 'data-testid': 'demo-notice' } },
        h('div', { class: 'demo-notice-icon' }, icon('iris')),
        h('div', { class: 'demo-notice-body' },
          h('p', { text: DEMO_NOTICE }),
          h('button', { class: 'btn btn-sm', text: 'Go to Models', attrs: { type: 'button' }, on: { click: () => handlers.goToModels() } }))),
      h('h2', { class: 'demo-title', text: 'Try a sample scene' }),
      this.scenes,
      this.questions);
    this.render();
  }

  setSamples(samples: DemoSample[]): void {
    this.samples = samples;
    this.attached = samples.find((s) => s.image.id === this.attached?.image.id) ?? null;
    this.render();
  }

  /** True when `imageId` is one of the sample scenes' images. */
  isSample(imageId: string): boolean {
    return this.samples.some((s) => s.image.id === imageId);
  }

  /** Follows the composer: the sample among its staged images, if any, is the attached one. */
  setStaged(imageIds: string[]): void {
    const attached = [...imageIds].reverse().map((id) => this.samples.find((s) => s.image.id === id)).find(Boolean) ?? null;
    if (attached === this.attached) return;
    this.attached = attached;
    this.render();
  }

  private render(): void {
    this.scenes.replaceChildren(...this.samples.map((sample) => {
      const pressed = sample === this.attached;
      return h('li', {},
        h('button', {
          class: 'demo-scene',
          attrs: { type: 'button', 'aria-pressed': String(pressed), 'aria-label': `Attach ${sample.name}`, 'data-testid': 'demo-scene' },
          on: { click: () => this.handlers.attach(sample) },
        },
        h('img', { attrs: { src: sample.image.thumb, alt: '' } }),
        h('span', { class: 'demo-scene-name', text: sample.name })));
    }));
    const attached = this.attached;
    if (!attached) {
      this.questions.replaceChildren(
        h('p', { class: 'muted', text: this.samples.length ? 'Pick a scene to attach it, then ask about it.' : 'Loading the sample scenes…' }));
      return;
    }
    this.questions.replaceChildren(
      h('p', { class: 'demo-questions-title', text: `Ask about ${attached.name}:` }),
      h('ul', { class: 'demo-question-list', attrs: { 'aria-label': 'Suggested questions' } },
        ...attached.questions.map((q) =>
          h('li', {}, h('button', {
            class: 'question-chip',
            text: q.question,
            attrs: { type: 'button', 'data-testid': 'question-chip', title: 'Send this question' },
            on: { click: () => this.handlers.ask(q.question) },
          })))));
  }
}
