// The Settings page: device and precision, generation defaults, theme, Hub address.
import { h } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { applyTheme } from '../../lib/theme';
import * as settings from '../../services/settings';
import type { AppError, Settings, Theme } from '../../services/types';
import type { View } from '../view';

type NumberField = 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'seed';

const NUMBER_FIELDS: { key: NumberField; label: string; hint: string; step: string; min: string; max?: string }[] = [
  { key: 'maxNewTokens', label: 'Max new tokens', hint: 'Longest answer, 1 to 4096 tokens.', step: '1', min: '1', max: '4096' },
  { key: 'temperature', label: 'Temperature', hint: '0 always picks the likeliest word; higher is more varied.', step: '0.05', min: '0', max: '5' },
  { key: 'topK', label: 'Top-k', hint: 'Sample among the k likeliest tokens; 0 turns it off.', step: '1', min: '0' },
  { key: 'topP', label: 'Top-p', hint: 'Sample from the smallest set with this much probability; 1 turns it off.', step: '0.05', min: '0', max: '1' },
  { key: 'seed', label: 'Seed', hint: 'Same seed, same answer. Leave empty for a random one.', step: '1', min: '0' },
];

export class SettingsView implements View {
  readonly id = 'settings';
  readonly el: HTMLElement;
  private form = h('form', { class: 'settings-form', attrs: { novalidate: true, 'aria-labelledby': 'settings-title' } });
  private device = h('select', { class: 'select', attrs: { id: 'set-device', 'aria-describedby': 'set-device-hint' } });
  private precision = h('select', { class: 'select', attrs: { id: 'set-precision', 'aria-describedby': 'set-precision-hint' } },
    h('option', { text: 'f32 (full precision)', attrs: { value: 'f32' } }),
    h('option', { text: 'f16 (half the memory)', attrs: { value: 'f16' } }));
  private hubUrl = h('input', { class: 'input', attrs: { id: 'set-hubUrl', type: 'url', 'aria-describedby': 'set-hubUrl-hint', spellcheck: 'false' } });
  private numbers = new Map<NumberField, HTMLInputElement>();
  private hints = new Map<string, { el: HTMLElement; text: string }>();
  private themeInputs = new Map<Theme, HTMLInputElement>();
  private status = h('div', { class: 'form-status', attrs: { role: 'status', 'data-testid': 'settings-status' } });
  private saved: Settings | null = null;
  private loadError = h('div', { class: 'inline-error' });

  constructor() {
    this.loadError.hidden = true;
    this.buildForm();
    this.el = h('main', { class: 'view page settings-view', attrs: { 'aria-labelledby': 'settings-title' } },
      h('header', { class: 'page-header' },
        h('div', {}, h('h1', { text: 'Settings', attrs: { id: 'settings-title' } }),
          h('p', { class: 'muted', text: 'Where and how the model runs, and how Iris looks.' }))),
      this.loadError, this.form);
  }

  async start(): Promise<void> {
    await this.load();
  }

  activate(): void {
    void this.load();
  }

  deactivate(): void {}

  private async load(): Promise<void> {
    try {
      const [current, devices] = await Promise.all([settings.getSettings(), settings.listDevices().catch(() => [])]);
      this.device.replaceChildren(...settings.deviceChoices(devices).map((c) => h('option', { text: c.label, attrs: { value: c.value } })));
      this.saved = current;
      this.fill(current);
      this.loadError.hidden = true;
    } catch (error) {
      this.loadError.hidden = false;
      this.loadError.replaceChildren(errorView(error as AppError));
    }
  }

  private field(id: string, label: string, control: HTMLElement, hint: string): HTMLElement {
    const hintEl = h('div', { class: 'field-hint', text: hint, attrs: { id: `${id}-hint` } });
    this.hints.set(id, { el: hintEl, text: hint });
    return h('div', { class: 'field' }, h('label', { class: 'field-label', text: label, attrs: { for: id } }), control, hintEl);
  }

  private buildForm(): void {
    const generation = h('div', { class: 'field-grid' });
    for (const f of NUMBER_FIELDS) {
      const input = h('input', {
        class: 'input',
        attrs: { id: `set-${f.key}`, type: 'number', step: f.step, min: f.min, max: f.max, inputmode: 'decimal', 'aria-describedby': `set-${f.key}-hint`, placeholder: f.key === 'seed' ? 'Random' : null },
      });
      this.numbers.set(f.key, input);
      generation.appendChild(this.field(`set-${f.key}`, f.label, input, f.hint));
    }
    const themes = h('div', { class: 'segmented', attrs: { role: 'radiogroup', 'aria-label': 'Theme' } });
    for (const [value, label] of [['system', 'System'], ['light', 'Light'], ['dark', 'Dark']] as [Theme, string][]) {
      const input = h('input', { attrs: { type: 'radio', name: 'theme', value } });
      input.addEventListener('change', () => void this.changeTheme(value));
      this.themeInputs.set(value, input);
      themes.appendChild(h('label', { class: 'segment' }, input, h('span', { text: label })));
    }
    const sections = h('div', { class: 'settings-scroll' });
    sections.append(
      section('Hardware',
        h('div', { class: 'field-grid' },
          this.field('set-device', 'Device', this.device, 'Automatic picks the best GPU, else the CPU.'),
          this.field('set-precision', 'Precision', this.precision, 'f16 uses half the memory; f32 is the most exact.'))),
      section('Generation defaults', generation),
      section('Appearance', h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Theme' }), themes,
        h('div', { class: 'field-hint', text: 'System follows your desktop’s light or dark setting.' }))),
      section('Downloads', this.field('set-hubUrl', 'Hugging Face address', this.hubUrl, 'Where models are downloaded from (a mirror works too).')),
    );
    this.form.append(
      sections,
      h('div', { class: 'form-actions' }, this.status, h('button', { class: 'btn btn-primary', text: 'Save settings', attrs: { type: 'submit' } })),
    );
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    this.form.addEventListener('input', () => this.setStatus(null));
  }

  private fill(s: Settings): void {
    this.device.value = s.device;
    if (this.device.value !== s.device) this.device.value = 'auto';
    this.precision.value = s.precision;
    for (const [key, input] of this.numbers) {
      const value = s[key];
      input.value = value === null ? '' : String(value);
    }
    this.hubUrl.value = s.hubUrl;
    for (const [theme, input] of this.themeInputs) input.checked = theme === s.theme;
    this.showProblems({});
  }

  private read(): Settings {
    const num = (key: NumberField) => {
      const raw = this.numbers.get(key)!.value.trim();
      return raw === '' ? NaN : Number(raw);
    };
    const seed = this.numbers.get('seed')!.value.trim();
    const theme = [...this.themeInputs].find(([, input]) => input.checked)?.[0] ?? 'system';
    return {
      device: this.device.value,
      precision: this.precision.value === 'f16' ? 'f16' : 'f32',
      maxNewTokens: num('maxNewTokens'),
      temperature: num('temperature'),
      topK: num('topK'),
      topP: num('topP'),
      seed: seed === '' ? null : Number(seed),
      theme,
      hubUrl: this.hubUrl.value.trim(),
    };
  }

  private showProblems(problems: settings.SettingsProblems): void {
    for (const [id, hint] of this.hints) {
      const key = id.replace(/^set-/, '') as keyof Settings;
      const problem = problems[key];
      hint.el.textContent = problem ?? hint.text;
      hint.el.classList.toggle('field-error', Boolean(problem));
      document.getElementById(id)?.setAttribute('aria-invalid', String(Boolean(problem)));
    }
  }

  private async save(): Promise<void> {
    const next = this.read();
    const problems = settings.validateSettings(next);
    this.showProblems(problems);
    const firstBad = Object.keys(problems)[0];
    if (firstBad) {
      document.getElementById(`set-${firstBad}`)?.focus();
      this.setStatus({ code: 'INVALID_INPUT', message: 'Some settings need fixing (see the fields marked in red).', details: null });
      return;
    }
    try {
      this.saved = await settings.setSettings(next);
      this.fill(this.saved);
      applyTheme(this.saved.theme);
      this.setStatus('Settings saved.');
    } catch (error) {
      this.setStatus(error as AppError);
    }
  }

  /** The theme applies and is kept at once, without the rest of the form. */
  private async changeTheme(theme: Theme): Promise<void> {
    applyTheme(theme);
    if (!this.saved) return;
    try {
      this.saved = await settings.setSettings({ ...this.saved, theme });
    } catch (error) {
      this.setStatus(error as AppError);
    }
  }

  private setStatus(status: string | AppError | null): void {
    this.status.classList.toggle('is-error', typeof status === 'object' && status !== null);
    if (status === null) this.status.replaceChildren();
    else if (typeof status === 'string') this.status.replaceChildren(h('span', { class: 'ok', text: status }));
    else this.status.replaceChildren(errorView(status, { testid: 'settings-error', role: null }));
  }
}

function section(title: string, ...body: HTMLElement[]): HTMLElement {
  return h('fieldset', { class: 'card settings-section' }, h('legend', { class: 'card-title', text: title }), ...body);
}
