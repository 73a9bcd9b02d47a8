// The model <select> of the How it sees and Documents bars: runnable models only, the current
// choice kept when it is still there, else the first real one (the built-in demo model only
// when nothing else runs); a hint option when none can run.
import { h } from './dom';
import { isBuiltin } from '../services/demo';
import type { ModelEntry } from '../services/types';

/** Fills `select` with the runnable `models`; returns them. */
export function fillModelSelect(select: HTMLSelectElement, models: ModelEntry[]): ModelEntry[] {
  const runnable = models.filter((m) => m.runnable);
  const keep = select.value;
  const fallback = runnable.find((m) => !isBuiltin(m)) ?? runnable[0];
  const selected = runnable.find((m) => m.id === keep)?.id ?? fallback?.id ?? '';
  select.replaceChildren(
    ...(runnable.length === 0 ? [h('option', { text: 'No model can run here — see Models', attrs: { value: '', selected: true } })] : []),
    ...runnable.map((m) => h('option', { text: m.name, attrs: { value: m.id, selected: m.id === selected, title: m.family } })));
  select.value = selected;
  return runnable;
}
