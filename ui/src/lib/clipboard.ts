// Copying text: the async clipboard, or a hidden textarea where the webview lacks it.
import { h } from './dom';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fallback for webviews without the async clipboard.
    const area = h('textarea', { class: 'offscreen', attrs: { 'aria-hidden': 'true' } });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
