// Saving a section: its canvas as PNG, its data as JSON. The page has no file access and
// WebKitGTK does not save `<a download>` links, so the bytes go to the shell's `save_export`,
// which asks where with the native save dialog.
import { h, iconButton } from '../../lib/dom';
import { toast, toastError } from '../../lib/toast';
import { saveExport } from '../../services/explain';
import { fileToBase64 } from '../../services/images';
import type { AppError } from '../../services/types';

/** Saves `blob` as `filename` (the dialog's suggestion); says where, or why not. */
export async function saveBlob(blob: Blob, filename: string): Promise<void> {
  try {
    const path = await saveExport(filename, await fileToBase64(blob), null);
    if (path !== null) toast(`Saved ${path}`);
  } catch (error) {
    toastError(error as AppError);
  }
}

function pngOf(canvas: HTMLCanvasElement): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

/** A file-name-safe piece of text ("llava-hf/llava 1.5" → "llava-hf-llava-1.5"). */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'image';
}

/** The "Save PNG" / "Save JSON" pair of a section header. */
export function exportButtons(section: string, png: () => HTMLCanvasElement | null, json: () => unknown, base: () => string): HTMLElement {
  const name = (ext: string) => `iris-${section}-${slug(base())}.${ext}`;
  const busy = async (button: HTMLButtonElement, work: () => Promise<void>) => {
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
    }
  };
  const pngButton: HTMLButtonElement = iconButton('download', `Save ${section} as PNG`, () => void busy(pngButton, async () => {
    const canvas = png();
    const blob = canvas ? await pngOf(canvas) : null;
    if (blob) await saveBlob(blob, name('png'));
  }), { text: 'Save PNG', class: 'btn-sm', testid: `${section}-save-png` });
  const jsonButton: HTMLButtonElement = iconButton('download', `Save ${section} as JSON`, () => void busy(jsonButton, () =>
    saveBlob(new Blob([JSON.stringify(json(), null, 2)], { type: 'application/json' }), name('json'))),
  { text: 'Save JSON', class: 'btn-sm', testid: `${section}-save-json` });
  return h('div', { class: 'section-actions' }, pngButton, jsonButton);
}
