// Staging images: files dropped on the window, picked in a dialog, or pasted; full images on demand.
import { getCurrentWebview } from '@tauri-apps/api/webview';
import { call } from './ipc';
import type { ImageRef } from './types';

export const addImageFiles = (paths: string[]) => call<ImageRef[]>('add_image_files', { paths });
export const pickImages = () => call<ImageRef[]>('pick_images');
export const addImageBytes = (name: string, dataBase64: string) =>
  call<ImageRef>('add_image_bytes', { name, dataBase64 });
export const getImage = (id: string) => call<string>('get_image', { id });

/** The file's bytes as base64 (no `data:` prefix). */
export function fileToBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('could not read the pasted file'));
    reader.readAsDataURL(file);
  });
}

/** Image files carried by a paste event (screenshots, copied files). */
export function imagesFromClipboard(data: DataTransfer | null): File[] {
  if (!data) return [];
  const files: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind === 'file' && item.type.startsWith('image/')) {
      const file = item.getAsFile();
      if (file) files.push(file);
    }
  }
  if (files.length === 0) {
    for (const file of Array.from(data.files ?? [])) if (file.type.startsWith('image/')) files.push(file);
  }
  return files;
}

export type DragDrop = { type: 'enter' } | { type: 'over' } | { type: 'leave' } | { type: 'drop'; paths: string[] };

/** Native window drag-and-drop (HTML5 `drop` never reaches the page in Tauri). */
export async function onDragDrop(handler: (event: DragDrop) => void): Promise<() => void> {
  const unlisten = await getCurrentWebview().onDragDropEvent((event) => {
    const payload = event.payload;
    if (payload.type === 'drop') handler({ type: 'drop', paths: payload.paths });
    else handler({ type: payload.type });
  });
  return () => void unlisten();
}
