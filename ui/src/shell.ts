// The window frame: a side rail of pages and the page host. A new page is one more entry.
import { h, icon } from './lib/dom';
import type { Navigator, View, ViewId } from './views/view';

type RailEntry = { view: View; label: string; icon: string };

export class Shell implements Navigator {
  readonly el: HTMLElement;
  private host = h('div', { class: 'view-host' });
  private rail = h('nav', { class: 'rail', attrs: { 'aria-label': 'Main' } });
  private entries: RailEntry[] = [];
  private buttons = new Map<ViewId, HTMLButtonElement>();
  private currentId: ViewId | null = null;

  constructor() {
    this.rail.appendChild(h('div', { class: 'rail-logo', attrs: { title: 'Iris' } }, icon('iris')));
    this.el = h('div', { class: 'app' }, this.rail, this.host);
  }

  add(view: View, label: string, iconName: string): void {
    this.entries.push({ view, label, icon: iconName });
    const button = h('button', {
      class: 'rail-item',
      attrs: { type: 'button', 'data-view': view.id },
      on: { click: () => this.navigate(view.id) },
    }, icon(iconName), h('span', { class: 'rail-label', text: label }));
    this.buttons.set(view.id, button);
    this.rail.appendChild(button);
    view.el.hidden = true;
    this.host.appendChild(view.el);
  }

  currentView(): View | null {
    return this.entries.find((e) => e.view.id === this.currentId)?.view ?? null;
  }

  navigate(id: ViewId): void {
    if (id === this.currentId) return;
    for (const { view } of this.entries) {
      const active = view.id === id;
      if (!active && !view.el.hidden) view.deactivate();
      view.el.hidden = !active;
      const button = this.buttons.get(view.id);
      if (active) button?.setAttribute('aria-current', 'page');
      else button?.removeAttribute('aria-current');
    }
    this.currentId = id;
    this.entries.find((e) => e.view.id === id)?.view.activate();
  }
}
