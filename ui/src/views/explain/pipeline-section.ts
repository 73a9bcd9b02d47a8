// Section 1: the pipeline in numbers (image → views → patches → tokens → answer) and timings.
import { h, icon } from '../../lib/dom';
import type { Explanation, Timings } from '../../services/types';
import { prepare } from './canvas';
import { exportButtons } from './export';
import { count, sectionHeader, type Section, type SectionContext } from './section';

const PHASES: { key: keyof Timings; label: string }[] = [
  { key: 'load', label: 'Load model' },
  { key: 'preprocess', label: 'Preprocess' },
  { key: 'vision', label: 'Vision encoder' },
  { key: 'prefill', label: 'Prefill' },
  { key: 'decode', label: 'Decode' },
];

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export class PipelineSection implements Section {
  readonly id = 'pipeline';
  readonly label = 'Pipeline';
  readonly el: HTMLElement;
  private explanation: Explanation;

  constructor(ctx: SectionContext) {
    this.explanation = ctx.explanation;
    const e = ctx.explanation;
    const actions = exportButtons('pipeline', () => this.drawPng(),
      () => ({ modelId: e.modelId, family: e.family, prompt: e.prompt, answer: e.answer.text, pipeline: e.pipeline, timingsMs: e.timingsMs }),
      () => e.modelId);
    this.el = h('section', { class: 'explain-section pipeline-section', attrs: { 'data-testid': 'section-pipeline' } },
      sectionHeader('Pipeline', 'What the image and the prompt became on the way through the model, in numbers.', actions),
      h('div', { class: 'pipeline-layout' },
        h('ol', { class: 'pipeline-flow', attrs: { 'aria-label': 'Pipeline stages' } },
          ...e.pipeline.map((stage, i) => h('li', { class: 'pipeline-stage', attrs: { 'data-testid': 'pipeline-stage' } },
            i > 0 ? h('span', { class: 'pipeline-arrow', attrs: { 'aria-hidden': 'true' } }, icon('arrowDown')) : null,
            h('div', { class: 'pipeline-card' },
              h('span', { class: 'pipeline-step', text: String(i + 1) }),
              h('div', { class: 'pipeline-text' },
                h('span', { class: 'pipeline-name', text: stage.name }),
                h('span', { class: 'pipeline-detail muted', text: stage.detail })),
              h('span', { class: 'pipeline-count', text: count(stage.count) }))))),
        this.timings(e.timingsMs)));
  }

  render(): void {}

  private timings(t: Timings): HTMLElement {
    const total = PHASES.reduce((sum, p) => sum + Math.max(0, t[p.key] || 0), 0);
    const bar = h('div', { class: 'timing-bar', attrs: { 'aria-hidden': 'true' } });
    for (const phase of PHASES) {
      const part = h('span', { class: `timing-part timing-${phase.key}` });
      part.style.width = `${total > 0 ? (Math.max(0, t[phase.key]) / total) * 100 : 0}%`;
      bar.appendChild(part);
    }
    return h('div', { class: 'timings card-inset', attrs: { 'data-testid': 'pipeline-timings' } },
      h('h3', { class: 'inset-title', text: 'Time spent' }),
      bar,
      h('table', { class: 'table timing-table' },
        h('tbody', {},
          ...PHASES.map((phase) => h('tr', {},
            h('td', {}, h('span', { class: `timing-dot timing-${phase.key}` }), phase.label),
            h('td', { class: 'num', text: formatMs(t[phase.key]) }))),
          h('tr', { class: 'timing-total' }, h('td', { text: 'Total' }), h('td', { class: 'num', text: formatMs(total) })))));
  }

  /** The stages and timings drawn as a picture, for "Save PNG". */
  private drawPng(): HTMLCanvasElement {
    const e = this.explanation;
    const canvas = document.createElement('canvas');
    const row = 54;
    const width = 640;
    const height = 24 + e.pipeline.length * row + 30 + PHASES.length * 20 + 16;
    const { ctx, dpr } = prepare(canvas, { width, height });
    ctx.scale(dpr, dpr);
    const css = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    ctx.fillStyle = color('--surface', '#ffffff');
    ctx.fillRect(0, 0, width, height);
    ctx.textBaseline = 'middle';
    e.pipeline.forEach((stage, i) => {
      const y = 16 + i * row;
      ctx.fillStyle = color('--surface-2', '#f0f0f5');
      ctx.fillRect(16, y, width - 32, row - 16);
      ctx.fillStyle = color('--text', '#1b1b22');
      ctx.font = '600 14px system-ui, sans-serif';
      ctx.fillText(`${i + 1}. ${stage.name}`, 28, y + 12);
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillStyle = color('--muted', '#696978');
      ctx.fillText(stage.detail, 28, y + 28);
      ctx.font = '600 16px system-ui, sans-serif';
      ctx.fillStyle = color('--text', '#1b1b22');
      const n = count(stage.count);
      ctx.fillText(n, width - 28 - ctx.measureText(n).width, y + 19);
      if (i > 0) {
        ctx.fillStyle = color('--accent', '#6a52e8');
        ctx.fillText('↓', width / 2, y - 8);
      }
    });
    let y = 24 + e.pipeline.length * row + 8;
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.fillStyle = color('--text', '#1b1b22');
    ctx.fillText('Time spent', 16, y);
    ctx.font = '12px system-ui, sans-serif';
    for (const phase of PHASES) {
      y += 20;
      ctx.fillText(`${phase.label}: ${formatMs(e.timingsMs[phase.key])}`, 28, y);
    }
    return canvas;
  }
}
