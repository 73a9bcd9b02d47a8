// Entry point: theme first (no flash), then the shell with its pages.
import './styles/base.css';
import './styles/layout.css';
import './styles/chat.css';
import './styles/pages.css';
import './styles/explain.css';
import './styles/documents.css';
import { applyTheme } from './lib/theme';
import { toastError } from './lib/toast';
import { getSettings } from './services/settings';
import type { AppError } from './services/types';
import { Shell } from './shell';
import { ChatView } from './views/chat/chat-view';
import { DocumentsView } from './views/documents/documents-view';
import { ExplainView } from './views/explain/explain-view';
import { ModelsView } from './views/models/models-view';
import { SettingsView } from './views/settings/settings-view';

async function main(): Promise<void> {
  applyTheme('system');
  try {
    applyTheme((await getSettings()).theme);
  } catch (error) {
    toastError(error as AppError);
  }
  const shell = new Shell();
  const chat = new ChatView(shell);
  const explain = new ExplainView();
  const documents = new DocumentsView();
  const models = new ModelsView();
  const settings = new SettingsView();
  shell.add(chat, 'Chat', 'chat');
  shell.add(explain, 'How it sees', 'eye');
  shell.add(documents, 'Documents', 'page');
  shell.add(models, 'Models', 'models');
  shell.add(settings, 'Settings', 'settings');
  document.getElementById('app')?.replaceChildren(shell.el);
  await Promise.all([chat.start(), explain.start(), documents.start(), models.start(), settings.start()]);
  shell.navigate('chat');
  document.documentElement.dataset.ready = 'true';
}

window.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  toastError({ code: 'INTERNAL', message: 'Something went wrong.', details: String(event.reason?.message ?? event.reason) });
});

void main();
