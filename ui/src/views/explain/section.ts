// What every section of an explanation is, and the header they share.
import { h } from '../../lib/dom';
import type { Explanation } from '../../services/types';

export type SectionContext = {
  explanation: Explanation;
  /** The source image, or null when it could not be read (a placeholder is drawn). */
  image: HTMLImageElement | null;
};

export interface Section {
  /** Used in test ids, tab ids and file names: "pipeline", "tiles", "qformer", "tokens". */
  readonly id: string;
  /** The tab's label. */
  readonly label: string;
  readonly el: HTMLElement;
  /** Draws the canvases for the current width; called each time the section is shown. */
  render(): void;
}

export function sectionHeader(title: string, blurb: string, actions: HTMLElement): HTMLElement {
  return h('header', { class: 'section-head' },
    h('div', { class: 'section-intro' }, h('h2', { text: title }), h('p', { class: 'muted', text: blurb })),
    actions);
}

/** "3,888" */
export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
