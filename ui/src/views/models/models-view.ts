// The Models page: what is installed (and whether it runs here), import, delete, download.
import { confirmDialog } from '../../lib/dialog';
import { h, icon, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { formatBytes, formatParameters } from '../../lib/format';
import { isBuiltin } from '../../services/demo';
import * as models from '../../services/models';
import type { AppError, ModelEntry } from '../../services/types';
import type { View } from '../view';
import { DownloadPanel } from './download-panel';

export class ModelsView implements View {
  readonly id = 'models';
  readonly el: HTMLElement;
  private body = h('tbody');
  private importError = h('div', { class: 'inline-error', attrs: { 'data-testid': 'import-error' } });
  private listError = h('div', { class: 'inline-error' });
  private importButton: HTMLButtonElement;
  private entries: ModelEntry[] = [];
  private rowErrors = new Map<string, AppError>();

  constructor() {
    this.importButton = h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => void this.importFolder() } },
      icon('folder'), h('span', { text: 'Import folder…' }));
    const downloads = new DownloadPanel(() => void this.load());
    this.importError.hidden = true;
    this.listError.hidden = true;
    this.el = h('main', { class: 'view page models-view', attrs: { 'aria-labelledby': 'models-title' } },
      h('header', { class: 'page-header' },
        h('div', {},
          h('h1', { text: 'Models', attrs: { id: 'models-title' } }),
          h('p', { class: 'muted', text: 'Vision-language checkpoints on this computer (Hugging Face folder layout).' })),
        this.importButton),
      this.importError,
      h('section', { class: 'card' },
        this.listError,
        h('table', { class: 'table models-table', attrs: { 'aria-label': 'Installed models' } },
          h('thead', {}, h('tr', {}, ...['Name', 'Family', 'Size', 'Precision', 'Parameters', 'Status', ''].map((t) =>
            h('th', { text: t, attrs: { scope: 'col' } })))),
          this.body)),
      downloads.el);
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
      this.entries = await models.listModels();
      this.listError.hidden = true;
    } catch (error) {
      this.listError.hidden = false;
      this.listError.replaceChildren(errorView(error as AppError));
    }
    this.render();
  }

  private render(): void {
    if (this.entries.length === 0) {
      this.body.replaceChildren(h('tr', {}, h('td', { class: 'table-empty muted', attrs: { colspan: 7 } },
        'No models yet. Import a model folder or download one below.')));
      return;
    }
    this.body.replaceChildren(...this.entries.map((m) => this.row(m)));
  }

  private row(m: ModelEntry): HTMLElement {
    const error = this.rowErrors.get(m.id);
    const status = m.runnable
      ? h('span', { class: 'status-ok' }, icon('check'), h('span', { text: 'Ready' }))
      : h('span', { class: 'status-problem', text: m.problem ?? 'Cannot run here.' });
    return h('tr', { attrs: { 'data-testid': 'model-row', 'data-model-id': m.id } },
      h('td', {},
        h('div', { class: 'model-name' }, m.name, isBuiltin(m)
          ? h('span', { class: 'badge badge-muted', text: 'Built-in', attrs: { title: 'Comes with Iris; it cannot be deleted.', 'data-testid': 'builtin-badge' } })
          : null),
        h('div', { class: 'model-path muted', text: m.path, attrs: { title: m.path } })),
      h('td', { class: 'nowrap', text: m.family }),
      h('td', { class: 'num', text: formatBytes(m.sizeBytes) }),
      h('td', { class: 'nowrap', text: m.dtype }),
      h('td', { class: 'num', text: formatParameters(m.parameters) }),
      h('td', {}, status, error ? errorView(error, { testid: 'model-row-error' }) : null),
      h('td', { class: 'actions' }, isBuiltin(m) ? null
        : iconButton('trash', `Delete model ${m.name}`, () => void this.remove(m), { class: 'btn-ghost btn-sm' })));
  }

  private async importFolder(): Promise<void> {
    this.importError.hidden = true;
    this.importButton.disabled = true;
    try {
      const entry = await models.importModel(null);
      if (entry) await this.load();
    } catch (error) {
      this.importError.hidden = false;
      this.importError.replaceChildren(errorView(error as AppError, { testid: 'import-error-box' }),
        iconButton('close', 'Dismiss error', () => { this.importError.hidden = true; }, { class: 'btn-ghost btn-sm' }));
    } finally {
      this.importButton.disabled = false;
    }
  }

  private async remove(m: ModelEntry): Promise<void> {
    const ok = await confirmDialog({
      title: `Delete ${m.name}?`,
      body: `The folder ${m.path} (${formatBytes(m.sizeBytes)}) will be removed from this computer.`,
      confirm: 'Delete',
      danger: true,
    });
    if (!ok) return;
    try {
      await models.deleteModel(m.id);
      this.rowErrors.delete(m.id);
      await this.load();
    } catch (error) {
      this.rowErrors.set(m.id, error as AppError);
      this.render();
    }
  }
}
