// "How it sees": the explain bar, each section drawn from the fixture explanations of
// tests/mock/explain-data.ts (whose hot spots are known), answer_attention calls, exports.
import { writeFile } from 'node:fs/promises';
import type { Locator, Page } from '@playwright/test';
import { colormap } from '../src/lib/colormap';
import { defaultModels, model } from './mock/data';
import { attentionFor, explanationFor, hotIndex, idefics3Views, oneVisionViews, qformerCentre, QF, qformerCls, qwen2vlViews, tilePlan } from './mock/explain-data';
import { expect, test } from './fixtures';
import { chips, nav } from './helpers';

const onevision = model('llava-onevision-0.5b', { name: 'llava-hf/llava-onevision-qwen2-0.5b-ov-hf', family: 'LLaVA-OneVision', modelType: 'llava_onevision' });
const smolvlm = model('smolvlm-256m', { name: 'HuggingFaceTB/SmolVLM-256M-Instruct', family: 'Idefics3 / SmolVLM', modelType: 'idefics3' });
const qwen2vl = model('qwen2-vl-2b-instruct', { name: 'Qwen/Qwen2-VL-2B-Instruct', family: 'Qwen2-VL', modelType: 'qwen2_vl' });
const MODELS = [...defaultModels(), onevision, smolvlm, qwen2vl];
const HOT = colormap('viridis', 1);

test.use({ mockConfig: { models: MODELS, modelLoaded: true } });

const tab = (page: Page, name: string) => page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });
const modelSelect = (page: Page) => page.getByRole('combobox', { name: 'Model' });

async function open(page: Page, modelId: string | null = null): Promise<void> {
  await nav(page, 'How it sees').click();
  if (modelId) await modelSelect(page).selectOption(modelId);
  await page.getByTestId('explain-pick').click();
  await expect(page.getByTestId('explain-image')).toContainText('holiday.jpg');
}

async function explainWith(page: Page, modelId: string | null = null): Promise<void> {
  await open(page, modelId);
  await page.getByTestId('explain-button').click();
  await expect(tab(page, 'Pipeline')).toBeVisible();
}

/** Sets a range input as a drag would (input event). */
async function setRange(range: Locator, value: number): Promise<void> {
  await range.evaluate((el: HTMLInputElement, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

async function pixel(canvas: Locator, x: number, y: number): Promise<number[]> {
  return canvas.evaluate((el: HTMLCanvasElement, [px, py]) =>
    Array.from(el.getContext('2d')!.getImageData(Math.floor(px), Math.floor(py), 1, 1).data.slice(0, 3)), [x, y]);
}

async function size(canvas: Locator): Promise<{ width: number; height: number }> {
  return canvas.evaluate((el: HTMLCanvasElement) => ({ width: el.width, height: el.height }));
}

test('the rail has "How it sees" after Chat', async ({ app }) => {
  const labels = await app.getByRole('navigation', { name: 'Main' }).getByRole('button').allTextContents();
  expect(labels).toEqual(['Chat', 'How it sees', 'Documents', 'Models', 'Settings']);
  await nav(app, 'How it sees').click();
  await expect(app.getByRole('heading', { name: 'How it sees', level: 1 })).toBeVisible();
  await expect(nav(app, 'How it sees')).toHaveAttribute('aria-current', 'page');
});

test('the prompt follows the model family until it is edited', async ({ app }) => {
  await nav(app, 'How it sees').click();
  const prompt = app.getByRole('textbox', { name: 'Prompt' });
  await expect(modelSelect(app).locator('option')).toHaveText(['llava-hf/llava-1.5-7b-hf', 'Salesforce/blip2-opt-2.7b', onevision.name, smolvlm.name, qwen2vl.name]);
  await expect(prompt).toHaveValue('What is in this picture?');
  await modelSelect(app).selectOption('blip2-opt-2.7b');
  await expect(prompt).toHaveValue('Question: what is in the picture? Answer:');
  await modelSelect(app).selectOption('llava-1.5-7b-hf');
  await expect(prompt).toHaveValue('What is in this picture?');
  await prompt.fill('Which season is it?');
  await modelSelect(app).selectOption('blip2-opt-2.7b');
  await expect(prompt).toHaveValue('Which season is it?');
});

test.describe('with the model still to load', () => {
  test.use({ mockConfig: { models: MODELS, manual: true } });

  test('explain shows load progress, streams the answer, then the pipeline', async ({ app, mock }) => {
    await open(app);
    await app.getByRole('textbox', { name: 'Prompt' }).fill('What is in this picture?');
    await app.getByTestId('explain-button').click();
    await expect(app.getByTestId('explain-button')).toBeDisabled();
    await mock.step(2);
    await expect(app.getByRole('progressbar', { name: 'Loading model' })).toHaveAttribute('aria-valuenow', '40');
    await expect(app.getByText('Loading weights (2 of 4 files)')).toBeVisible();
    await mock.step(1 + 3);
    await expect(app.getByTestId('explain-answer')).toHaveText('A sunny landscape');
    await expect(app.getByRole('progressbar', { name: 'Loading model' })).toBeHidden();
    await expect(tab(app, 'Pipeline')).toBeHidden();
    await mock.step(4);
    await expect(tab(app, 'Pipeline')).toHaveAttribute('aria-selected', 'true');
    await expect(app.getByTestId('explain-answer')).toHaveText('A sunny landscape with green hills.');
    await expect(app.getByTestId('explain-button')).toBeEnabled();
    const [call] = await mock.calls('explain');
    expect(call).toEqual({ modelId: 'llava-1.5-7b-hf', imageId: expect.stringMatching(/^img-/), prompt: 'What is in this picture?', onEvent: '[channel]' });

    const rows = app.getByTestId('pipeline-stage');
    await expect(rows).toHaveCount(7);
    await expect(rows.locator('.pipeline-name')).toHaveText(['Image', 'Encoder views', 'Patches per view', 'Vision tokens', 'Connector output', 'Prompt tokens', 'Answer tokens']);
    await expect(rows.nth(0)).toContainText('1024×768 pixels');
    await expect(rows.nth(0)).toContainText('786,432');
    await expect(rows.nth(4)).toContainText('576');
    await expect(rows.locator('.pipeline-arrow')).toHaveCount(6);
    const timings = app.getByTestId('pipeline-timings');
    await expect(timings).toContainText('Load model2.14 s');
    await expect(timings).toContainText('Vision encoder412 ms');
    await expect(timings).toContainText('Total4.54 s');
    // LLaVA-1.5: no tiles, no Q-Former, but answer tokens.
    await expect(app.getByRole('tab')).toHaveText(['Pipeline', 'Answer tokens']);
  });
});

test('errors from explain are shown next to the button', async ({ app, mock }) => {
  await nav(app, 'How it sees').click();
  await app.getByTestId('explain-button').click();
  await expect(app.getByTestId('explain-error')).toContainText('Choose an image first');
  expect(await mock.calls('explain')).toEqual([]);

  await app.getByTestId('explain-pick').click();
  await mock.failNext('explain', { code: 'OUT_OF_MEMORY', message: 'The model ran out of memory. Try the f16 precision.', details: 'wgpu: allocation of 512 MiB failed' });
  await app.getByTestId('explain-button').click();
  const error = app.getByTestId('explain-error');
  await expect(error).toContainText('The model ran out of memory. Try the f16 precision.');
  await expect(error.getByTestId('explain-error-box')).toHaveAttribute('data-code', 'OUT_OF_MEMORY');
  await expect(app.getByRole('tablist', { name: 'Sections' })).toBeHidden();
  await expect(app.getByTestId('explain-button')).toBeEnabled();
  // The next try succeeds and clears the error.
  await app.getByTestId('explain-button').click();
  await expect(tab(app, 'Pipeline')).toBeVisible();
  await expect(error).toBeHidden();
});

test('an image dropped on this page is staged here, not in the chat', async ({ app, mock }) => {
  await nav(app, 'How it sees').click();
  const position = { x: 400, y: 300 };
  await mock.emit('tauri://drag-enter', { paths: ['/home/ada/Pictures/cat.png'], position });
  await expect(app.getByTestId('explain-drop-overlay')).toBeVisible();
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/Pictures/cat.png'], position });
  await expect(app.getByTestId('explain-drop-overlay')).toBeHidden();
  await expect(app.getByTestId('explain-image')).toContainText('cat.png');
  expect(await mock.calls('add_image_files')).toEqual([{ paths: ['/home/ada/Pictures/cat.png'] }]);
  await expect(app.getByRole('heading', { name: 'How it sees', level: 1 })).toBeVisible();
  await mock.emit('tauri://drag-drop', { paths: ['/home/ada/notes.txt'], position });
  await expect(app.getByTestId('explain-error')).toContainText('“notes.txt” is not an image Iris can read.');
  await nav(app, 'Chat').click();
  await expect(chips(app)).toHaveCount(0);
});

test('AnyRes: tiles on the image, the chosen candidate and the token sum', async ({ app }) => {
  await explainWith(app, onevision.id);
  await expect(app.getByRole('tab')).toHaveText(['Pipeline', 'AnyRes tiles', 'Answer tokens']);
  await tab(app, 'AnyRes tiles').click();
  const plan = tilePlan(1024, 768);
  const canvas = app.getByTestId('tiles-canvas');
  const { width, height } = await size(canvas);
  // The frame is the padded pinpoint (1152×768 source px for a 1024×768 image, 64 px each side).
  const k = width / 1152;
  expect(Math.abs(height - 768 * k)).toBeLessThanOrEqual(1);
  const tileRgb = [0xff, 0xd2, 0x3f];
  const midRow0 = 192 * k;
  for (const sourceX of [320, 704]) {
    // The boundary between two tiles: each draws a 2 px outline on its side of it.
    const x = Math.round((64 + sourceX) * k);
    expect(await pixel(canvas, x - 1, midRow0)).toEqual(tileRgb);
    expect(await pixel(canvas, x, midRow0)).toEqual(tileRgb);
    expect(await pixel(canvas, x + 8, midRow0)).not.toEqual(tileRgb);
  }
  // The row boundary at source y = 384.
  expect(await pixel(canvas, (64 + 500) * k, Math.round(384 * k))).toEqual(tileRgb);
  // Padding (left of the image) is not the photo: hatched greys.
  const pad = await pixel(canvas, 30 * k, 600 * k);
  expect([[0x7c, 0x7c, 0x8a], [0x9d, 0x9d, 0xab]].some((c) => c.every((v, i) => Math.abs(v - pad[i]) <= 40))).toBe(true);

  const rows = app.getByTestId('tiles-candidate');
  await expect(rows).toHaveCount(plan.candidates.length);
  const chosen = app.locator('[data-testid="tiles-candidate"][aria-current="true"]');
  await expect(chosen).toHaveCount(1);
  await expect(chosen).toHaveClass(/is-chosen/);
  await expect(chosen).toContainText('2 × 3');
  await expect(chosen).toContainText('1152×768');
  await expect(chosen).toContainText('786,432');
  await expect(chosen).toContainText('98,304');
  await expect(app.getByTestId('tiles-why')).toHaveText('Chosen: 1152×768 — largest effective resolution, then least waste.');
  await expect(app.getByTestId('tiles-equation')).toHaveText('729 base + 3,942 grid + 54 newlines = 4,725');
  await expect(app.getByTestId('tiles-tokens')).toContainText('A fixed-resolution encoder would use 729');
});

test('Image tiles (Idefics3 / SmolVLM): every tile and the global view, markers and the token sum', async ({ app }) => {
  await explainWith(app, smolvlm.id);
  await expect(app.getByRole('tab')).toHaveText(['Pipeline', 'Image tiles', 'Answer tokens']);
  await tab(app, 'Image tiles').click();
  const section = app.getByTestId('section-tiles');
  await expect(section.getByRole('heading', { name: 'Image splitting' })).toBeVisible();
  const views = idefics3Views(1024, 768);
  const canvas = app.getByTestId('tiles-canvas');
  const { width, height } = await size(canvas);
  // No padding: the frame is the image itself, cut into 3 × 4 tiles of 256 source px.
  const k = width / 1024;
  expect(Math.abs(height - 768 * k)).toBeLessThanOrEqual(1);
  const tileRgb = [0xff, 0xd2, 0x3f];
  for (const sourceX of [256, 512, 768]) {
    const x = Math.round(sourceX * k);
    expect(await pixel(canvas, x - 1, 400 * k)).toEqual(tileRgb);
    expect(await pixel(canvas, x, 400 * k)).toEqual(tileRgb);
  }
  expect(await pixel(canvas, 600 * k, Math.round(512 * k))).toEqual(tileRgb);
  // Inside a tile, away from its outline, labels and token lines: the photo.
  expect(await pixel(canvas, 300 * k, 470 * k)).not.toEqual(tileRgb);
  await expect(section.locator('figcaption').first()).toHaveText(/Grid tile \(64 tokens each\)\s*Global view$/);
  await expect(app.getByTestId('tiles-whole-caption')).toHaveText('Global view: the whole image squeezed to 512×512 → 64 tokens');
  const whole = await size(app.getByTestId('tiles-whole'));
  expect(whole.width).toBe(whole.height);

  const rows = app.getByTestId('tiles-view');
  await expect(rows).toHaveCount(13);
  await expect(rows.first().locator('td')).toHaveText(['row 1, col 1', '<row_1_col_1>', '512×512', '32×32 ÷ 4×4', '64']);
  await expect(rows.nth(6).locator('td').nth(1)).toHaveText('<row_2_col_3>');
  await expect(rows.last().locator('td')).toHaveText(['global view', '<global-img>', '512×512', '32×32 ÷ 4×4', '64']);
  await expect(app.getByTestId('tiles-candidates')).toHaveCount(0);
  await expect(app.getByTestId('tiles-equation')).toHaveText(`768 tiles + 64 global = ${views.total_tokens}`);
  await expect(app.getByTestId('tiles-tokens')).toContainText('A fixed-resolution encoder would use 64 (the global view alone): splitting costs 13.0× as many.');
  await expect(app.getByTestId('tiles-notes').locator('li')).toHaveText(views.notes);
  await expect(app.getByTestId('tiles-notes')).toContainText('cut into 3 × 4 tiles');
});

test('Patch grid (Qwen2-VL): one view near the image\'s own size, merged patches and the token count', async ({ app }) => {
  await explainWith(app, qwen2vl.id);
  await expect(app.getByRole('tab')).toHaveText(['Pipeline', 'Patch grid', 'Answer tokens']);
  await tab(app, 'Patch grid').click();
  const section = app.getByTestId('section-tiles');
  await expect(section.getByRole('heading', { name: 'Dynamic resolution' })).toBeVisible();
  // HF's smart_resize at the 2B checkpoint's settings: 1024×768 → 1036×756, 54 × 74 patches, 999 tokens.
  const views = qwen2vlViews(1024, 768);
  expect(views.resized).toEqual({ width: 1036, height: 756 });
  const rows = app.getByTestId('tiles-view');
  await expect(rows).toHaveCount(1);
  await expect(rows.first().locator('td')).toHaveText(['whole image', '<|vision_start|><|image_pad|>…<|vision_end|>', '1036×756', '54×74 ÷ 2×2', '999']);
  await expect(app.getByTestId('tiles-candidates')).toHaveCount(0);
  await expect(app.getByTestId('tiles-equation')).toHaveText('999 merged patches = 999');
  await expect(app.getByTestId('tiles-notes').locator('li')).toHaveText(views.notes);
  // The canvas shows the photo with the whole-image view drawn over it.
  const canvas = app.getByTestId('tiles-canvas');
  const { width, height } = await size(canvas);
  expect(Math.abs(height - (768 * width) / 1024)).toBeLessThanOrEqual(1);
});

test('Q-Former: one query over the patches, every query, and who reads a patch', async ({ app }) => {
  await explainWith(app, 'blip2-opt-2.7b');
  await expect(app.getByRole('tab')).toHaveText(['Pipeline', 'Q-Former', 'Answer tokens']);
  await tab(app, 'Q-Former').click();
  const section = app.getByTestId('section-qformer');
  await expect(section.getByRole('combobox', { name: 'Layer' }).locator('option')).toHaveText(['Layer 0', 'Layer 2', 'Layer 4']);
  await expect(section.getByRole('combobox', { name: 'Head' }).locator('option')).toHaveText(['Mean of heads', 'Head 0', 'Head 1', 'Head 2', 'Head 3']);
  await expect(app.getByTestId('qformer-multiple')).toHaveCount(QF.queries);

  await section.getByRole('spinbutton', { name: 'Query number' }).fill('3');
  await section.getByRole('spinbutton', { name: 'Query number' }).press('Enter');
  await expect(section.getByRole('slider', { name: 'Query' })).toHaveValue('3');
  await section.getByRole('combobox', { name: 'Head' }).selectOption({ label: 'Head 1' });
  await setRange(section.getByRole('slider', { name: 'Opacity' }), 100);
  await expect(app.getByTestId('qformer-multiple').nth(3)).toHaveAttribute('aria-pressed', 'true');

  const canvas = app.getByTestId('qformer-canvas');
  const { width, height } = await size(canvas);
  const centre = (row: number, col: number) => [((col + 0.5) * width) / QF.cols, ((row + 0.5) * height) / QF.rows] as const;
  const hot = qformerCentre(3, 0, 1);
  const [hr, hc] = [Math.floor(hot / QF.cols), hot % QF.cols];
  expect([hr, hc]).toEqual([7, 4]);
  expect(await pixel(canvas, ...centre(hr, hc))).toEqual(HOT);
  const cold = await pixel(canvas, ...centre(15, 15));
  expect(cold).not.toEqual(HOT);
  // A cold cell is nearly clear: the photo shows through, far from the hot colour.
  expect(cold.reduce((s, v, i) => s + Math.abs(v - HOT[i]), 0)).toBeGreaterThan(200);
  await expect(app.getByTestId('qformer-cls')).toContainText(`${(qformerCls(3, 1) * 100).toFixed(1)}%`);

  // Hover the hot patch: query 3 reads it most.
  const box = (await canvas.boundingBox())!;
  await app.mouse.move(box.x + ((hc + 0.5) * box.width) / QF.cols, box.y + ((hr + 0.5) * box.height) / QF.rows);
  await expect(app.getByTestId('qformer-hover')).toContainText('Patch row 7, column 4');
  const items = app.getByTestId('qformer-hover-item');
  await expect(items).toHaveCount(5);
  await expect(items.first()).toContainText('Query 3');

  // Another colour map: the hot patch takes its hottest colour.
  await section.getByRole('combobox', { name: 'Colour map' }).selectOption('inferno');
  await app.mouse.move(0, 0);
  expect(await pixel(canvas, ...centre(hr, hc))).toEqual(colormap('inferno', 1));

  // A small multiple selects its query.
  await app.getByTestId('qformer-multiple').nth(5).click();
  await expect(section.getByRole('spinbutton', { name: 'Query number' })).toHaveValue('5');
  const five = qformerCentre(5, 0, 1);
  expect(await pixel(canvas, ...centre(Math.floor(five / QF.cols), five % QF.cols))).toEqual(colormap('inferno', 1));
});

test('answer tokens: a click asks answer_attention and paints the image', async ({ app, mock }) => {
  await explainWith(app);
  await tab(app, 'Answer tokens').click();
  const section = app.getByTestId('section-tokens');
  const tokens = section.getByTestId('answer-token');
  await expect(tokens).toHaveText(['A', 'sunny', 'landscape', 'with', 'green', 'hills', '.']);
  await setRange(section.getByRole('slider', { name: 'Opacity' }), 100);
  await tokens.nth(2).click();
  await expect(tokens.nth(2)).toHaveAttribute('aria-pressed', 'true');
  await expect(app.getByTestId('image-share')).toHaveText("33% of this token's attention goes to the image.");
  const calls = await mock.calls('answer_attention');
  expect(calls).toEqual([{ explanationId: expect.stringMatching(/^expl-/), token: 2, layer: null, head: null }]);

  const image = { width: 1024, height: 768 };
  const info = explanationFor(MODELS[0], { id: 'x', ...image }, '', 'x').answerAttention!;
  const canvas = app.getByTestId('tokens-canvas');
  const { width } = await size(canvas);
  const k = width / image.width;
  const rectCentre = (i: number) => {
    const r = info.imageTokens[i].rect!;
    return [(r.x + r.width / 2) * k, (r.y + r.height / 2) * k] as const;
  };
  const hot = hotIndex(info, 2, null, null);
  expect(await pixel(canvas, ...rectCentre(hot))).toEqual(HOT);
  expect(await pixel(canvas, ...rectCentre((hot + 100) % 576))).not.toEqual(HOT);

  await section.getByRole('combobox', { name: 'Layer' }).selectOption({ label: 'Layer 3' });
  await section.getByRole('combobox', { name: 'Head' }).selectOption({ label: 'Head 5' });
  await expect.poll(async () => (await mock.calls('answer_attention')).at(-1)).toEqual(
    { explanationId: calls[0].explanationId, token: 2, layer: 3, head: 5 });
  await expect(app.getByTestId('image-share')).toHaveText(`${Math.round(attentionFor(info, 2, 3, 5).imageShare * 100)}% of this token's attention goes to the image.`);
  const moved = hotIndex(info, 2, 3, 5);
  expect(moved).not.toBe(hot);
  expect(await pixel(canvas, ...rectCentre(moved))).toEqual(HOT);
  expect(await pixel(canvas, ...rectCentre(hot))).not.toEqual(HOT);

  // Attention rollout: one map through every layer; the head choice no longer applies.
  await section.getByRole('combobox', { name: 'Layer' }).selectOption({ label: 'Rollout (all layers)' });
  await expect.poll(async () => (await mock.calls('answer_attention')).at(-1)).toEqual(
    { explanationId: calls[0].explanationId, token: 2, layer: null, head: null, rollout: true });
  await expect(section.getByRole('combobox', { name: 'Head' })).toBeDisabled();
  expect(await pixel(canvas, ...rectCentre(hot))).toEqual(HOT);
});

test('answer tokens of AnyRes: tiles or base view, and the split of the image share', async ({ app }) => {
  await explainWith(app, onevision.id);
  await tab(app, 'Answer tokens').click();
  const section = app.getByTestId('section-tokens');
  await expect(section.getByRole('radio', { name: 'Tiles' })).toBeChecked();
  await section.getByTestId('answer-token').nth(0).click();
  await expect(section.locator('.share-split')).toContainText('Tiles');
  await expect(section.locator('.share-split')).toContainText('Base view');
  await expect(section.locator('.share-split')).toContainText('Newlines');
  await section.getByRole('radio', { name: 'Base view' }).check();
  await expect(section.getByRole('radio', { name: 'Base view' })).toBeChecked();
});

test('an answer_attention error is shown in the section', async ({ app, mock }) => {
  await explainWith(app);
  await tab(app, 'Answer tokens').click();
  await mock.failNext('answer_attention', { code: 'NOT_FOUND', message: 'This explanation is no longer kept. Run Explain again.', details: null });
  await app.getByTestId('answer-token').nth(1).click();
  await expect(app.getByTestId('tokens-error')).toContainText('Run Explain again.');
});

test('BLIP-2 answer tokens are drawn through the Q-Former onto the patches', async ({ app, mock }) => {
  await explainWith(app, 'blip2-opt-2.7b');
  await tab(app, 'Answer tokens').click();
  await expect(app.getByTestId('tokens-through-qformer')).toContainText('it attends to the 32 learned queries');
  const section = app.getByTestId('section-tokens');
  await expect(section.getByRole('radiogroup', { name: 'Visual tokens shown' })).toBeHidden();
  await setRange(section.getByRole('slider', { name: 'Opacity' }), 100);
  await section.getByTestId('answer-token').nth(1).click();
  await expect(app.getByTestId('image-share')).toBeVisible();
  const [call] = await mock.calls('answer_attention');
  expect(call).toMatchObject({ token: 1, layer: null, head: null });
  const info = explanationFor(MODELS[1], { id: 'x', width: 1024, height: 768 }, '', 'x').answerAttention!;
  const hot = hotIndex(info, 1, null, null);
  const canvas = app.getByTestId('tokens-canvas');
  const { width, height } = await size(canvas);
  const [r, c] = [Math.floor(hot / QF.cols), hot % QF.cols];
  expect(await pixel(canvas, ((c + 0.5) * width) / QF.cols, ((r + 0.5) * height) / QF.rows)).toEqual(HOT);
});

/** The bytes of the last save_export call, and its other arguments. */
async function lastExport(mock: { calls(cmd: string): Promise<Record<string, unknown>[]> }) {
  const call = (await mock.calls('save_export')).at(-1)!;
  return { name: call.suggestedName, path: call.path, bytes: Buffer.from(String(call.dataBase64), 'base64') };
}

test('Save JSON and Save PNG go to save_export (the native save dialog)', async ({ app, mock }) => {
  await explainWith(app, onevision.id);
  await tab(app, 'AnyRes tiles').click();
  await app.getByTestId('tiles-save-json').click();
  await expect(app.getByRole('status').filter({ hasText: 'Saved /home/ada/Pictures/iris-tiles-llava-onevision-0.5b.json' })).toBeVisible();
  const json = await lastExport(mock);
  expect(json.name).toBe('iris-tiles-llava-onevision-0.5b.json');
  expect(json.path).toBeNull();
  expect(JSON.parse(json.bytes.toString('utf8'))).toEqual({ image_views: oneVisionViews(tilePlan(1024, 768)), tile_plan: tilePlan(1024, 768) });

  await app.getByTestId('tiles-save-png').click();
  await expect.poll(async () => (await mock.calls('save_export')).length).toBe(2);
  const png = await lastExport(mock);
  expect(png.name).toBe('iris-tiles-llava-onevision-0.5b.png');
  expect([...png.bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  // The PNG is the canvas at its full (device-pixel) size.
  const { width, height } = await size(app.getByTestId('tiles-canvas'));
  expect([png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)]).toEqual([width, height]);

  await tab(app, 'Pipeline').click();
  await mock.cancelNextSave();
  await app.getByTestId('pipeline-save-json').click();
  await expect.poll(async () => (await mock.calls('save_export')).length).toBe(3);
  const pipeline = JSON.parse((await lastExport(mock)).bytes.toString('utf8'));
  expect(pipeline.pipeline.map((s: { name: string }) => s.name)).toContain('Connector output');
  expect(pipeline.timingsMs.vision).toBe(412);
  await expect(app.getByRole('status').filter({ hasText: 'iris-pipeline' })).toHaveCount(0); // a cancel says nothing

  await mock.failNext('save_export', { code: 'STORAGE', message: 'Iris could not write /root/x.json.', details: 'permission denied' });
  await app.getByTestId('pipeline-save-json').click();
  await expect(app.getByRole('alert').filter({ hasText: 'Iris could not write /root/x.json.' })).toBeVisible();
});

test.describe('screenshots', () => {
  const dir = process.env.UI_SHOTS_DIR ?? '/tmp/ui-shots';
  test.use({ viewport: { width: 1200, height: 1400 } });

  const shot = async (page: Page, section: string, name: string) => {
    await page.getByTestId(`section-${section}`).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `${dir}/${name}.png` });
  };

  test('each section', async ({ app, mock }) => {
    test.setTimeout(40_000);
    await explainWith(app, onevision.id);
    await app.screenshot({ path: `${dir}/explain-pipeline.png` });
    await app.getByTestId('pipeline-save-png').click();
    await expect.poll(async () => (await mock.calls('save_export')).length).toBe(1);
    await writeFile(`${dir}/explain-export-pipeline.png`, (await lastExport(mock)).bytes);
    await tab(app, 'AnyRes tiles').click();
    await shot(app, 'tiles', 'explain-anyres');
    await tab(app, 'Answer tokens').click();
    await app.getByTestId('answer-token').nth(2).click();
    await expect(app.getByTestId('image-share')).toBeVisible();
    await shot(app, 'tokens', 'explain-tokens');
    await app.getByTestId('tokens-save-png').click();
    await expect.poll(async () => (await mock.calls('save_export')).length).toBe(2);
    await writeFile(`${dir}/explain-export-tokens.png`, (await lastExport(mock)).bytes);
    await modelSelect(app).selectOption(smolvlm.id);
    await app.getByTestId('explain-button').click();
    await expect(tab(app, 'Image tiles')).toBeVisible();
    await tab(app, 'Image tiles').click();
    await shot(app, 'tiles', 'explain-tiles-idefics3');

    await modelSelect(app).selectOption('blip2-opt-2.7b');
    await app.getByTestId('explain-button').click();
    await expect(tab(app, 'Q-Former')).toBeVisible();
    await tab(app, 'Q-Former').click();
    await app.getByTestId('section-qformer').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    const canvas = app.getByTestId('qformer-canvas');
    const box = (await canvas.boundingBox())!;
    await app.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.47);
    await expect(app.getByTestId('qformer-hover-item')).toHaveCount(5);
    await app.screenshot({ path: `${dir}/explain-qformer.png` });
    await tab(app, 'Answer tokens').click();
    await app.getByTestId('answer-token').nth(2).click();
    await expect(app.getByTestId('image-share')).toBeVisible();
    await shot(app, 'tokens', 'explain-tokens-blip2');
  });

  test('dark, answer tokens', async ({ app }) => {
    await nav(app, 'Settings').click();
    await app.getByRole('radio', { name: 'Dark' }).check();
    await explainWith(app);
    await tab(app, 'Answer tokens').click();
    await app.getByTestId('answer-token').nth(4).click();
    await expect(app.getByTestId('image-share')).toBeVisible();
    await app.screenshot({ path: `${dir}/explain-dark.png` });
  });

  test.describe('small window', () => {
    test.use({ viewport: { width: 800, height: 600 } });

    test('Q-Former at 800x600', async ({ app }) => {
      await explainWith(app, 'blip2-opt-2.7b');
      await tab(app, 'Q-Former').click();
      await shot(app, 'qformer', 'explain-800x600');
    });
  });
});
