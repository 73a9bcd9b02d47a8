// The sections of one explanation as tabs (arrow keys move between them). A section draws
// when its tab is shown, so its canvases are sized for the width it really has.
import { h } from '../../lib/dom';
import type { Section } from './section';

export class SectionTabs {
  readonly el: HTMLElement;
  private list = h('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Sections' } });
  private panels = h('div', { class: 'tab-panels' });
  private sections: Section[] = [];
  private buttons: HTMLButtonElement[] = [];
  private wrappers: HTMLElement[] = [];
  private current = -1;

  constructor() {
    this.el = h('div', { class: 'section-tabs' }, this.list, this.panels);
    this.list.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step === 0 || this.sections.length === 0) return;
      event.preventDefault();
      const next = (this.current + step + this.sections.length) % this.sections.length;
      this.select(next);
      this.buttons[next]?.focus();
    });
  }

  /** Replaces the sections; keeps the open tab when the new set has one with the same id. */
  set(sections: Section[]): void {
    const keep = this.sections[this.current]?.id;
    this.sections = sections;
    this.buttons = sections.map((s, i) => h('button', {
      class: 'tab',
      text: s.label,
      attrs: { type: 'button', role: 'tab', id: `tab-${s.id}`, 'aria-controls': `panel-${s.id}`, 'aria-selected': 'false', tabindex: -1 },
      on: { click: () => this.select(i) },
    }));
    this.wrappers = sections.map((s) => h('div', {
      class: 'tab-panel',
      attrs: { role: 'tabpanel', id: `panel-${s.id}`, 'aria-labelledby': `tab-${s.id}`, hidden: true },
    }, s.el));
    this.list.replaceChildren(...this.buttons);
    this.panels.replaceChildren(...this.wrappers);
    this.current = -1;
    this.el.hidden = sections.length === 0;
    if (sections.length > 0) this.select(Math.max(0, sections.findIndex((s) => s.id === keep)));
  }

  select(index: number): void {
    this.current = index;
    this.buttons.forEach((b, i) => {
      b.setAttribute('aria-selected', String(i === index));
      b.tabIndex = i === index ? 0 : -1;
    });
    this.wrappers.forEach((w, i) => (w.hidden = i !== index));
    this.sections[index]?.render();
  }

  /** Draws the open section again (the window was resized). */
  refresh(): void {
    this.sections[this.current]?.render();
  }
}
