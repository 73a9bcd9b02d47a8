// The `app` fixture: the built page with the fake backend installed, plus helpers to drive the
// fake. Every test also fails on uncaught errors, unhandled rejections and CSP violations.
import { test as base, expect, type Page } from '@playwright/test';
import { buildSync } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AppError } from '../src/services/types';
import type { MockConfig } from './mock/gate';

if (!existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))) {
  throw new Error('ui/dist is missing: run `npm run build` before `npm test`.');
}

const mockBundle = buildSync({
  entryPoints: [fileURLToPath(new URL('./mock/backend.ts', import.meta.url))],
  bundle: true,
  format: 'iife',
  target: 'es2022',
  write: false,
}).outputFiles[0].text;

// As in the shell (tauri.conf.json: freezePrototype), Object.prototype is frozen.
const WATCH_ERRORS = `
  Object.freeze(Object.prototype);
  window.__pageProblems = [];
  window.addEventListener('error', (e) => window.__pageProblems.push('error: ' + e.message));
  window.addEventListener('unhandledrejection', (e) =>
    window.__pageProblems.push('unhandled rejection: ' + JSON.stringify(e.reason && (e.reason.message || e.reason))));
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__pageProblems.push('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
`;

/** Drives and inspects the fake backend inside the page. */
export class Mock {
  constructor(private page: Page) {}

  calls(cmd: string): Promise<Record<string, unknown>[]> {
    return this.page.evaluate((c) => irisMock().callsTo(c), cmd);
  }
  step(n = 1): Promise<void> {
    return this.page.evaluate((k) => irisMock().step(k), n);
  }
  stepDownload(n = 1): Promise<void> {
    return this.page.evaluate((k) => irisMock().stepDownload(k), n);
  }
  failNext(cmd: string, error: AppError): Promise<void> {
    return this.page.evaluate((a) => void irisMock().failNext(a.cmd, a.error), { cmd, error });
  }
  emit(event: string, payload: unknown): Promise<void> {
    return this.page.evaluate((a) => irisMock().emit(a.event, a.payload).then(() => undefined), { event, payload });
  }
  cancelNextSave(): Promise<void> {
    return this.page.evaluate(() => irisMock().cancelNextSave());
  }
  cancelNextOpen(): Promise<void> {
    return this.page.evaluate(() => irisMock().cancelNextOpen());
  }
  isRunning(): Promise<boolean> {
    return this.page.evaluate(() => irisMock().isRunning());
  }
}

type Fixtures = { mockConfig: MockConfig; app: Page; mock: Mock };

export const test = base.extend<Fixtures>({
  mockConfig: [{}, { option: true }],
  app: async ({ page, mockConfig }, use) => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    await page.addInitScript(WATCH_ERRORS);
    await page.addInitScript((cfg) => {
      (window as unknown as { __IRIS_MOCK_CONFIG__: unknown }).__IRIS_MOCK_CONFIG__ = cfg;
    }, mockConfig);
    await page.addInitScript(mockBundle);
    await page.goto('/');
    await expect(page.locator('html[data-ready="true"]')).toBeAttached();
    await use(page);
    const problems = await page.evaluate(() => (window as unknown as { __pageProblems: string[] }).__pageProblems).catch(() => []);
    expect([...pageErrors, ...problems], 'uncaught errors in the page').toEqual([]);
  },
  mock: async ({ app }, use) => {
    await use(new Mock(app));
  },
});

export { expect };
