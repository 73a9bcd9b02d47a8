// "Download from Hugging Face": repo id form and one progress card per running download.
import { h, icon, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { formatBytes, formatPercent } from '../../lib/format';
import * as models from '../../services/models';
import type { AppError, ModelEntry } from '../../services/types';

export class DownloadPanel {
  readonly el: HTMLElement;
  private input = h('input', {
    class: 'input',
    attrs: { id: 'repo-id', type: 'text', placeholder: 'owner/name', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'repo-id-hint' },
  });
  private hint = h('div', { class: 'field-hint', text: 'A model repository id, e.g. llava-hf/llava-1.5-7b-hf.', attrs: { id: 'repo-id-hint' } });
  private cards = h('div', { class: 'downloads', attrs: { 'aria-label': 'Downloads' } });
  private running = new Set<string>();

  constructor(private onFinished: (model: ModelEntry) => void) {
    const form = h('form', { class: 'download-form', attrs: { novalidate: true } },
      h('label', { class: 'field-label', text: 'Hugging Face repository', attrs: { for: 'repo-id' } }),
      h('div', { class: 'inline-field' },
        this.input,
        h('button', { class: 'btn btn-primary', attrs: { type: 'submit' } }, icon('download'), h('span', { text: 'Download' }))),
      this.hint);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener('input', () => this.setProblem(null));
    this.el = h('section', { class: 'card download-panel', attrs: { 'aria-labelledby': 'download-title' } },
      h('h2', { class: 'card-title', text: 'Download from Hugging Face', attrs: { id: 'download-title' } }),
      form, this.cards);
  }

  private setProblem(problem: string | null): void {
    this.input.setAttribute('aria-invalid', String(problem !== null));
    this.hint.classList.toggle('field-error', problem !== null);
    this.hint.textContent = problem ?? 'A model repository id, e.g. llava-hf/llava-1.5-7b-hf.';
    this.hint.setAttribute('role', problem ? 'alert' : 'note');
  }

  private submit(): void {
    const repoId = this.input.value.trim();
    const problem = models.repoIdProblem(repoId);
    if (problem) return this.setProblem(problem);
    if (this.running.has(repoId)) return this.setProblem(`${repoId} is already downloading.`);
    this.input.value = '';
    void this.download(repoId);
  }

  private async download(repoId: string): Promise<void> {
    this.running.add(repoId);
    const tracker = new models.DownloadTracker(repoId);
    const card = new DownloadCard(repoId, () => void models.cancelDownload(repoId).catch((e) => card.fail(e as AppError)));
    this.cards.prepend(card.el);
    try {
      const model = await models.downloadModel(repoId, null, (event) => card.render(tracker.apply(event)));
      card.render(tracker.apply({ kind: 'finished', model }));
      card.done(model);
      this.onFinished(model);
    } catch (error) {
      const e = error as AppError;
      if (e.code === 'CANCELLED') card.cancelled();
      else card.fail(e);
    } finally {
      this.running.delete(repoId);
    }
  }
}

class DownloadCard {
  readonly el: HTMLElement;
  private fill = h('div', { class: 'progress-fill' });
  private bar = h('div', { class: 'progress', attrs: { role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 } }, this.fill);
  private status = h('div', { class: 'download-status muted', attrs: { 'data-testid': 'download-status' } });
  private actions = h('div', { class: 'download-actions' });
  private result = h('div', { class: 'download-result' });

  constructor(private repoId: string, cancel: () => void) {
    this.bar.setAttribute('aria-label', `Downloading ${repoId}`);
    this.actions.append(h('button', { class: 'btn btn-sm', text: 'Cancel', attrs: { type: 'button', 'aria-label': `Cancel download ${repoId}` }, on: { click: cancel } }));
    this.el = h('div', { class: 'download-card', attrs: { 'data-testid': 'download', 'data-repo': repoId } },
      h('div', { class: 'download-head' }, h('strong', { text: repoId }), this.actions),
      this.bar, this.status, this.result);
    this.status.textContent = 'Connecting…';
  }

  render(p: models.DownloadProgress): void {
    const fraction = p.totalBytes > 0 ? p.doneBytes / p.totalBytes : 0;
    this.fill.style.width = formatPercent(fraction);
    this.bar.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
    this.bar.classList.toggle('is-indeterminate', p.stage === 'listing');
    const bytes = `${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)}`;
    const files = `${p.filesDone} of ${p.files} files`;
    this.status.textContent =
      p.stage === 'listing' ? 'Listing files…'
      : p.stage === 'verifying' ? `Verifying ${p.currentFile ?? ''}… · ${files}`
      : p.stage === 'finished' ? `Done · ${formatBytes(p.totalBytes)} · ${p.files} files`
      : `${formatPercent(fraction)} · ${bytes} · ${files}${p.currentFile ? ` · ${p.currentFile}` : ''}`;
  }

  done(model: ModelEntry): void {
    this.el.classList.add('is-done');
    this.result.replaceChildren(h('span', { class: 'ok', text: `${model.name} is ready.` }));
    this.finish();
  }

  cancelled(): void {
    this.el.classList.add('is-cancelled');
    this.status.textContent = 'Cancelled. Partial files are kept, so a new download resumes.';
    this.finish();
  }

  fail(error: AppError): void {
    this.el.classList.add('is-failed');
    this.result.replaceChildren(errorView(error, { testid: 'download-error' }));
    this.finish();
  }

  private finish(): void {
    this.actions.replaceChildren(iconButton('close', `Dismiss ${this.repoId}`, () => this.el.remove(), { class: 'btn-ghost btn-sm' }));
  }
}
