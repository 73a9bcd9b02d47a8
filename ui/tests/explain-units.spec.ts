// Pure pieces of "How it sees", tested in Node (no page): colour maps, the Q-Former map
// readers, AnyRes frame geometry, token labels and default prompts.
import { expect, test } from '@playwright/test';
import { colormap, colormapCss, isColormap, normalise } from '../src/lib/colormap';
import { defaultPrompt } from '../src/services/explain';
import type { QFormerMap } from '../src/services/types';
import { frameLayout, tokenEquation } from '../src/views/explain/tiles-section';
import { cellAlpha, percent } from '../src/views/explain/heatmap';
import { patchAt, qformerShape, queryAttention, topQueriesAt } from '../src/views/explain/qformer-math';
import { tokenLabel } from '../src/views/explain/tokens-section';
import { idefics3Views, oneVisionViews, tilePlan } from './mock/explain-data';

test('colour maps: ends, clamping, interpolation', () => {
  expect(colormap('viridis', 0)).toEqual([68, 1, 84]);
  expect(colormap('viridis', 1)).toEqual([253, 231, 37]);
  expect(colormap('inferno', 0)).toEqual([0, 0, 4]);
  expect(colormap('inferno', 1)).toEqual([252, 255, 164]);
  expect(colormap('grey', 0.5)).toEqual([128, 128, 128]);
  expect(colormap('viridis', -3)).toEqual(colormap('viridis', 0));
  expect(colormap('viridis', 7)).toEqual(colormap('viridis', 1));
  expect(colormap('viridis', Number.NaN)).toEqual(colormap('viridis', 0));
  // Halfway between the first two stops (0 and 1/8).
  expect(colormap('viridis', 1 / 16)).toEqual([70, 23, 103]);
  expect(colormapCss('grey', 1)).toBe('rgb(255, 255, 255)');
  expect(isColormap('inferno')).toBe(true);
  expect(isColormap('jet')).toBe(false);
  // Brightness rises along viridis and inferno (perceptually ordered maps).
  for (const name of ['viridis', 'inferno'] as const) {
    const lum = Array.from({ length: 11 }, (_, i) => colormap(name, i / 10)).map(([r, g, b]) => 0.3 * r + 0.59 * g + 0.11 * b);
    for (let i = 1; i < lum.length; i++) expect(lum[i]).toBeGreaterThan(lum[i - 1]);
  }
});

test('normalise divides by the largest value', () => {
  expect(normalise([1, 2, 4])).toEqual([0.25, 0.5, 1]);
  expect(normalise([0, 0])).toEqual([0, 0]);
  expect(normalise([])).toEqual([]);
  expect(normalise([-1, 2])).toEqual([0, 1]);
});

test('cell alpha: the hottest at the chosen opacity, the coldest nearly clear', () => {
  expect(cellAlpha(1, 0.8)).toBeCloseTo(0.8);
  expect(cellAlpha(0, 1)).toBeCloseTo(0.15);
  expect(percent(0.0423)).toBe('4.2%');
  expect(percent(0.5)).toBe('50%');
  expect(percent(0)).toBe('0%');
});

// 2 heads, 3 queries, a 2×2 grid plus the class token.
const tiny: QFormerMap = {
  kind: 'qformer', grid: [2, 2], cls_token: true, self_attention: [],
  layers: [{
    layer: 0,
    probs: [
      [[0.1, 0.6, 0.1, 0.1, 0.1], [0.2, 0.2, 0.2, 0.2, 0.2], [0.5, 0.0, 0.0, 0.0, 0.5]],
      [[0.3, 0.4, 0.1, 0.1, 0.1], [0.0, 0.1, 0.1, 0.1, 0.7], [0.1, 0.0, 0.9, 0.0, 0.0]],
    ],
  }],
};

test('Q-Former readers: the class token apart, one head or the mean', () => {
  expect(qformerShape(tiny)).toEqual({ rows: 2, cols: 2, heads: 2, queries: 3, keyOffset: 1 });
  expect(queryAttention(tiny, 0, 0, 0)).toEqual({ patches: [0.6, 0.1, 0.1, 0.1], cls: 0.1 });
  const mean = queryAttention(tiny, 0, null, 0);
  expect(mean.cls).toBeCloseTo(0.2);
  expect(mean.patches[0]).toBeCloseTo(0.5);
  expect(topQueriesAt(tiny, 0, 1, 3, 2)).toEqual([{ query: 1, value: 0.7 }, { query: 0, value: 0.1 }]);
  expect(topQueriesAt(tiny, 0, null, 1, 1)[0].query).toBe(2);
  const noCls = { ...tiny, cls_token: false, grid: [1, 5] as [number, number] };
  expect(queryAttention(noCls, 0, 0, 0)).toEqual({ patches: [0.1, 0.6, 0.1, 0.1, 0.1], cls: 0 });
  expect(patchAt(0, 0, 100, 50, 2, 4)).toEqual({ row: 0, col: 0 });
  expect(patchAt(99.9, 49.9, 100, 50, 2, 4)).toEqual({ row: 1, col: 3 });
  expect(patchAt(100, 10, 100, 50, 2, 4)).toBeNull();
});

test('tiling frame: the padded pinpoint (AnyRes) or the image itself, in source pixels', () => {
  expect(frameLayout(oneVisionViews(tilePlan(1024, 768)))).toEqual({ width: 1152, height: 768, imageX: 64, imageY: 0, padded: true });
  // A small portrait image is scaled up to its pinpoint: frame units stay source pixels.
  const plan = tilePlan(300, 600);
  const frame = frameLayout(oneVisionViews(plan));
  expect(frame.height).toBeCloseTo((plan.best_resolution.height * 600) / plan.resized.height);
  const tiles = oneVisionViews(plan).views.filter((v) => v.kind === 'tile');
  expect(tiles[0].extent.width * plan.cols).toBeCloseTo(frame.width);
  // Idefics3 stretches the image to whole tiles: no padding.
  expect(frameLayout(idefics3Views(1024, 768))).toEqual({ width: 1024, height: 768, imageX: 0, imageY: 0, padded: false });
});

test('token equations: terms, a taken-away term, the total', () => {
  expect(tokenEquation(oneVisionViews(tilePlan(1024, 768)))).toBe('729 base + 3,942 grid + 54 newlines = 4,725');
  expect(tokenEquation(idefics3Views(1024, 768))).toBe('768 tiles + 64 global = 832');
  const views = { ...idefics3Views(10, 10), token_terms: [{ label: 'base', count: 729 }, { label: 'class token', count: -1 }], total_tokens: 728 };
  expect(tokenEquation(views)).toBe('729 base − 1 class token = 728');
});

test('token labels and default prompts', () => {
  expect(tokenLabel(' landscape')).toBe('landscape');
  expect(tokenLabel(' ')).toBe('␣');
  expect(tokenLabel('\n')).toBe('↵');
  expect(defaultPrompt('BLIP-2')).toBe('Question: what is in the picture? Answer:');
  expect(defaultPrompt('LLaVA-1.5')).toBe('What is in this picture?');
  expect(defaultPrompt('InstructBLIP')).toBe('What is in this picture?');
});
