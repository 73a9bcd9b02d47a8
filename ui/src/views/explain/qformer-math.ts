// Reading the Q-Former's cross-attention (`[head][query][key]` per layer) as patch maps.
// Pure functions: no DOM.
import type { QFormerMap } from '../../services/types';

export type QFormerShape = { rows: number; cols: number; heads: number; queries: number; keyOffset: number };

/** Grid, head and query counts, and where the patch keys start (1 after a class token). */
export function qformerShape(map: QFormerMap, layerIndex = 0): QFormerShape {
  const probs = map.layers[layerIndex]?.probs ?? [];
  return {
    rows: map.grid[0],
    cols: map.grid[1],
    heads: probs.length,
    queries: probs[0]?.length ?? 0,
    keyOffset: map.cls_token ? 1 : 0,
  };
}

/** Attention of `query` to key `key` in layer `layerIndex`: one head, or the mean of heads (null). */
function weight(map: QFormerMap, layerIndex: number, head: number | null, query: number, key: number): number {
  const probs = map.layers[layerIndex]?.probs ?? [];
  if (head !== null) return probs[head]?.[query]?.[key] ?? 0;
  if (probs.length === 0) return 0;
  let sum = 0;
  for (const perHead of probs) sum += perHead[query]?.[key] ?? 0;
  return sum / probs.length;
}

export type QueryAttention = {
  /** Attention to each patch, row-major (`rows × cols`), as probabilities. */
  patches: number[];
  /** Attention to the class token (0 when the encoder has none). */
  cls: number;
};

/** One query's attention over the patch grid, the class token set apart. */
export function queryAttention(map: QFormerMap, layerIndex: number, head: number | null, query: number): QueryAttention {
  const { rows, cols, keyOffset } = qformerShape(map, layerIndex);
  const patches = new Array<number>(rows * cols);
  for (let p = 0; p < rows * cols; p++) patches[p] = weight(map, layerIndex, head, query, p + keyOffset);
  return { patches, cls: keyOffset ? weight(map, layerIndex, head, query, 0) : 0 };
}

/** The `n` queries that attend most to patch `patch` (row-major index), strongest first. */
export function topQueriesAt(map: QFormerMap, layerIndex: number, head: number | null, patch: number, n = 5): { query: number; value: number }[] {
  const { queries, keyOffset } = qformerShape(map, layerIndex);
  const all = [];
  for (let q = 0; q < queries; q++) all.push({ query: q, value: weight(map, layerIndex, head, q, patch + keyOffset) });
  return all.sort((a, b) => b.value - a.value || a.query - b.query).slice(0, n);
}

/** The patch (row, col) under (`x`, `y`) of a `width`×`height` picture, or null outside it. */
export function patchAt(x: number, y: number, width: number, height: number, rows: number, cols: number): { row: number; col: number } | null {
  if (x < 0 || y < 0 || x >= width || y >= height) return null;
  return { row: Math.min(rows - 1, Math.floor((y / height) * rows)), col: Math.min(cols - 1, Math.floor((x / width) * cols)) };
}
