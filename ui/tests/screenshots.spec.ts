// One screenshot per main view (light, and the chat in dark) for a look by eye:
// $UI_SHOTS_DIR, default /tmp/ui-shots. They also check that each view renders its main parts.
import { expect, test } from './fixtures';
import { answers, chips, composer, nav } from './helpers';

const dir = process.env.UI_SHOTS_DIR ?? '/tmp/ui-shots';

test.use({ mockConfig: { manual: true, manualDownloads: true } });

test('chat', async ({ app, mock }) => {
  await app.getByRole('button', { name: 'Attach images' }).click();
  await composer(app).fill('What is in this picture?');
  await composer(app).press('Enter');
  await mock.step(2);
  await expect(app.getByRole('progressbar', { name: 'Loading model' })).toBeVisible();
  await app.screenshot({ path: `${dir}/chat-loading.png` });
  await mock.step(1 + 1 + 9);
  await expect(answers(app).last().getByTestId('message-text')).toContainText('landscape');
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/Pictures/street.jpg'], position: { x: 1, y: 1 } });
  await expect(chips(app)).toHaveCount(1);
  await app.screenshot({ path: `${dir}/chat.png` });
  await mock.step(100);
  await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  await nav(app, 'Settings').click();
  await app.getByRole('radio', { name: 'Dark' }).check();
  await nav(app, 'Chat').click();
  await expect(app.locator('html')).toHaveClass(/\bdark\b/);
  await app.screenshot({ path: `${dir}/chat-dark.png` });
});

test('models', async ({ app, mock }) => {
  await nav(app, 'Models').click();
  await app.getByRole('textbox', { name: 'Hugging Face repository' }).fill('llava-hf/llava-1.5-13b-hf');
  await app.getByRole('button', { name: 'Download', exact: true }).click();
  await mock.stepDownload(9);
  await expect(app.getByTestId('download').getByRole('progressbar')).not.toHaveAttribute('aria-valuenow', '0');
  await app.screenshot({ path: `${dir}/models.png`, fullPage: true });
});

test('settings', async ({ app }) => {
  await nav(app, 'Settings').click();
  await app.getByLabel('Max new tokens', { exact: true }).fill('0');
  await app.getByRole('button', { name: 'Save settings' }).click();
  await expect(app.getByTestId('settings-status')).toContainText('Some settings need fixing');
  await app.screenshot({ path: `${dir}/settings.png` });
});

test.describe('small window', () => {
  test.use({ viewport: { width: 800, height: 600 } });

  test('chat at 800x600', async ({ app }) => {
    await expect(composer(app)).toBeInViewport();
    await app.screenshot({ path: `${dir}/chat-800x600.png` });
  });
});
