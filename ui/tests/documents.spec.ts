// "Documents": open (dialog, window drop, errors), the page list and thumbnails, a read streamed
// page by page (progress, Stop, page ranges, a failing page), exports through save_export.
import type { Page } from '@playwright/test';
import { parsePages } from '../src/services/documents';
import { pageMarkdown, pageText } from './mock/data';
import { expect, test, type Mock } from './fixtures';
import { chips, nav } from './helpers';

test.use({ mockConfig: { manual: true, modelLoaded: true } });

/** Gate steps of one whole page: pageStarted, then one per token. */
const pieces = (page: number) => pageMarkdown(page).match(/\S+\s*|\s+/g)!.length;
const stepsFor = (page: number) => 1 + pieces(page);

const rows = (page: Page) => page.getByRole('list', { name: 'Pages' }).getByTestId('page-row');
const row = (page: Page, n: number) => rows(page).nth(n);
const progress = (page: Page) => page.getByTestId('documents-progress');
const pagesField = (page: Page) => page.getByRole('textbox', { name: 'Pages' });
const readButton = (page: Page) => page.getByTestId('documents-read');
const panelText = (page: Page) => page.getByTestId('page-text');

async function openReport(page: Page): Promise<void> {
  await nav(page, 'Documents').click();
  await page.getByTestId('documents-open').click();
  await expect(page.getByTestId('documents-file')).toContainText('report.pdf');
}

/** The bytes of the last save_export call, and its other arguments. */
async function lastExport(mock: Mock) {
  const call = (await mock.calls('save_export')).at(-1)!;
  return { name: call.suggestedName, path: call.path, text: Buffer.from(String(call.dataBase64), 'base64').toString('utf8') };
}

test('the rail has Documents after "How it sees"; the page starts empty', async ({ app }) => {
  const labels = await app.getByRole('navigation', { name: 'Main' }).getByRole('button').allTextContents();
  expect(labels).toEqual(['Chat', 'How it sees', 'Documents', 'Models', 'Settings']);
  await nav(app, 'Documents').click();
  await expect(app.getByRole('heading', { name: 'Documents', level: 1 })).toBeVisible();
  await expect(app.getByTestId('documents-empty')).toBeVisible();
  await expect(readButton(app)).toBeDisabled();
  // Only runnable models are offered.
  await expect(app.locator('#documents-model option')).toHaveText(['llava-hf/llava-1.5-7b-hf', 'Salesforce/blip2-opt-2.7b']);
});

test('Open document… opens from the dialog: page list with thumbnails, the first page shown', async ({ app, mock }) => {
  await nav(app, 'Documents').click();
  await mock.cancelNextOpen();
  await app.getByTestId('documents-open').click();
  await expect.poll(async () => (await mock.calls('open_document')).length).toBe(1);
  await expect(app.getByTestId('documents-empty')).toBeVisible(); // a cancelled dialog changes nothing

  await app.getByTestId('documents-open').click();
  await expect(app.getByTestId('documents-file')).toContainText('report.pdf');
  await expect(app.getByTestId('documents-file')).toContainText('PDF · 3 pages');
  expect(await mock.calls('open_document')).toEqual([{ path: null }, { path: null }]);
  await expect(rows(app)).toHaveCount(3);
  await expect(rows(app).getByTestId('page-thumb')).toHaveCount(3);
  for (const thumb of await rows(app).getByTestId('page-thumb').all()) {
    await expect(thumb).toHaveAttribute('src', /^data:image\/png;base64,/);
    expect(await thumb.evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(160);
  }
  await expect(rows(app).getByTestId('page-status')).toHaveText(['Not read', 'Not read', 'Not read']);
  await expect(progress(app)).toHaveText('3 pages · not read yet');
  await expect(row(app, 0)).toHaveAttribute('aria-current', 'true');
  await expect(app.getByTestId('page-title')).toHaveText('Page 1');
  await expect(app.getByTestId('page-image')).toBeVisible();
  const calls = await mock.calls('document_page');
  expect(calls.filter((c) => c.maxSide === 160).map((c) => c.page)).toEqual([0, 1, 2]);
  expect(calls.filter((c) => c.maxSide === 900).map((c) => c.page)).toEqual([0]);

  await row(app, 2).click();
  await expect(app.getByTestId('page-title')).toHaveText('Page 3');
  await expect(row(app, 2)).toHaveAttribute('aria-current', 'true');
  await expect(app.getByTestId('export-markdown')).toBeDisabled();
  await expect(app.getByTestId('export-text')).toBeDisabled();
  // Zoom: the page at a larger size in the lightbox.
  await app.getByTestId('page-zoom').click();
  await expect(app.getByTestId('lightbox').locator('img')).toBeVisible();
  await app.keyboard.press('Escape');
  expect((await mock.calls('document_page')).at(-1)).toMatchObject({ page: 2, maxSide: 2000 });
});

test('a file dropped on this page is opened here; errors show by the Open button', async ({ app, mock }) => {
  await nav(app, 'Documents').click();
  const position = { x: 500, y: 400 };
  await mock.emit('tauri://drag-enter', { paths: ['/home/ada/scan.png'], position });
  await expect(app.getByTestId('documents-drop-overlay')).toBeVisible();
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/scan.png'], position });
  await expect(app.getByTestId('documents-drop-overlay')).toBeHidden();
  await expect(app.getByTestId('documents-file')).toContainText('scan.png');
  await expect(app.getByTestId('documents-file')).toContainText('Image · 1 page');
  await expect(rows(app)).toHaveCount(1);
  expect(await mock.calls('open_document')).toEqual([{ path: '/home/ada/scan.png' }]);
  expect(await mock.calls('add_image_files')).toEqual([]); // not staged in the chat
  await expect(app.getByRole('heading', { name: 'Documents', level: 1 })).toBeVisible();
  await expect(chips(app)).toHaveCount(0);

  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/locked.pdf'], position });
  const error = app.getByTestId('documents-open-error');
  await expect(error).toContainText('This PDF is password-protected.');
  await expect(error.getByTestId('documents-open-error-box')).toHaveAttribute('data-code', 'BAD_DOCUMENT');
  // The open document stays, and the app stays usable: the next open works and clears the error.
  await expect(rows(app)).toHaveCount(1);
  await app.getByTestId('documents-open').click();
  await expect(app.getByTestId('documents-file')).toContainText('report.pdf');
  await expect(error).toBeHidden();
  await expect(rows(app)).toHaveCount(3);
});

test('reading streams each page into its place, with progress "page i of n"', async ({ app, mock }) => {
  await openReport(app);
  await readButton(app).click();
  await expect(app.getByTestId('documents-stop')).toBeVisible();
  await expect(app.getByTestId('documents-open')).toBeDisabled();
  await expect(rows(app).getByTestId('page-status')).toHaveText(['Waiting', 'Waiting', 'Waiting']);
  await mock.step(1 + 3);
  await expect(progress(app)).toHaveText('Reading page 1 of 3');
  await expect(row(app, 0)).toHaveAttribute('data-status', 'reading');
  await expect(row(app, 0).locator('.spinner')).toBeVisible();
  await expect(row(app, 0).getByTestId('page-status')).toHaveText('Reading… 3 tokens');
  await expect(panelText(app)).toHaveText('# Quarterly report\n\n');
  await mock.step(pieces(0) - 3);
  await expect(row(app, 0).getByTestId('page-status')).toHaveText(`${pieces(0)} tokens`);
  // Done: the page's Markdown, rendered safely.
  await expect(panelText(app).locator('strong')).toHaveText('12%');
  await mock.step(1 + 2);
  await expect(progress(app)).toHaveText('Reading page 2 of 3');
  await expect(app.getByRole('progressbar', { name: 'Reading progress' })).toHaveAttribute('aria-valuenow', '33');
  // The panel follows the page being read.
  await expect(app.getByTestId('page-title')).toHaveText('Page 2');
  await expect(row(app, 1)).toHaveAttribute('aria-current', 'true');
  await expect(panelText(app)).toHaveText('## Costs\n\n');
  await expect(row(app, 0)).toHaveAttribute('data-status', 'done');
  await expect(row(app, 2)).toHaveAttribute('data-status', 'waiting');
  // Picking a page stops the following: the read goes on, the pick stays.
  await row(app, 0).click();
  await expect(panelText(app).locator('strong')).toHaveText('12%');
  await mock.step(pieces(1) - 2 + 1);
  await expect(progress(app)).toHaveText('Reading page 3 of 3');
  await expect(app.getByTestId('page-title')).toHaveText('Page 1');
  await mock.step(pieces(2));
  await expect(progress(app)).toHaveText('Done · 3 of 3 pages read');
  await expect(rows(app).getByTestId('page-status')).toHaveText([0, 1, 2].map((p) => `${pieces(p)} tokens`));
  await expect(readButton(app)).toBeVisible();
  await expect(app.getByTestId('export-markdown')).toBeEnabled();
  expect(await mock.calls('read_document')).toEqual([{ documentId: expect.stringMatching(/^doc-/), modelId: 'llava-1.5-7b-hf', pages: null, onEvent: '[channel]' }]);

  // Raw / rendered, and Copy page.
  await row(app, 1).click();
  await app.getByRole('radio', { name: 'Raw' }).check();
  await expect(panelText(app)).toHaveText(pageMarkdown(1));
  await app.getByRole('radio', { name: 'Rendered' }).check();
  await expect(panelText(app).locator('code')).toHaveText('4.1%');
});

test('Copy page puts the page\'s Markdown on the clipboard', async ({ app, mock, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openReport(app);
  await pagesField(app).fill('1');
  await readButton(app).click();
  await mock.step(stepsFor(0));
  await expect(progress(app)).toHaveText('Done · 1 of 1 page read');
  await app.getByTestId('page-copy').click();
  await expect(app.getByRole('status').filter({ hasText: 'Copied page 1' })).toBeVisible();
  expect(await app.evaluate(() => navigator.clipboard.readText())).toBe(pageMarkdown(0));
});

test('Stop ends the run after the token in flight and keeps the pages done', async ({ app, mock }) => {
  await openReport(app);
  await readButton(app).click();
  await mock.step(stepsFor(0) + 1 + 2);
  await expect(row(app, 1).getByTestId('page-status')).toHaveText('Reading… 2 tokens');
  await expect(app.getByTestId('export-markdown')).toBeDisabled();
  await app.getByTestId('documents-stop').click();
  await expect(progress(app)).toHaveText('Stopped · 1 of 3 pages read');
  const [{ documentId }] = await mock.calls('read_document');
  expect(await mock.calls('cancel_reading')).toEqual([{ documentId }]);
  await expect(rows(app).getByTestId('page-status')).toHaveText([`${pieces(0)} tokens`, 'Stopped · 2 tokens', 'Not read']);
  await expect(row(app, 1)).toHaveAttribute('data-status', 'stopped');
  await expect(app.getByTestId('page-meta')).toHaveText('Stopped · 2 tokens');
  await expect(panelText(app)).toContainText('## Costs');
  await expect(readButton(app)).toBeEnabled();
  await expect(app.getByTestId('documents-open')).toBeEnabled();
  // What was done can be exported.
  await app.getByTestId('export-markdown').click();
  await expect.poll(async () => (await mock.calls('save_export')).length).toBe(1);
  expect((await lastExport(mock)).text).toBe(`<!-- page 1 -->\n\n${pageMarkdown(0)}\n\n<!-- page 2 -->\n\n## Costs\n\n`);
});

test('the pages field is checked before reading; a valid range is passed on', async ({ app, mock }) => {
  await openReport(app);
  const hint = app.getByTestId('documents-pages-hint');
  for (const [value, says] of [
    ['0', 'page 0 does not exist'],
    ['3-1', 'The range 3-1 runs backwards; write 1-3.'],
    ['x', '“x” is not a page number'],
    ['4', 'Page 4 does not exist: the document has 3 pages.'],
    ['1,,2', 'empty part'],
  ]) {
    await pagesField(app).fill(value);
    await readButton(app).click();
    await expect(hint).toContainText(says);
    await expect(pagesField(app)).toHaveAttribute('aria-invalid', 'true');
  }
  expect(await mock.calls('read_document')).toEqual([]);
  await pagesField(app).fill('2-3');
  await expect(pagesField(app)).toHaveAttribute('aria-invalid', 'false'); // fixed as you type
  await pagesField(app).fill(' 1, 3 ');
  await readButton(app).click();
  await expect(rows(app).getByTestId('page-status')).toHaveText(['Waiting', 'Not read', 'Waiting']);
  await mock.step(stepsFor(0) + 1);
  await expect(progress(app)).toHaveText('Reading page 2 of 2');
  await expect(app.getByTestId('page-title')).toHaveText('Page 3');
  await mock.step(pieces(2));
  await expect(progress(app)).toHaveText('Done · 2 of 2 pages read');
  expect((await mock.calls('read_document'))[0]).toMatchObject({ pages: '1,3' });
  await expect(rows(app).getByTestId('page-status')).toHaveText([`${pieces(0)} tokens`, 'Not read', `${pieces(2)} tokens`]);
});

test.describe('with the model still to load', () => {
  test.use({ mockConfig: { manual: true, modelLoaded: false } });

  // The shell starts the first page, then loads the model inside that page's read (seen in the
  // real window): the label shows the load, then the reading once the page's text comes.
  test('the load shows in the progress, then "page 1 of n"', async ({ app, mock }) => {
    await openReport(app);
    await readButton(app).click();
    await mock.step(1 + 2);
    await expect(progress(app)).toHaveText('Loading model 50% · Loading weights');
    await expect(row(app, 0)).toHaveAttribute('data-status', 'reading');
    await mock.step(1 + 1);
    await expect(progress(app)).toHaveText('Reading page 1 of 3');
    await expect(row(app, 0).getByTestId('page-status')).toHaveText('Reading… 1 token');
  });
});

test.describe('with a page that fails', () => {
  test.use({ mockConfig: { manual: true, modelLoaded: true, failPage: 1 } });

  test('its error shows on its row and the run goes on', async ({ app, mock }) => {
    await openReport(app);
    await readButton(app).click();
    await mock.step(stepsFor(0) + 1 + 2);
    const failed = row(app, 1);
    await expect(failed).toHaveAttribute('data-status', 'error');
    await expect(failed.getByTestId('page-status')).toHaveText('The model stopped with an error on this page.');
    await expect(app.getByTestId('page-error')).toContainText('The model stopped with an error on this page.');
    await mock.step(stepsFor(2));
    await expect(progress(app)).toHaveText('Done · 2 of 3 pages read · 1 failed');
    await expect(row(app, 2)).toHaveAttribute('data-status', 'done');
    await expect(app.getByTestId('page-title')).toHaveText('Page 3');
    await failed.click();
    await expect(app.getByTestId('page-error')).toHaveAttribute('data-code', 'GENERATION_FAILED');
    await expect(app.getByTestId('documents-read-error')).toBeHidden();
  });
});

test('a read refused as a whole shows its error by the Read button', async ({ app, mock }) => {
  await openReport(app);
  await mock.failNext('read_document', { code: 'OUT_OF_MEMORY', message: 'The model ran out of memory. Try the f16 precision.', details: 'wgpu: allocation failed' });
  await readButton(app).click();
  const error = app.getByTestId('documents-read-error');
  await expect(error).toContainText('The model ran out of memory.');
  await expect(error.getByTestId('documents-read-error-box')).toHaveAttribute('data-code', 'OUT_OF_MEMORY');
  await expect(rows(app).getByTestId('page-status')).toHaveText(['Not read', 'Not read', 'Not read']);
  await expect(readButton(app)).toBeEnabled();
  await readButton(app).click();
  await expect(error).toBeHidden();
  await mock.step(100);
  await expect(progress(app)).toHaveText('Done · 3 of 3 pages read');
});

test('Export Markdown and Export text save the result through save_export', async ({ app, mock }) => {
  await openReport(app);
  await readButton(app).click();
  await mock.step(100);
  await expect(progress(app)).toHaveText('Done · 3 of 3 pages read');
  await app.getByTestId('export-markdown').click();
  await expect(app.getByRole('status').filter({ hasText: 'Saved /home/ada/Pictures/report.md' })).toBeVisible();
  const md = await lastExport(mock);
  expect(md).toEqual({
    name: 'report.md', path: null,
    text: [0, 1, 2].map((p) => `<!-- page ${p + 1} -->\n\n${pageMarkdown(p)}`).join('\n\n'),
  });
  await app.getByTestId('export-text').click();
  await expect.poll(async () => (await mock.calls('save_export')).length).toBe(2);
  expect(await lastExport(mock)).toEqual({ name: 'report.txt', path: null, text: [0, 1, 2].map(pageText).join('\n\n') });
  expect((await lastExport(mock)).text).toContain('Sales rose by 12% in the third quarter.');

  await mock.failNext('save_export', { code: 'STORAGE', message: 'Iris could not write /root/report.md.', details: 'permission denied' });
  await app.getByTestId('export-markdown').click();
  await expect(app.getByRole('alert').filter({ hasText: 'Iris could not write /root/report.md.' })).toBeVisible();
});

test('page ranges parse as the engine reads them', () => {
  expect(parsePages('', 4)).toEqual({ spec: null, pages: [0, 1, 2, 3] });
  expect(parsePages('1,3', 4)).toEqual({ spec: '1,3', pages: [0, 2] });
  expect(parsePages(' 4 , 1-2 ,2 ', 4)).toEqual({ spec: '4,1-2,2', pages: [0, 1, 3] });
  expect(parsePages('3-', 4)).toEqual({ spec: '3-', pages: [2, 3] });
  for (const bad of ['0', '3-1', 'x', '5', '-2', '1,,2', '1-2-3', '2-5']) expect(parsePages(bad, 4)).toHaveProperty('problem');
});

test.describe('screenshots', () => {
  const dir = process.env.UI_SHOTS_DIR ?? '/tmp/ui-shots';

  test('reading, light and dark', async ({ app, mock }) => {
    await openReport(app);
    await readButton(app).click();
    await mock.step(stepsFor(0) + 1 + 5);
    await expect(progress(app)).toHaveText('Reading page 2 of 3');
    await expect(rows(app).getByTestId('page-thumb')).toHaveCount(3);
    await expect(app.getByTestId('page-image')).toBeVisible();
    await app.screenshot({ path: `${dir}/documents.png` });
    await mock.step(100);
    await expect(progress(app)).toHaveText('Done · 3 of 3 pages read');
    await nav(app, 'Settings').click();
    await app.getByRole('radio', { name: 'Dark' }).check();
    await nav(app, 'Documents').click();
    await row(app, 0).click();
    await expect(app.locator('html')).toHaveClass(/\bdark\b/);
    await app.screenshot({ path: `${dir}/documents-dark.png` });
  });

  test.describe('small window', () => {
    test.use({ viewport: { width: 800, height: 600 } });

    test('documents at 800x600', async ({ app, mock }) => {
      await openReport(app);
      await mock.emit('tauri://drag-drop', { paths: ['/home/ada/locked.pdf'], position: { x: 1, y: 1 } });
      await expect(app.getByTestId('documents-open-error')).toBeVisible();
      await app.screenshot({ path: `${dir}/documents-800x600.png` });
    });
  });
});
