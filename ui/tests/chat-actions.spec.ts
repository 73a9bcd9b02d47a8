// Regenerate, edit & resend, copy, full image, and the chat list.
import { expect, test } from './fixtures';
import { answers, chatItems, composer, messages, nav, questions } from './helpers';

test.use({ mockConfig: { modelLoaded: true } });

test('regenerate replaces the last answer only', async ({ app, mock }) => {
  await expect(app.getByRole('button', { name: 'Regenerate' })).toHaveCount(1);
  await expect(answers(app).last()).toContainText('Probably not.');
  await answers(app).last().getByRole('button', { name: 'Regenerate' }).click();
  await expect(answers(app).last()).toContainText('You asked: Is it a puppy?');
  await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  await expect(messages(app)).toHaveCount(4);
  await expect(app.getByText('Probably not.')).toHaveCount(0);
  await expect(answers(app).first()).toContainText('border collie');
  expect(await mock.calls('regenerate')).toEqual([{ chatId: 'chat-dog', onEvent: '[channel]' }]);
});

test('edit & resend replaces that message and what followed', async ({ app, mock }) => {
  const first = questions(app).first();
  await first.hover();
  await first.getByRole('button', { name: 'Edit and resend' }).click();
  const editor = first.getByRole('textbox', { name: 'Edit message' });
  await expect(editor).toHaveValue('What breed is this dog?');
  await editor.fill('What colour is this dog?');
  await first.getByRole('button', { name: 'Save & send' }).click();

  await expect(messages(app)).toHaveCount(2);
  await expect(questions(app).first()).toContainText('What colour is this dog?');
  await expect(questions(app).first().getByRole('button', { name: 'Open image dog-in-park.jpg' })).toBeVisible();
  await expect(answers(app).last()).toContainText('You asked: What colour is this dog?');
  await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  expect(await mock.calls('edit_message')).toEqual([
    { chatId: 'chat-dog', messageId: 'm-dog-1', text: 'What colour is this dog?', imageIds: ['img-seed-dog'], onEvent: '[channel]' },
  ]);
});

test('Esc in the editor cancels the edit', async ({ app, mock }) => {
  const last = questions(app).last();
  await last.hover();
  await last.getByRole('button', { name: 'Edit and resend' }).click();
  await last.getByRole('textbox', { name: 'Edit message' }).fill('changed');
  await last.getByRole('textbox', { name: 'Edit message' }).press('Escape');
  await expect(last.getByTestId('message-text')).toHaveText('Is it a puppy?');
  expect(await mock.calls('edit_message')).toEqual([]);
});

test('copy puts the answer on the clipboard', async ({ app, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const answer = answers(app).first();
  await answer.hover();
  await answer.getByRole('button', { name: 'Copy' }).click();
  await expect(answer.getByRole('button', { name: 'Copied' })).toBeVisible();
  const text = await app.evaluate(() => navigator.clipboard.readText());
  expect(text).toBe('It looks like a **border collie**: black and white coat, medium build and the typical alert ears.');
});

test('a thumbnail opens the full image', async ({ app, mock }) => {
  await app.getByRole('button', { name: 'Open image dog-in-park.jpg' }).click();
  const box = app.getByRole('dialog', { name: 'dog-in-park.jpg' });
  await expect(box.getByRole('img', { name: 'dog-in-park.jpg' })).toBeVisible();
  await expect(box.getByRole('img')).toHaveAttribute('src', /^data:image\/png;base64,/);
  expect(await mock.calls('get_image')).toEqual([{ id: 'img-seed-dog' }]);
  await app.keyboard.press('Escape');
  await expect(box).toHaveCount(0);
});

test('new chat, switch and delete', async ({ app, mock }) => {
  await expect(chatItems(app)).toHaveCount(2);
  await app.getByRole('button', { name: 'New chat' }).click();
  await expect(chatItems(app)).toHaveCount(3);
  await expect(chatItems(app).first()).toContainText('New chat');
  await expect(chatItems(app).first().getByRole('button', { name: 'New chat', exact: true })).toHaveAttribute('aria-current', 'true');
  await expect(app.getByRole('heading', { level: 1 })).toHaveText('New chat');
  await expect(app.getByTestId('empty-welcome')).toBeVisible();
  expect(await mock.calls('create_chat')).toEqual([{ modelId: 'llava-1.5-7b-hf' }]);

  // Its first message names it and moves it to the top.
  await composer(app).fill('Count the birds');
  await composer(app).press('Enter');
  await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  await expect(chatItems(app).first()).toContainText('Count the birds');
  await expect(app.getByRole('heading', { level: 1 })).toHaveText('Count the birds');

  await app.getByRole('list', { name: 'Chats' }).getByRole('button', { name: 'Receipt total', exact: true }).click();
  await expect(app.getByRole('heading', { level: 1 })).toHaveText('Receipt total');
  await expect(answers(app).last()).toContainText('The total is $42.17, paid by card.');
  await expect(app.getByRole('combobox', { name: 'Model' })).toHaveValue('blip2-opt-2.7b');

  await app.getByRole('button', { name: 'Delete chat Receipt total' }).click();
  const confirm = app.getByRole('dialog', { name: 'Delete this chat?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(chatItems(app)).toHaveCount(3);
  expect(await mock.calls('delete_chat')).toEqual([]);

  await app.getByRole('button', { name: 'Delete chat Receipt total' }).click();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(chatItems(app)).toHaveCount(2);
  await expect(chatItems(app).filter({ hasText: 'Receipt total' })).toHaveCount(0);
  expect(await mock.calls('delete_chat')).toEqual([{ id: 'chat-receipt' }]);
  await expect(app.getByRole('heading', { level: 1 })).toHaveText('Count the birds');
});

test('the model selector sets the chat model', async ({ app, mock }) => {
  const select = app.getByRole('combobox', { name: 'Model' });
  await expect(select).toHaveValue('llava-1.5-7b-hf');
  await expect(select.getByRole('option', { name: 'paligemma-3b (unavailable)' })).toBeDisabled();
  await select.selectOption('blip2-opt-2.7b');
  await expect.poll(() => mock.calls('set_chat_model')).toEqual([{ id: 'chat-dog', modelId: 'blip2-opt-2.7b' }]);
});

test.describe('without models', () => {
  test.use({ mockConfig: { models: 'none', chats: 'none' } });

  test('points to the Models page and cannot send', async ({ app }) => {
    await expect(app.getByTestId('empty-no-model')).toContainText('No model ready yet');
    await expect(composer(app)).toBeDisabled();
    await app.getByRole('button', { name: 'Go to Models' }).click();
    await expect(app.getByRole('heading', { name: 'Models', level: 1 })).toBeVisible();
    await expect(nav(app, 'Models')).toHaveAttribute('aria-current', 'page');
  });
});

test.describe('first start', () => {
  test.use({ mockConfig: { chats: 'none', modelLoaded: true } });

  test('sending with no chat creates one', async ({ app, mock }) => {
    await expect(chatItems(app)).toHaveCount(0);
    await composer(app).fill('Hi');
    await composer(app).press('Enter');
    await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
    await expect(chatItems(app)).toHaveCount(1);
    expect(await mock.calls('create_chat')).toEqual([{ modelId: 'llava-1.5-7b-hf' }]);
  });
});
