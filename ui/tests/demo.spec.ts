// The built-in demo model: the empty chat's notice, sample scenes and suggested questions, the
// default model, and the Models page's label. Screenshots (light and dark) go to $UI_SHOTS_DIR.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { answers, chatItems, chips, composer, nav, questions } from './helpers';
import { builtinModel, defaultModels, SAMPLE_SCENES } from './mock/data';

const dir = process.env.UI_SHOTS_DIR ?? '/tmp/ui-shots';

const panel = (page: Page) => page.getByTestId('demo-panel');
const scenes = (page: Page) => page.getByRole('list', { name: 'Sample scenes' }).getByTestId('demo-scene');
const questionChips = (page: Page) => page.getByRole('list', { name: 'Suggested questions' }).getByTestId('question-chip');

test.use({ mockConfig: { models: [builtinModel(), ...defaultModels()], chats: 'none' } });

test('an empty chat on the built-in model shows the notice and the sample scenes', async ({ app, mock }) => {
  await expect(app.getByRole('combobox', { name: 'Model' })).toHaveValue('iris-shapes');
  await expect(app.getByRole('combobox', { name: 'Model' }).locator('option:checked')).toHaveText('Iris shapes — built-in demo');
  const notice = panel(app).getByRole('note');
  await expect(notice).toContainText('trained by Iris on synthetic scenes of coloured shapes and printed words');
  await expect(notice).toContainText('knows nothing else');
  await expect(scenes(app)).toHaveCount(6);
  await expect(scenes(app).first()).toHaveAccessibleName('Attach Scene 1');
  await expect(scenes(app).first().locator('img')).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect(panel(app)).toContainText('Pick a scene to attach it');
  expect(await mock.calls('demo_samples')).toHaveLength(1);

  // The notice's button leads to the Models page.
  await notice.getByRole('button', { name: 'Go to Models' }).click();
  await expect(app.getByRole('heading', { name: 'Models', level: 1 })).toBeVisible();
});

test('a scene attaches like a dropped image; its question chips send and get the answer', async ({ app, mock }) => {
  await scenes(app).first().click();
  await expect(chips(app)).toHaveCount(1);
  await expect(chips(app).first()).toContainText('scene-1.png');
  await expect(scenes(app).first()).toHaveAttribute('aria-pressed', 'true');
  await expect(panel(app)).toContainText('Ask about Scene 1:');
  await expect(questionChips(app)).toHaveText(SAMPLE_SCENES[0].questions.map((q) => q.question));

  // Another scene replaces the sample (one scene at a time); the chips follow it.
  await scenes(app).nth(1).click();
  await expect(chips(app)).toHaveCount(1);
  await expect(chips(app).first()).toContainText('scene-2.png');
  await expect(questionChips(app)).toHaveText(SAMPLE_SCENES[1].questions.map((q) => q.question));
  await scenes(app).first().click();

  // A chip sends its question with the attached scene.
  await questionChips(app).first().click();
  await expect(questions(app)).toHaveCount(1);
  await expect(questions(app).first()).toContainText('What colour is the circle?');
  await expect(questions(app).first().locator('img')).toHaveCount(1);
  await expect(answers(app).first()).toHaveAttribute('data-status', 'done');
  await expect(answers(app).first().getByTestId('message-text')).toHaveText('green');
  await expect(panel(app)).toBeHidden();
  await expect(chips(app)).toHaveCount(0);
  await expect(composer(app)).toHaveValue('');
  await expect(chatItems(app)).toHaveCount(1);

  expect(await mock.calls('create_chat')).toEqual([{ modelId: 'iris-shapes' }]);
  const [sent] = await mock.calls('send_message');
  expect(sent.text).toBe('What colour is the circle?');
  expect(sent.imageIds).toEqual(['img-sample-1']);
});

test('removing the attached scene takes its questions away', async ({ app }) => {
  await scenes(app).nth(2).click();
  await expect(questionChips(app)).toHaveCount(1);
  await chips(app).first().getByRole('button', { name: 'Remove scene-3.png' }).click();
  await expect(questionChips(app)).toHaveCount(0);
  await expect(panel(app)).toContainText('Pick a scene to attach it');
});

test('the samples are for the built-in model only', async ({ app }) => {
  await expect(panel(app)).toBeVisible();
  await app.getByRole('combobox', { name: 'Model' }).selectOption('llava-1.5-7b-hf');
  await expect(app.getByTestId('empty-welcome')).toBeVisible();
  await expect(panel(app)).toBeHidden();
  await app.getByRole('combobox', { name: 'Model' }).selectOption('iris-shapes');
  await expect(panel(app)).toBeVisible();
  await expect(scenes(app)).toHaveCount(6);
});

test('the Models page labels the built-in model and offers no delete for it', async ({ app }) => {
  await nav(app, 'Models').click();
  const row = app.getByRole('table', { name: 'Installed models' }).getByTestId('model-row').filter({ hasText: 'Iris shapes' });
  await expect(row).toContainText('Iris shapes — built-in demo');
  await expect(row.getByTestId('builtin-badge')).toHaveText('Built-in');
  await expect(row).toContainText('Ready');
  await expect(row.getByRole('button', { name: /Delete/ })).toHaveCount(0);
  await expect(app.getByRole('button', { name: 'Delete model llava-hf/llava-1.5-7b-hf' })).toBeVisible();
});

test('How it sees and Documents start on a real model; the built-in one stays on offer', async ({ app }) => {
  await nav(app, 'Documents').click();
  await expect(app.locator('#documents-model')).toHaveValue('llava-1.5-7b-hf');
  await expect(app.locator('#documents-model option')).toHaveText(['Iris shapes — built-in demo', 'llava-hf/llava-1.5-7b-hf', 'Salesforce/blip2-opt-2.7b']);
  await nav(app, 'How it sees').click();
  await expect(app.locator('#explain-model')).toHaveValue('llava-1.5-7b-hf');
});

test.describe('only the built-in model', () => {
  test.use({ mockConfig: { models: [builtinModel()], chats: 'none' } });

  test('it is the default everywhere', async ({ app }) => {
    await expect(scenes(app)).toHaveCount(6);
    await nav(app, 'How it sees').click();
    await expect(app.locator('#explain-model')).toHaveValue('iris-shapes');
  });
});

test.describe('looks', () => {
  test('light', async ({ app }) => {
    await scenes(app).first().click();
    await expect(questionChips(app)).toHaveCount(3);
    await app.screenshot({ path: `${dir}/chat-demo.png` });
  });

  test.describe('dark', () => {
    test.use({ mockConfig: { models: [builtinModel(), ...defaultModels()], chats: 'none', settings: { theme: 'dark' } } });

    test('dark', async ({ app }) => {
      await expect(app.locator('html')).toHaveClass(/\bdark\b/);
      await scenes(app).first().click();
      await expect(questionChips(app)).toHaveCount(3);
      await app.screenshot({ path: `${dir}/chat-demo-dark.png` });
    });
  });
});
