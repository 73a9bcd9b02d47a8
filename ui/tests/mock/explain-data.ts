// Explanations for the fake backend's `explain` / `answer_attention` (docs/teaching.md), built so
// the tests know where the hot spots are. Pure data (no DOM): the specs import it too.
import type {
  AnswerAttentionInfo, AttentionMap, EncoderView, Explanation, ImageToken, ImageViews, LayerAttention, ModelEntry, PipelineStage, QFormerMap,
  Rect, TilePlan,
} from '../../src/services/types';

type Source = { id: string; width: number; height: number };

/** BLIP-2's Q-Former in the fixture: a 16×16 patch grid plus the class token, 32 queries. */
export const QF = { rows: 16, cols: 16, queries: 32, heads: 4, layers: [0, 2, 4], sigma: 0.8 } as const;

/** The patch (row-major index) where query `q` looks most in layer `layerIndex`, head `head`. */
export function qformerCentre(q: number, layerIndex: number, head: number): number {
  return (q * 37 + layerIndex * 11 + head * 5) % (QF.rows * QF.cols);
}

/** The share of the class token for (query, head). */
export function qformerCls(q: number, head: number): number {
  return 0.04 + 0.002 * q + 0.01 * head;
}

function qformerProbs(layerIndex: number): number[][][] {
  const patches = QF.rows * QF.cols;
  return Array.from({ length: QF.heads }, (_, head) => Array.from({ length: QF.queries }, (_, q) => {
    const centre = qformerCentre(q, layerIndex, head);
    const [cr, cc] = [Math.floor(centre / QF.cols), centre % QF.cols];
    const raw = Array.from({ length: patches }, (_, p) => {
      const [r, c] = [Math.floor(p / QF.cols), p % QF.cols];
      return 0.02 + Math.exp(-((r - cr) ** 2 + (c - cc) ** 2) / (2 * QF.sigma ** 2));
    });
    const sum = raw.reduce((s, v) => s + v, 0);
    const cls = qformerCls(q, head);
    return [cls, ...raw.map((v) => ((1 - cls) * v) / sum)];
  }));
}

export function qformerMap(): QFormerMap {
  const layers: LayerAttention[] = QF.layers.map((layer, i) => ({ layer, probs: qformerProbs(i) }));
  const uniform = Array.from({ length: QF.heads }, () => Array.from({ length: QF.queries }, () => new Array(QF.queries).fill(1 / QF.queries)));
  return { kind: 'qformer', grid: [QF.rows, QF.cols], cls_token: true, layers, self_attention: [0, 1, 2].map((layer) => ({ layer, probs: uniform })) };
}

// ---- LLaVA-OneVision's AnyRes plan (the engine's algorithm, pinpoints of 1..3 × 1..3 tiles) ----

export const TILE = 384;
export const PPS = 27;

export function tilePlan(width: number, height: number): TilePlan {
  const pinpoints: [number, number][] = [];
  for (let r = 1; r <= 3; r++) for (let c = 1; c <= 3; c++) pinpoints.push([r * TILE, c * TILE]);
  const candidates = pinpoints.map(([h, w]) => {
    const scale = Math.min(w / width, h / height);
    const effective = Math.min(Math.floor(width * scale) * Math.floor(height * scale), width * height);
    return { resolution: { height: h, width: w }, effective_resolution: effective, wasted_resolution: w * h - effective };
  });
  let chosen = 0;
  candidates.forEach((c, i) => {
    const best = candidates[chosen];
    if (c.effective_resolution > best.effective_resolution
      || (c.effective_resolution === best.effective_resolution && c.wasted_resolution < best.wasted_resolution)) chosen = i;
  });
  const best = candidates[chosen].resolution;
  const sw = best.width / width;
  const sh = best.height / height;
  const resized = sw < sh
    ? { width: best.width, height: Math.min(Math.ceil(height * sw), best.height) }
    : { height: best.height, width: Math.min(Math.ceil(width * sh), best.width) };
  const left = Math.floor((best.width - resized.width) / 2);
  const top = Math.floor((best.height - resized.height) / 2);
  const padding = { left, right: best.width - resized.width - left, top, bottom: best.height - resized.height - top };
  const rows = best.height / TILE;
  const cols = best.width / TILE;
  const span = (start: number, pad: number, len: number) => {
    const lo = Math.min(Math.max(0, start - pad), len);
    const hi = Math.min(Math.max(0, start + TILE - pad), len);
    return hi > lo ? [lo, hi] : null;
  };
  const tiles = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const xs = span(col * TILE, left, resized.width);
      const ys = span(row * TILE, top, resized.height);
      const k = { x: width / resized.width, y: height / resized.height };
      tiles.push({
        row, col,
        source_rect: xs && ys ? { x: xs[0] * k.x, y: ys[0] * k.y, width: (xs[1] - xs[0]) * k.x, height: (ys[1] - ys[0]) * k.y } : null,
      });
    }
  }
  const grid = unpadded(width, height, rows, cols);
  const base = PPS * PPS;
  return {
    source: { height, width }, tile: { height: TILE, width: TILE }, candidates, chosen, best_resolution: best, resized, padding,
    rows, cols, base_view: { x: 0, y: 0, width, height }, tiles,
    tokens: {
      patches_per_side: PPS, tokens_per_tile: base, base_tokens: base, token_grid_rows: rows, token_grid_cols: cols,
      grid_tokens: grid.rows * grid.cols, newline_tokens: grid.rows, drops_cls_token: false,
      total: base + grid.rows * grid.cols + grid.rows, features: { unpadded: grid },
    },
  };
}

/** The engine's ImageViews::from_onevision: the base view, then one view per tile of the padded
 * pinpoint canvas; the terms give the packed count. */
export function oneVisionViews(plan: TilePlan): ImageViews {
  const t = plan.tokens;
  const sx = plan.source.width / plan.resized.width;
  const sy = plan.source.height / plan.resized.height;
  const cut = plan.tile.height;
  const view = (kind: EncoderView['kind'], cell: [number, number] | null, label: string, extent: Rect, rect: Rect | null, tokens: number): EncoderView => ({
    kind, cell, label, marker: null, extent, source_rect: rect, encoded_size: plan.tile, patch_grid: [t.patches_per_side, t.patches_per_side], merge: 1, tokens,
  });
  const best = plan.best_resolution;
  return {
    scheme: 'any_res',
    source: plan.source,
    resized: plan.resized,
    frame: { x: (0 - plan.padding.left) * sx, y: (0 - plan.padding.top) * sy, width: best.width * sx, height: best.height * sy },
    grid: [plan.rows, plan.cols],
    views: [
      view('base', null, 'base view', plan.base_view, plan.base_view, t.base_tokens),
      ...plan.tiles.map((tile) => view('tile', [tile.row, tile.col], `row ${tile.row + 1}, col ${tile.col + 1}`,
        { x: (tile.col * cut - plan.padding.left) * sx, y: (tile.row * cut - plan.padding.top) * sy, width: cut * sx, height: cut * sy },
        tile.source_rect, t.tokens_per_tile)),
    ],
    token_terms: [{ label: 'base', count: t.base_tokens }, { label: 'grid', count: t.grid_tokens }, { label: 'newlines', count: t.newline_tokens }],
    total_tokens: t.total,
    notes: [
      `Pinpoint ${best.width}×${best.height} chosen from ${plan.candidates.length} candidate grids; the image is resized to ${plan.resized.width}×${plan.resized.height} inside it and padded.`,
      `Cut into ${plan.rows} × ${plan.cols} tiles of ${cut} px, ${t.patches_per_side}×${t.patches_per_side} = ${t.tokens_per_tile} tokens each before the padding is trimmed.`,
      'One newline token closes each row of the packed grid.',
    ],
  };
}

// ---- SmolVLM-256M's image splitting (Idefics3ImageProcessor: longest edge 2048, 512-px tiles) ----

export const SMOL = { longestEdge: 2048, tile: 512, patch: 16, scale: 4, seqLen: 64 } as const;

/** The engine's Idefics3 plan (resize, resize up to whole tiles, split) as ImageViews. */
export function idefics3Views(width: number, height: number): ImageViews {
  const { longestEdge: L, tile: T, patch, scale, seqLen } = SMOL;
  const even = (v: number) => v + (v % 2);
  const resized = width >= height
    ? { width: L, height: even(Math.floor(L / (width / height))) }
    : { height: L, width: even(Math.floor(L * (width / height))) };
  const up = (v: number) => Math.ceil(v / T) * T;
  const aspect = resized.width / resized.height;
  const canvas = resized.width >= resized.height
    ? { width: up(resized.width), height: up(Math.floor(up(resized.width) / aspect)) }
    : { height: up(resized.height), width: up(Math.floor(up(resized.height) * aspect)) };
  const split = canvas.width > T || canvas.height > T;
  const [rows, cols] = split ? [canvas.height / T, canvas.width / T] : [0, 0];
  const [kx, ky] = [width / canvas.width, height / canvas.height];
  const side = T / patch;
  const view = (kind: EncoderView['kind'], cell: [number, number] | null, label: string, marker: string, rect: Rect): EncoderView => ({
    kind, cell, label, marker, extent: rect, source_rect: rect, encoded_size: { height: T, width: T }, patch_grid: [side, side], merge: scale, tokens: seqLen,
  });
  const views: EncoderView[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      views.push(view('tile', [r, c], `row ${r + 1}, col ${c + 1}`, `<row_${r + 1}_col_${c + 1}>`, { x: c * T * kx, y: r * T * ky, width: T * kx, height: T * ky }));
    }
  }
  views.push(view('global', null, 'global view', '<global-img>', { x: 0, y: 0, width, height }));
  const tiles = rows * cols;
  return {
    scheme: 'image_splitting',
    source: { height, width },
    resized: tiles > 0 ? canvas : null,
    frame: { x: 0, y: 0, width, height },
    grid: [rows, cols],
    views,
    token_terms: [...(tiles > 0 ? [{ label: 'tiles', count: tiles * seqLen }] : []), { label: 'global', count: seqLen }],
    total_tokens: (tiles + 1) * seqLen,
    notes: [
      `Resized so the longest edge is ${L} px: ${resized.width}×${resized.height}.`,
      `Resized up to whole ${T}-px tiles (${canvas.width}×${canvas.height}) and cut into ${rows} × ${cols} tiles, plus the whole image squeezed into one more tile (the global view).`,
      `Each view: ${side}×${side} patches of ${patch} px; the pixel shuffle folds ${scale}×${scale} patches into one token: ${seqLen} tokens per view.`,
      'The prompt marks each tile with its place (<row_1_col_1> …) and the global view with <global-img>.',
    ],
  };
}

// ---- Qwen2-VL-2B's dynamic resolution (Qwen2VLImageProcessor: 14-px patches, 2 × 2 merged) ----

export const QWEN = { patch: 14, merge: 2, minPixels: 3136, maxPixels: 12845056 } as const;

/** Python's round(): halves to even. */
const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

/** The engine's Qwen2-VL plan (smart_resize, one view, merged patches) as ImageViews. */
export function qwen2vlViews(width: number, height: number): ImageViews {
  const { patch, merge, minPixels, maxPixels } = QWEN;
  const f = patch * merge;
  let [h, w] = [roundHalfEven(height / f) * f, roundHalfEven(width / f) * f];
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    [h, w] = [Math.max(f, Math.floor(height / beta / f) * f), Math.max(f, Math.floor(width / beta / f) * f)];
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    [h, w] = [Math.ceil((height * beta) / f) * f, Math.ceil((width * beta) / f) * f];
  }
  const grid: [number, number] = [h / patch, w / patch];
  const tokens = (grid[0] / merge) * (grid[1] / merge);
  const rect = { x: 0, y: 0, width, height };
  return {
    scheme: 'dynamic_resolution',
    source: { height, width },
    resized: { height: h, width: w },
    frame: rect,
    grid: [0, 0],
    views: [{
      kind: 'whole', cell: null, label: 'whole image', marker: '<|vision_start|><|image_pad|>…<|vision_end|>',
      extent: rect, source_rect: rect, encoded_size: { height: h, width: w }, patch_grid: grid, merge, tokens,
    }],
    token_terms: [{ label: 'merged patches', count: tokens }],
    total_tokens: tokens,
    notes: [
      `Resized to ${w}×${h} (whole ${f}-px patches, close to its own size).`,
      `${grid[0]} × ${grid[1]} patches of ${patch} px; ${merge} × ${merge} neighbours merge into one token: ${grid[0] / merge} × ${grid[1] / merge} = ${tokens} tokens.`,
    ],
  };
}

/** Visual tokens of an Idefics3 prompt: each view's token grid on its rectangle, in view order. */
function viewTokens(views: ImageViews): ImageToken[] {
  return views.views.flatMap((v) => {
    const [rows, cols] = [v.patch_grid[0] / v.merge, v.patch_grid[1] / v.merge];
    const r = v.source_rect!;
    return Array.from({ length: rows * cols }, (_, i) => ({
      rect: { x: r.x + ((i % cols) * r.width) / cols, y: r.y + (Math.floor(i / cols) * r.height) / rows, width: r.width / cols, height: r.height / rows },
      view: 'tile',
    }));
  });
}

/** HF's unpad_image on the packed feature grid: the padding's rows or columns trimmed. */
function unpadded(width: number, height: number, rows: number, cols: number) {
  const [h, w] = [rows * PPS, cols * PPS];
  if (width / height > w / h) {
    const pad = Math.floor((h - Math.floor((height * w) / width)) / 2);
    return { rows: h - 2 * pad, cols: w, padTop: pad, padLeft: 0 };
  }
  const pad = Math.floor((w - Math.floor((width * h) / height)) / 2);
  return { rows: h, cols: w - 2 * pad, padTop: 0, padLeft: pad };
}

/** Visual tokens of a OneVision prompt: the 27×27 base view, then the grid with a newline per row. */
function oneVisionTokens(width: number, height: number, plan: TilePlan): ImageToken[] {
  const out: ImageToken[] = [];
  for (let r = 0; r < PPS; r++) {
    for (let c = 0; c < PPS; c++) out.push({ rect: { x: (c * width) / PPS, y: (r * height) / PPS, width: width / PPS, height: height / PPS }, view: 'base' });
  }
  const g = unpadded(width, height, plan.rows, plan.cols);
  for (let r = 0; r < g.rows; r++) {
    for (let c = 0; c < g.cols; c++) {
      out.push({ rect: { x: (c * width) / g.cols, y: (r * height) / g.rows, width: width / g.cols, height: height / g.rows }, view: 'tile' });
    }
    out.push({ rect: null, view: 'newline' });
  }
  return out;
}

/** An n×n grid of tokens over the image (LLaVA-1.5: 24×24 "image"; BLIP-2: the patch grid). */
function gridTokens(width: number, height: number, n: number, view = 'image'): ImageToken[] {
  const out: ImageToken[] = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) out.push({ rect: { x: (c * width) / n, y: (r * height) / n, width: width / n, height: height / n }, view });
  return out;
}

// ---- Answer-token attention ----

/** The visual token that answer token `token` attends to most (for `layer` / `head`, null = mean). */
export function hotIndex(info: AnswerAttentionInfo, token: number, layer: number | null, head: number | null): number {
  const grid = info.imageTokens.map((t, i) => ({ t, i })).filter(({ t }) => t.rect && t.view !== 'base');
  const pick = (5 + 37 * token + 11 * (layer ?? 0) + 3 * (head ?? 0) + (layer === null ? 7 : 0)) * 97;
  return grid[pick % grid.length].i;
}

export function attentionFor(info: AnswerAttentionInfo, token: number, layer: number | null, head: number | null): AttentionMap {
  const hot = hotIndex(info, token, layer, head);
  const centre = info.imageTokens[hot].rect!;
  const [hx, hy] = [centre.x + centre.width / 2, centre.y + centre.height / 2];
  // A soft blob around the hot token (σ = 60 source px) over a little noise; the hot token on top.
  const raw = info.imageTokens.map((t, i) => {
    if (!t.rect) return 0.001;
    const d2 = (t.rect.x + t.rect.width / 2 - hx) ** 2 + (t.rect.y + t.rect.height / 2 - hy) ** 2;
    return 0.0004 * (1 + ((i * 7919) % 13) / 13) + 0.01 * Math.exp(-d2 / (2 * 60 ** 2)) + (i === hot ? 0.005 : 0);
  });
  const imageShare = Math.min(0.9, 0.25 + 0.04 * token + (layer === null ? 0 : 0.01 * layer));
  const sum = raw.reduce((s, v) => s + v, 0);
  return { token, layer, head, values: raw.map((v) => (v * imageShare) / sum), imageShare };
}

// ---- Whole explanations ----

export const ANSWER_TOKENS = ['A', ' sunny', ' landscape', ' with', ' green', ' hills', '.'];
export const BLIP_TOKENS = [' a', ' sunny', ' hill', 'side', ' with', ' trees'];

function stages(rows: [string, string, number][]): PipelineStage[] {
  return rows.map(([name, detail, count]) => ({ name, detail, count }));
}

export function explanationFor(model: ModelEntry, image: Source, prompt: string, explanationId: string): Explanation {
  const { width, height } = image;
  const common = { explanationId, modelId: model.id, family: model.family, image, prompt };
  const timingsMs = { load: 2140, preprocess: 38, vision: 412, prefill: 655, decode: 1290 };
  if (model.family === 'BLIP-2' || model.family === 'InstructBLIP') {
    return {
      ...common,
      answer: { text: BLIP_TOKENS.join('').trim(), tokens: BLIP_TOKENS },
      pipeline: stages([
        ['Image', `${width}×${height} pixels`, width * height],
        ['Encoder views', 'the whole image resized to 224×224', 1],
        ['Patches per view', '16×16 patches of 14 px, plus the class token', 257],
        ['Vision tokens', 'EVA-CLIP ViT-g output, 1408 wide', 257],
        ['Connector output', '32 Q-Former queries, projected to OPT', 32],
        ['Prompt tokens', '32 query tokens + the question', 32 + 11],
        ['Answer tokens', 'greedy decoding', BLIP_TOKENS.length],
      ]),
      timingsMs, tilePlan: null, imageViews: null, qformer: qformerMap(),
      // OPT attends to the 32 queries; the shell spreads them over the patches (view "patch").
      answerAttention: { layers: 32, heads: 32, imageTokens: gridTokens(width, height, QF.rows, 'patch'), tokenCount: BLIP_TOKENS.length, rollout: true, throughQformer: true },
    };
  }
  if (model.family === 'Qwen2-VL') {
    const views = qwen2vlViews(width, height);
    const [rows, cols] = views.views[0].patch_grid;
    return {
      ...common,
      answer: { text: ANSWER_TOKENS.join(''), tokens: ANSWER_TOKENS },
      pipeline: stages([
        ['Image', `${width}×${height} px`, width * height],
        ['Encoder views', `one view, resized to ${views.resized!.width}×${views.resized!.height} px`, 1],
        ['Patches per view', `${rows}×${cols} patches of ${QWEN.patch} px`, rows * cols],
        ['Vision tokens', `1 view(s) × ${rows * cols}`, rows * cols],
        ['Connector output', `patch merger: ${QWEN.merge}×${QWEN.merge} patches per token, LayerNorm + 2-layer MLP`, views.total_tokens],
        ['Prompt tokens', 'text and visual tokens the language model reads', views.total_tokens + 30],
        ['Answer tokens', 'stopped: eos', ANSWER_TOKENS.length],
      ]),
      timingsMs, tilePlan: null, imageViews: views, qformer: null,
      answerAttention: { layers: 28, heads: 12, imageTokens: viewTokens(views), tokenCount: ANSWER_TOKENS.length, rollout: true, throughQformer: false },
    };
  }
  if (model.family === 'Idefics3 / SmolVLM') {
    const views = idefics3Views(width, height);
    const imageTokens = viewTokens(views);
    const [rows, cols] = views.grid;
    return {
      ...common,
      answer: { text: ANSWER_TOKENS.join(''), tokens: ANSWER_TOKENS },
      pipeline: stages([
        ['Image', `${width}×${height} px`, width * height],
        ['Encoder views', `${rows}×${cols} tiles of ${SMOL.tile} px + a global view`, views.views.length],
        ['Patches per view', `${SMOL.tile / SMOL.patch}×${SMOL.tile / SMOL.patch} patches of ${SMOL.patch} px`, (SMOL.tile / SMOL.patch) ** 2],
        ['Vision tokens', `${views.views.length} view(s) × ${(SMOL.tile / SMOL.patch) ** 2}`, views.views.length * (SMOL.tile / SMOL.patch) ** 2],
        ['Connector output', `pixel shuffle (×${SMOL.scale}: ${SMOL.scale}×${SMOL.scale} patches per token) + linear, per view`, views.total_tokens],
        ['Prompt tokens', 'text and visual tokens the language model reads', views.total_tokens + 90],
        ['Answer tokens', 'stopped: eos', ANSWER_TOKENS.length],
      ]),
      timingsMs, tilePlan: null, imageViews: views, qformer: null,
      answerAttention: { layers: 30, heads: 9, imageTokens, tokenCount: ANSWER_TOKENS.length, rollout: true, throughQformer: false },
    };
  }
  const plan = model.family === 'LLaVA-OneVision' ? tilePlan(width, height) : null;
  const imageTokens = plan ? oneVisionTokens(width, height, plan) : gridTokens(width, height, 24);
  const visual = imageTokens.length;
  return {
    ...common,
    answer: { text: ANSWER_TOKENS.join(''), tokens: ANSWER_TOKENS },
    pipeline: plan
      ? stages([
        ['Image', `${width}×${height} pixels`, width * height],
        ['Encoder views', `base view + ${plan.rows}×${plan.cols} tiles of ${TILE} px`, 1 + plan.tiles.length],
        ['Patches per view', `${PPS}×${PPS} patches of 14 px`, PPS * PPS],
        ['Vision tokens', 'SigLIP output, every view', (1 + plan.tiles.length) * PPS * PPS],
        ['Connector output', 'after unpadding, with row newlines', visual],
        ['Prompt tokens', 'chat template + visual tokens + question', visual + 24],
        ['Answer tokens', 'greedy decoding', ANSWER_TOKENS.length],
      ])
      : stages([
        ['Image', `${width}×${height} pixels`, width * height],
        ['Encoder views', 'center crop resized to 336×336', 1],
        ['Patches per view', '24×24 patches of 14 px (class token dropped)', 576],
        ['Vision tokens', 'CLIP ViT-L/14 penultimate layer', 576],
        ['Connector output', '2-layer MLP to the LLM width', 576],
        ['Prompt tokens', 'chat template + visual tokens + question', 576 + 20],
        ['Answer tokens', 'greedy decoding', ANSWER_TOKENS.length],
      ]),
    timingsMs, tilePlan: plan, imageViews: plan ? oneVisionViews(plan) : null, qformer: null,
    answerAttention: { layers: plan ? 24 : 32, heads: plan ? 14 : 32, imageTokens, tokenCount: ANSWER_TOKENS.length, rollout: true, throughQformer: false },
  };
}
