// Theme: "system" follows prefers-color-scheme live; the effective theme lands on <html> as the
// class `dark`/`light` and the attribute data-theme.
import type { Theme } from '../services/types';

const query = window.matchMedia('(prefers-color-scheme: dark)');
let chosen: Theme = 'system';

function paint(): void {
  const dark = chosen === 'dark' || (chosen === 'system' && query.matches);
  const root = document.documentElement;
  root.classList.toggle('dark', dark);
  root.classList.toggle('light', !dark);
  root.dataset.theme = dark ? 'dark' : 'light';
  root.dataset.themeChoice = chosen;
}

query.addEventListener('change', paint);

export function applyTheme(theme: Theme): void {
  chosen = theme;
  paint();
}

export function currentTheme(): Theme {
  return chosen;
}
