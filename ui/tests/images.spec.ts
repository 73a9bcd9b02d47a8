// Staging images: native drag-and-drop, clipboard paste, the attach button, removing a chip.
import { expect, test } from './fixtures';
import { answers, chips, composer, questions } from './helpers';

test.use({ mockConfig: { modelLoaded: true } });

const position = { x: 400, y: 300 };

test('files dropped on the window are staged (Tauri drag-drop events)', async ({ app, mock }) => {
  const overlay = app.getByTestId('drop-overlay');
  await expect(overlay).toBeHidden();
  await mock.emit('tauri://drag-enter', { paths: ['/home/ada/Pictures/cat.png'], position });
  await expect(overlay).toBeVisible();
  await expect(overlay).toContainText('Drop images to attach');
  await mock.emit('tauri://drag-over', { position });
  await expect(overlay).toBeVisible();
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/Pictures/cat.png', '/home/ada/scan 2.jpeg'], position });
  await expect(overlay).toBeHidden();
  await expect(chips(app)).toHaveCount(2);
  await expect(chips(app).nth(0)).toContainText('cat.png');
  await expect(chips(app).nth(1)).toContainText('scan 2.jpeg');
  expect(await mock.calls('add_image_files')).toEqual([{ paths: ['/home/ada/Pictures/cat.png', '/home/ada/scan 2.jpeg'] }]);

  // Several images go with one message.
  await composer(app).fill('Compare these');
  await composer(app).press('Enter');
  await expect(questions(app).last().getByRole('button', { name: /^Open image/ })).toHaveCount(2);
  await expect(answers(app).last()).toContainText('I see 2 images');
  const [send] = await mock.calls('send_message');
  expect((send.imageIds as string[]).length).toBe(2);
});

test('leaving the window hides the drop overlay', async ({ app, mock }) => {
  await mock.emit('tauri://drag-enter', { paths: ['/tmp/a.png'], position });
  await expect(app.getByTestId('drop-overlay')).toBeVisible();
  await mock.emit('tauri://drag-leave', null);
  await expect(app.getByTestId('drop-overlay')).toBeHidden();
  expect(await mock.calls('add_image_files')).toEqual([]);
});

test('a dropped file that is no image shows why, near the composer', async ({ app, mock }) => {
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/notes.txt'], position });
  await expect(app.getByTestId('composer-error')).toContainText('“notes.txt” is not an image Iris can read.');
  await expect(chips(app)).toHaveCount(0);
});

test('a drop while on another page opens the chat with the images staged', async ({ app, mock }) => {
  await app.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
  await expect(app.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/cat.png'], position });
  await expect(chips(app)).toHaveCount(1);
  await expect(composer(app)).toBeVisible();
});

test('pasting an image stages it through add_image_bytes', async ({ app, mock }) => {
  await composer(app).click();
  const base64 = await app.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 6;
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#e33';
    g.fillRect(0, 0, 8, 6);
    const data = canvas.toDataURL('image/png').split(',')[1];
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'screenshot.png', { type: 'image/png' }));
    const input = document.querySelector('textarea[aria-label="Message"]')!;
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    return data;
  });
  await expect(chips(app)).toHaveCount(1);
  await expect(chips(app)).toContainText('screenshot.png');
  expect(await mock.calls('add_image_bytes')).toEqual([{ name: 'screenshot.png', dataBase64: base64 }]);
  await expect(composer(app)).toHaveValue('');
});

test('pasting text stays text', async ({ app, mock }) => {
  await composer(app).click();
  await app.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.setData('text/plain', 'hello');
    const input = document.querySelector('textarea[aria-label="Message"]')!;
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  });
  expect(await mock.calls('add_image_bytes')).toEqual([]);
  await expect(chips(app)).toHaveCount(0);
});

test('a staged image can be removed before sending', async ({ app, mock }) => {
  await app.getByRole('button', { name: 'Attach images' }).click();
  await expect(chips(app)).toHaveCount(1);
  await app.getByRole('button', { name: 'Remove holiday.jpg' }).click();
  await expect(chips(app)).toHaveCount(0);
  await composer(app).fill('No picture');
  await composer(app).press('Enter');
  await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  expect((await mock.calls('send_message'))[0].imageIds).toEqual([]);
});

test('images can be added in later turns', async ({ app, mock }) => {
  for (const question of ['First look', 'And this one?']) {
    await app.getByRole('button', { name: 'Attach images' }).click();
    await expect(chips(app)).toHaveCount(1);
    await composer(app).fill(question);
    await composer(app).press('Enter');
    await expect(answers(app).last()).toContainText(`You asked: ${question}`);
  }
  const sends = await mock.calls('send_message');
  expect(sends.map((s) => (s.imageIds as string[]).length)).toEqual([1, 1]);
  expect(sends[0].imageIds).not.toEqual(sends[1].imageIds);
});
