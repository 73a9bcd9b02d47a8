// The full image in a modal, fetched on demand with get_image.
import { h, iconButton } from '../../lib/dom';
import { errorView } from '../../lib/error-view';
import { getImage } from '../../services/images';
import type { AppError, ImageRef } from '../../services/types';

export async function openLightbox(image: ImageRef, load: (id: string) => Promise<string> = getImage): Promise<void> {
  const stage = h('div', { class: 'lightbox-stage' }, h('div', { class: 'spinner', attrs: { 'aria-label': 'Loading image' } }));
  const dialog = h(
    'dialog',
    { class: 'lightbox', attrs: { 'aria-label': image.name, 'data-testid': 'lightbox' } },
    h('div', { class: 'lightbox-bar' },
      h('span', { class: 'lightbox-name', text: `${image.name} · ${image.width}×${image.height}` }),
      iconButton('close', 'Close image', () => dialog.close(), { class: 'btn-ghost' })),
    stage,
  );
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog || event.target === stage) dialog.close();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  try {
    const src = await load(image.id);
    stage.replaceChildren(h('img', { attrs: { src, alt: image.name } }));
  } catch (error) {
    stage.replaceChildren(errorView(error as AppError));
  }
}
