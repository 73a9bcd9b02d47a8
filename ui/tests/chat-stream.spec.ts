// Sending, streaming, keyboard, stop, model loading and errors.
import { expect, test } from './fixtures';
import { answers, chips, composer, messages, questions } from './helpers';

test.describe('streaming, step by step', () => {
  test.use({ mockConfig: { manual: true, modelLoaded: true } });

  test('a message with an image streams its answer token by token', async ({ app, mock }) => {
    await app.getByRole('button', { name: 'Attach images' }).click();
    await expect(chips(app)).toHaveCount(1);
    await expect(chips(app)).toContainText('holiday.jpg');
    await composer(app).fill('What is in this picture?');
    await composer(app).press('Enter');

    await expect(composer(app)).toHaveValue('');
    await expect(chips(app)).toHaveCount(0);
    const question = questions(app).last();
    await expect(question).toContainText('What is in this picture?');
    await expect(question.getByRole('button', { name: 'Open image holiday.jpg' })).toBeVisible();
    const [call] = await mock.calls('send_message');
    expect(call).toMatchObject({ chatId: 'chat-dog', text: 'What is in this picture?', onEvent: '[channel]' });
    expect((call.imageIds as string[]).length).toBe(1);

    await mock.step(1); // started
    const answer = answers(app).last();
    await expect(answer).toHaveAttribute('data-status', 'streaming');
    await expect(app.getByRole('button', { name: 'Stop', exact: true })).toBeVisible();
    await mock.step(2);
    await expect(answer.getByTestId('message-text')).toHaveText('I see');
    await mock.step(2);
    await expect(answer.getByTestId('message-text')).toHaveText('I see one image:');
    await expect(answer.getByTestId('message-stats')).toHaveCount(0);

    await mock.step(100);
    await expect(answer).toHaveAttribute('data-status', 'done');
    await expect(answer.getByTestId('message-text')).toHaveText(
      'I see one image: a sunny landscape with green hills.\nYou asked: What is in this picture?',
      { useInnerText: true },
    );
    await expect(answer.locator('strong')).toHaveText('sunny');
    await expect(answer.locator('code')).toHaveText('green');
    await expect(answer.getByTestId('message-stats')).toHaveText(/\d+ tokens · 18\.4 tok\/s/);
    await expect(app.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
    await expect(messages(app)).toHaveCount(6);
  });

  test('Stop ends the answer: marked stopped, backend told', async ({ app, mock }) => {
    await composer(app).fill('Describe it');
    await composer(app).press('Enter');
    await mock.step(3);
    const answer = answers(app).last();
    await expect(answer.getByTestId('message-text')).toHaveText('You asked:');
    await app.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(answer).toHaveAttribute('data-status', 'stopped');
    await expect(answer.getByTestId('message-stopped')).toHaveText('Stopped');
    await expect(answer.getByTestId('message-text')).toHaveText('You asked:');
    expect(await mock.calls('stop_generation')).toEqual([{ chatId: 'chat-dog' }]);
    await expect(app.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
  });

  test('Esc stops the running answer', async ({ app, mock }) => {
    await composer(app).fill('Describe it');
    await composer(app).press('Enter');
    await mock.step(2);
    await expect(answers(app).last().getByTestId('message-text')).toHaveText('You');
    await composer(app).press('Escape');
    await expect(answers(app).last()).toHaveAttribute('data-status', 'stopped');
    expect(await mock.calls('stop_generation')).toEqual([{ chatId: 'chat-dog' }]);
    expect(await mock.isRunning()).toBe(false);
  });
});

test.describe('model loading', () => {
  test.use({ mockConfig: { manual: true } });

  test('load progress is shown with its stage, then the answer', async ({ app, mock }) => {
    await composer(app).fill('Hello');
    await composer(app).press('Enter');
    const bar = app.getByRole('progressbar', { name: 'Loading model' });
    await mock.step(1);
    await expect(bar).toHaveAttribute('aria-valuenow', '0');
    await expect(app.getByTestId('model-loading-stage')).toHaveText('Reading config');
    await mock.step(1);
    await expect(bar).toHaveAttribute('aria-valuenow', '40');
    await expect(app.getByTestId('model-loading-stage')).toHaveText('Loading weights (2 of 4 files)');
    await mock.step(1);
    await expect(bar).toHaveAttribute('aria-valuenow', '100');
    await mock.step(1); // started
    await expect(bar).toBeHidden();
    await expect(answers(app).last()).toHaveAttribute('data-status', 'streaming');
    await mock.step(100);
    await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  });
});

test.describe('keyboard', () => {
  test.use({ mockConfig: { modelLoaded: true } });

  test('Shift+Enter adds a line, Enter sends', async ({ app, mock }) => {
    const input = composer(app);
    await input.click();
    await input.pressSequentially('line one');
    await input.press('Shift+Enter');
    await input.pressSequentially('line two');
    await expect(input).toHaveValue('line one\nline two');
    expect(await mock.calls('send_message')).toEqual([]);
    await input.press('Enter');
    await expect(questions(app).last().getByTestId('message-text')).toHaveText('line one\nline two', { useInnerText: true });
    const calls = await mock.calls('send_message');
    expect(calls.map((c) => c.text)).toEqual(['line one\nline two']);
    await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
  });

  test('empty input does not send', async ({ app, mock }) => {
    await composer(app).press('Enter');
    await composer(app).fill('   ');
    await composer(app).press('Enter');
    expect(await mock.calls('send_message')).toEqual([]);
  });
});

test.describe('errors', () => {
  test.use({ mockConfig: { modelLoaded: true } });

  test('a refused send shows the error by the message, and the app goes on', async ({ app, mock }) => {
    await mock.failNext('send_message', {
      code: 'MODEL_LOAD_FAILED',
      message: 'The model could not be loaded. Its weights may be damaged.',
      details: 'safetensors: header of model-00001 is too large',
    });
    await composer(app).fill('hello there');
    await composer(app).press('Enter');
    const failed = questions(app).last();
    await expect(failed).toHaveAttribute('data-status', 'not-sent');
    const error = failed.getByTestId('message-error');
    await expect(error).toContainText('The model could not be loaded. Its weights may be damaged.');
    await expect(error.getByText('safetensors: header of model-00001 is too large')).toBeHidden();
    await error.getByText('Details').click();
    await expect(error.getByText('safetensors: header of model-00001 is too large')).toBeVisible();
    await expect(composer(app)).toHaveValue('hello there');

    await composer(app).press('Enter');
    await expect(answers(app).last()).toHaveAttribute('data-status', 'done');
    await expect(answers(app).last()).toContainText('You asked: hello there');
    await expect(app.locator('[data-status="not-sent"]')).toHaveCount(0);
  });
});

test.describe('a chat longer than the context', () => {
  test.use({ mockConfig: { modelLoaded: true, forgottenExchanges: 2 } });

  test('the answer says how many earlier exchanges were left out', async ({ app }) => {
    await composer(app).fill('And now?');
    await composer(app).press('Enter');
    const answer = answers(app).last();
    await expect(answer).toHaveAttribute('data-status', 'done');
    const note = answer.getByTestId('message-forgotten');
    await expect(note).toHaveText('2 earlier exchanges left out');
    await expect(note).toHaveAttribute('title', /no longer fits the model's context.*images were kept/);
    // An ordinary answer has no such note.
    await expect(answers(app).first().getByTestId('message-forgotten')).toHaveCount(0);
  });
});

test.describe('errors while streaming', () => {
  test.use({ mockConfig: { modelLoaded: true, failAfterTokens: 2 } });

  test('an error mid-answer marks that answer and keeps its text', async ({ app }) => {
    await composer(app).fill('Describe it');
    await composer(app).press('Enter');
    const answer = answers(app).last();
    await expect(answer).toHaveAttribute('data-status', 'error');
    await expect(answer.getByTestId('message-error')).toContainText('The model ran out of memory.');
    await expect(answer.getByTestId('message-text')).toHaveText('You asked:');
    await expect(app.getByRole('button', { name: 'Send', exact: true })).toBeVisible();
  });
});
