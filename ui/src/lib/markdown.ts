// A small, safe Markdown subset for answers: ``` code blocks, `inline code`, **bold**.
// Everything is built as DOM nodes from text, so model output can never become markup.
import { h } from './dom';

/** Renders `text` into `target` (replacing its children). An unclosed fence runs to the end. */
export function renderMarkdown(target: HTMLElement, text: string): void {
  const nodes: Node[] = [];
  const parts = text.split('```');
  parts.forEach((part, index) => {
    if (index % 2 === 0) {
      if (part !== '') nodes.push(renderProse(part));
      return;
    }
    const newline = part.indexOf('\n');
    const language = newline >= 0 ? part.slice(0, newline).trim() : '';
    const code = newline >= 0 ? part.slice(newline + 1) : part;
    const pre = h('pre', { class: 'md-code' }, h('code', { text: code.replace(/\n$/, '') }));
    if (language && /^[\w+#.-]{1,20}$/.test(language)) pre.dataset.language = language;
    nodes.push(pre);
  });
  target.replaceChildren(...nodes);
}

function renderProse(text: string): HTMLElement {
  const block = h('div', { class: 'md-text' });
  // Inline code first (its content is literal), then bold inside the rest.
  const pieces = text.split(/(`[^`\n]+`)/);
  for (const piece of pieces) {
    if (piece.length > 2 && piece.startsWith('`') && piece.endsWith('`')) {
      block.appendChild(h('code', { class: 'md-inline', text: piece.slice(1, -1) }));
    } else {
      appendBold(block, piece);
    }
  }
  return block;
}

function appendBold(parent: HTMLElement, text: string): void {
  const pieces = text.split(/(\*\*[^*\n][^*]*?\*\*)/);
  for (const piece of pieces) {
    if (piece === '') continue;
    if (piece.length > 4 && piece.startsWith('**') && piece.endsWith('**')) {
      parent.appendChild(h('strong', { text: piece.slice(2, -2) }));
    } else {
      parent.appendChild(document.createTextNode(piece));
    }
  }
}
