// The model <select> of the How it sees and Documents bars: runnable models only, the current
// choice kept when it is still there, else the first; a hint option when none can run.
import { h } from './dom';
import type { ModelEntry } from '../services/types';

/** Fills `select` with the runnable `models`; returns them. */
export function fillModelSelect(select: HTMLSelectElement, models: ModelEntry[]): ModelEntry[] {
  const runnable = models.filter((m) => m.runnable);
  const keep = select.value;
  const selected = runnable.find((m) => m.id === keep)?.id ?? runnable[0]?.id ?? '';
  select.replaceChildren(
    ...(runnable.length === 0 ? [h('option', { text: 'No model can run here — see Models', attrs: { value: '', selected: true } })] : []),
    ...runnable.map((m) => h('option', { text: m.name, attrs: { value: m.id, selected: m.id === selected, title: m.family } })));
  select.value = selected;
  return runnable;
}
