// Model folders: list, import, delete, download from the Hub.
import { call, channel } from './ipc';
import type { DownloadEvent, ModelEntry } from './types';

export const listModels = () => call<ModelEntry[]>('list_models');
/** `path` null opens the folder dialog; resolves null when the dialog is cancelled. */
export const importModel = (path: string | null) => call<ModelEntry | null>('import_model', { path });
export const deleteModel = (id: string) => call<null>('delete_model', { id });
export const cancelDownload = (repoId: string) => call<null>('cancel_download', { repoId });

export function downloadModel(repoId: string, revision: string | null, onEvent: (event: DownloadEvent) => void) {
  return call<ModelEntry>('download_model', { repoId, revision, onEvent: channel(onEvent) });
}

const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;

/** Why `repoId` is not a Hugging Face `owner/name`, or null when it is. */
export function repoIdProblem(repoId: string): string | null {
  const value = repoId.trim();
  if (value === '') return 'Enter a repository id such as llava-hf/llava-1.5-7b-hf.';
  const parts = value.split('/');
  if (parts.length !== 2 || !parts.every((part) => REPO_PART.test(part)) || value.includes('..')) {
    return 'Use the form owner/name, e.g. llava-hf/llava-1.5-7b-hf.';
  }
  return null;
}

/** Overall progress of one download, folded from its DownloadEvents. */
export type DownloadProgress = {
  repoId: string;
  stage: 'listing' | 'downloading' | 'verifying' | 'finished';
  files: number;
  filesDone: number;
  totalBytes: number;
  doneBytes: number;
  currentFile: string | null;
};

export function startProgress(repoId: string): DownloadProgress {
  return { repoId, stage: 'listing', files: 0, filesDone: 0, totalBytes: 0, doneBytes: 0, currentFile: null };
}

/**
 * Folds one event into `progress`. `progress` events carry overall counts (`doneBytes` of all
 * files together, never decreasing, including bytes resumed from an earlier try, of
 * `totalBytes`); `file` is the one downloading. A file is done once it is verified.
 */
export class DownloadTracker {
  private verified = new Set<string>();
  progress: DownloadProgress;

  constructor(repoId: string) {
    this.progress = startProgress(repoId);
  }

  apply(event: DownloadEvent): DownloadProgress {
    const p = { ...this.progress };
    switch (event.kind) {
      case 'listing':
        p.stage = 'listing';
        break;
      case 'started':
        p.stage = 'downloading';
        p.files = event.files;
        p.totalBytes = event.totalBytes;
        p.doneBytes = event.resumedBytes;
        break;
      case 'progress':
        p.stage = 'downloading';
        p.currentFile = event.file;
        p.totalBytes = event.totalBytes;
        p.doneBytes = Math.max(p.doneBytes, Math.min(event.doneBytes, event.totalBytes));
        break;
      case 'verifying':
        p.stage = 'verifying';
        p.currentFile = event.file;
        this.verified.add(event.file);
        p.filesDone = this.verified.size;
        break;
      case 'finished':
        p.stage = 'finished';
        p.doneBytes = p.totalBytes;
        p.filesDone = p.files;
        break;
    }
    this.progress = p;
    return p;
  }
}
