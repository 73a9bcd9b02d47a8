// The per-chat model selector: runnable models can be chosen, the rest are listed as unavailable.
import { h } from '../../lib/dom';
import type { ModelEntry } from '../../services/types';

export class ModelPicker {
  readonly el: HTMLElement;
  private select = h('select', { class: 'select', attrs: { 'aria-label': 'Model', id: 'chat-model' } });

  constructor(onChange: (modelId: string) => void) {
    this.el = h('label', { class: 'model-picker' }, h('span', { class: 'muted', text: 'Model' }), this.select);
    this.select.addEventListener('change', () => {
      if (this.select.value) onChange(this.select.value);
    });
  }

  render(models: ModelEntry[], selected: string | null): void {
    const options: HTMLOptionElement[] = [];
    const known = models.find((m) => m.id === selected);
    if (!selected || !known) {
      const text = selected ? 'Model not found — choose another' : 'Choose a model…';
      options.push(h('option', { text, attrs: { value: '', disabled: true, selected: true } }));
    }
    for (const model of models) {
      const label = model.runnable ? model.name : `${model.name} (unavailable)`;
      options.push(h('option', {
        text: label,
        attrs: { value: model.id, disabled: !model.runnable, selected: model.id === selected, title: model.problem ?? model.family },
      }));
    }
    this.select.replaceChildren(...options);
    this.select.disabled = models.every((m) => !m.runnable);
  }
}
