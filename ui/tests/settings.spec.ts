// The Settings page: load, validate, save, theme.
import { expect, test } from './fixtures';
import { nav } from './helpers';

test.beforeEach(async ({ app }) => {
  await nav(app, 'Settings').click();
  await expect(app.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
});

const field = (page: import('@playwright/test').Page, label: string) => page.getByLabel(label, { exact: true });

test('shows the current settings and saves changes', async ({ app, mock }) => {
  await expect(field(app, 'Max new tokens')).toHaveValue('512');
  await expect(field(app, 'Precision')).toHaveValue('f16');
  await expect(field(app, 'Hugging Face address')).toHaveValue('https://huggingface.co');
  await expect(field(app, 'Device').getByRole('option')).toHaveText([
    'Automatic (best available)',
    'NVIDIA GeForce RTX 4070 (Vulkan)',
    'CPU',
  ]);

  await field(app, 'Device').selectOption({ label: 'NVIDIA GeForce RTX 4070 (Vulkan)' });
  await field(app, 'Precision').selectOption('f32');
  await field(app, 'Max new tokens').fill('1024');
  await field(app, 'Temperature').fill('0.7');
  await field(app, 'Top-k').fill('40');
  await field(app, 'Top-p').fill('0.9');
  await field(app, 'Seed').fill('42');
  await app.getByRole('button', { name: 'Save settings' }).click();
  await expect(app.getByTestId('settings-status')).toHaveText('Settings saved.');
  expect(await mock.calls('set_settings')).toEqual([
    {
      settings: {
        device: 'gpu:0', precision: 'f32', maxNewTokens: 1024, temperature: 0.7, topK: 40, topP: 0.9,
        seed: 42, theme: 'light', hubUrl: 'https://huggingface.co',
      },
    },
  ]);
});

test('invalid values are explained at their field and not sent', async ({ app, mock }) => {
  await field(app, 'Max new tokens').fill('5000');
  await field(app, 'Top-p').fill('0');
  await field(app, 'Hugging Face address').fill('huggingface');
  await app.getByRole('button', { name: 'Save settings' }).click();
  await expect(field(app, 'Max new tokens')).toHaveAttribute('aria-invalid', 'true');
  await expect(field(app, 'Max new tokens')).toHaveAccessibleDescription('Enter a whole number from 1 to 4096.');
  await expect(field(app, 'Top-p')).toHaveAccessibleDescription('Enter a number above 0 and at most 1 (1 turns it off).');
  await expect(field(app, 'Hugging Face address')).toHaveAccessibleDescription('Enter a web address starting with https:// or http://.');
  await expect(field(app, 'Temperature')).toHaveAttribute('aria-invalid', 'false');
  await expect(app.getByTestId('settings-status')).toContainText('Some settings need fixing');
  expect(await mock.calls('set_settings')).toEqual([]);

  await field(app, 'Max new tokens').fill('256');
  await field(app, 'Top-p').fill('1');
  await field(app, 'Hugging Face address').fill('https://hf-mirror.example.org');
  await app.getByRole('button', { name: 'Save settings' }).click();
  await expect(app.getByTestId('settings-status')).toHaveText('Settings saved.');
  await expect(field(app, 'Max new tokens')).toHaveAttribute('aria-invalid', 'false');
});

test('an error from the backend is shown by the form', async ({ app, mock }) => {
  await mock.failNext('set_settings', { code: 'STORAGE', message: 'Settings could not be written to disk.', details: 'EACCES: settings.json' });
  await app.getByRole('button', { name: 'Save settings' }).click();
  await expect(app.getByTestId('settings-status')).toContainText('Settings could not be written to disk.');
});

test('theme: dark and light apply at once and are saved; system follows the desktop', async ({ app, mock }) => {
  const html = app.locator('html');
  await expect(html).toHaveClass(/\blight\b/);
  await app.getByRole('radio', { name: 'Dark' }).check();
  await expect(html).toHaveClass(/\bdark\b/);
  await expect.poll(async () => (await mock.calls('set_settings')).map((c) => (c.settings as { theme: string }).theme)).toEqual(['dark']);
  const background = await app.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(18, 18, 23)');

  await app.getByRole('radio', { name: 'Light' }).check();
  await expect(html).toHaveClass(/\blight\b/);
  await expect(html).not.toHaveClass(/\bdark\b/);

  await app.emulateMedia({ colorScheme: 'dark' });
  await app.getByRole('radio', { name: 'System' }).check();
  await expect(html).toHaveClass(/\bdark\b/);
  await app.emulateMedia({ colorScheme: 'light' });
  await expect(html).toHaveClass(/\blight\b/);
  await app.emulateMedia({ colorScheme: 'dark' });
  await expect(html).toHaveClass(/\bdark\b/);
});

test.describe('saved dark theme', () => {
  test.use({ mockConfig: { settings: { theme: 'dark' } } });

  test('is applied at start-up', async ({ app }) => {
    await expect(app.locator('html')).toHaveClass(/\bdark\b/);
    await expect(app.getByRole('radio', { name: 'Dark' })).toBeChecked();
  });
});
