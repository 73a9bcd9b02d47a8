// The Models page: list, import, delete, download with progress, cancel, errors.
import { expect, test } from './fixtures';
import { nav } from './helpers';

const rows = (page: import('@playwright/test').Page) => page.getByRole('table', { name: 'Installed models' }).getByTestId('model-row');

test.beforeEach(async ({ app }) => {
  await nav(app, 'Models').click();
  await expect(app.getByRole('heading', { name: 'Models', level: 1 })).toBeVisible();
});

test('lists models with sizes, parameters and whether they run', async ({ app }) => {
  await expect(rows(app)).toHaveCount(3);
  const llava = rows(app).filter({ hasText: 'llava-hf/llava-1.5-7b-hf' });
  await expect(llava).toContainText('LLaVA-1.5');
  await expect(llava).toContainText('14.1 GB');
  await expect(llava).toContainText('7.1B');
  await expect(llava).toContainText('f16');
  await expect(llava).toContainText('Ready');
  const blip = rows(app).filter({ hasText: 'Salesforce/blip2-opt-2.7b' });
  await expect(blip).toContainText('3.7B');
  await expect(blip).toContainText('15.5 GB');
  const paligemma = rows(app).filter({ hasText: 'paligemma-3b' });
  await expect(paligemma).toContainText('Iris cannot run `paligemma` models yet.');
  await expect(paligemma).not.toContainText('Ready');
});

test('an import the backend refuses shows its message in place', async ({ app, mock }) => {
  await mock.failNext('import_model', {
    code: 'INVALID_MODEL',
    message: 'This folder is not a model Iris can use: config.json is missing.',
    details: 'no such file: /home/ada/Downloads/config.json',
  });
  await app.getByRole('button', { name: 'Import folder…' }).click();
  const error = app.getByTestId('import-error');
  await expect(error).toContainText('This folder is not a model Iris can use: config.json is missing.');
  await expect(error.getByTestId('import-error-box')).toHaveAttribute('data-code', 'INVALID_MODEL');
  expect(await mock.calls('import_model')).toEqual([{ path: null }]);
  await expect(rows(app)).toHaveCount(3);

  // The next try works and the error goes away.
  await app.getByRole('button', { name: 'Import folder…' }).click();
  await expect(error).toBeHidden();
  await expect(rows(app)).toHaveCount(4);
  await expect(rows(app).filter({ hasText: 'my-llava' })).toContainText('Ready');
});

test('delete asks first, then removes the model', async ({ app, mock }) => {
  await app.getByRole('button', { name: 'Delete model Salesforce/blip2-opt-2.7b' }).click();
  const dialog = app.getByRole('dialog', { name: 'Delete Salesforce/blip2-opt-2.7b?' });
  await expect(dialog).toContainText('15.5 GB');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(rows(app)).toHaveCount(2);
  expect(await mock.calls('delete_model')).toEqual([{ id: 'blip2-opt-2.7b' }]);
});

test('repo ids are checked before downloading', async ({ app, mock }) => {
  const input = app.getByRole('textbox', { name: 'Hugging Face repository' });
  await input.fill('llava-1.5');
  await app.getByRole('button', { name: 'Download', exact: true }).click();
  await expect(app.getByText('Use the form owner/name, e.g. llava-hf/llava-1.5-7b-hf.')).toBeVisible();
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await input.fill('a/b/c');
  await input.press('Enter');
  await expect(app.getByText('Use the form owner/name, e.g. llava-hf/llava-1.5-7b-hf.')).toBeVisible();
  expect(await mock.calls('download_model')).toEqual([]);
});

test('a download shows its progress up to 100% and the model appears', async ({ app, mock }) => {
  await app.getByRole('textbox', { name: 'Hugging Face repository' }).fill('llava-hf/llava-interleave-qwen-0.5b-hf');
  await app.getByRole('button', { name: 'Download', exact: true }).click();
  const card = app.getByTestId('download');
  const bar = card.getByRole('progressbar', { name: 'Downloading llava-hf/llava-interleave-qwen-0.5b-hf' });
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  await expect(card.getByTestId('download-status')).toContainText('Done');
  await expect(card).toContainText('llava-hf/llava-interleave-qwen-0.5b-hf is ready.');
  await expect(rows(app).filter({ hasText: 'llava-hf/llava-interleave-qwen-0.5b-hf' })).toContainText('Ready');
  expect(await mock.calls('download_model')).toEqual([
    { repoId: 'llava-hf/llava-interleave-qwen-0.5b-hf', revision: null, onEvent: '[channel]' },
  ]);
});

test.describe('step by step', () => {
  test.use({ mockConfig: { manualDownloads: true } });

  test('progress counts bytes and files; cancel stops it', async ({ app, mock }) => {
    await app.getByRole('textbox', { name: 'Hugging Face repository' }).fill('llava-hf/bakLlava-v1-hf');
    await app.getByRole('button', { name: 'Download', exact: true }).click();
    const card = app.getByTestId('download');
    const bar = card.getByRole('progressbar');
    await mock.stepDownload(1);
    await expect(card.getByTestId('download-status')).toHaveText('Listing files…');
    await mock.stepDownload(1 + 4 + 1 + 2); // started, config.json (4 parts, verify), half the first shard
    await expect(bar).toHaveAttribute('aria-valuenow', '31');
    await expect(card.getByTestId('download-status')).toContainText('1.0 GB of 3.2 GB · 1 of 3 files');
    await card.getByRole('button', { name: 'Cancel download llava-hf/bakLlava-v1-hf' }).click();
    await expect(card.getByTestId('download-status')).toContainText('Cancelled');
    expect(await mock.calls('cancel_download')).toEqual([{ repoId: 'llava-hf/bakLlava-v1-hf' }]);
    await expect(rows(app)).toHaveCount(3);
    await card.getByRole('button', { name: 'Dismiss llava-hf/bakLlava-v1-hf' }).click();
    await expect(card).toHaveCount(0);
  });
});

test('a failed download shows the reason on its card', async ({ app, mock }) => {
  await mock.failNext('download_model', {
    code: 'NETWORK',
    message: 'Could not reach huggingface.co. Check the connection or the Hub address in Settings.',
    details: 'dns error: failed to lookup address information',
  });
  await app.getByRole('textbox', { name: 'Hugging Face repository' }).fill('llava-hf/llava-1.5-13b-hf');
  await app.getByRole('button', { name: 'Download', exact: true }).click();
  await expect(app.getByTestId('download-error')).toContainText('Could not reach huggingface.co.');
  await expect(rows(app)).toHaveCount(3);
});
