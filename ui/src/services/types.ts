// The IPC contract of docs/app.md, as TypeScript types. Keep in step with that file.

export type ErrorCode =
  | 'BAD_IMAGE'
  | 'INVALID_MODEL'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_LOAD_FAILED'
  | 'OUT_OF_MEMORY'
  | 'GENERATION_FAILED'
  | 'CANCELLED'
  | 'NOT_FOUND'
  | 'BUSY'
  | 'DOWNLOAD_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'NETWORK'
  | 'STORAGE'
  | 'INVALID_INPUT'
  | 'NO_MODEL'
  | 'BAD_DOCUMENT';

/** What every rejected command carries. `message` is for the user, `details` for the curious. */
export type AppError = { code: ErrorCode | string; message: string; details: string | null };

export type ModelEntry = {
  id: string;
  name: string;
  path: string;
  family: string;
  modelType: string;
  sizeBytes: number;
  dtype: string;
  parameters: number;
  runnable: boolean;
  problem: string | null;
  source: 'builtin' | 'imported' | 'downloaded';
};

export type ImageRef = { id: string; name: string; width: number; height: number; thumb: string };

/** A suggested question about a built-in sample scene, with the answer the scene implies. */
export type SampleQuestion = { question: string; answer: string };

/** A sample scene of the built-in demo model; `image` is staged, attached by id like a drop. */
export type DemoSample = { name: string; image: ImageRef; questions: SampleQuestion[] };

export type MessageStatus = 'done' | 'streaming' | 'stopped' | 'error';

export type MessageStats = {
  tokens: number;
  tokensPerSecond: number;
  promptTokens: number;
  imageTokens: number;
  /** Earlier exchanges left out of this answer's prompt: the chat outgrew the model's context. */
  forgottenExchanges?: number;
};

export type Message = {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  images: ImageRef[];
  status: MessageStatus;
  error: AppError | null;
  createdAt: number;
  stats: MessageStats | null;
};

export type ChatSummary = {
  id: string;
  title: string;
  modelId: string | null;
  updatedAt: number;
  messageCount: number;
};

export type Chat = ChatSummary & { createdAt: number; messages: Message[] };

export type Theme = 'system' | 'light' | 'dark';
export type Precision = 'f32' | 'f16';

export type Settings = {
  device: string;
  precision: Precision;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number | null;
  theme: Theme;
  hubUrl: string;
};

export type DeviceInfo = { id: string; name: string; kind: string; backend: string };

export type GenEvent =
  | { kind: 'loading'; modelId: string; progress: number; stage: string }
  | { kind: 'started'; userMessage: Message; assistantMessage: Message }
  | { kind: 'token'; messageId: string; text: string }
  | { kind: 'finished'; message: Message }
  | { kind: 'error'; messageId: string | null; error: AppError };

export type DownloadEvent =
  | { kind: 'listing'; repoId: string }
  | { kind: 'started'; repoId: string; files: number; totalBytes: number; resumedBytes: number }
  | { kind: 'progress'; file: string; doneBytes: number; totalBytes: number }
  | { kind: 'verifying'; file: string }
  | { kind: 'finished'; model: ModelEntry };

// ---- "How it sees" (docs/teaching.md) ----

export type ExplainEvent =
  | { kind: 'loading'; progress: number; stage: string }
  | { kind: 'token'; text: string };

/** A rectangle in source-image pixels (fractional). */
export type Rect = { x: number; y: number; width: number; height: number };

/** One row of the pipeline table, in order (Image, Encoder views, … Answer tokens). */
export type PipelineStage = { name: string; detail: string; count: number };

export type Timings = { load: number; preprocess: number; vision: number; prefill: number; decode: number };

export type Explanation = {
  explanationId: string;
  modelId: string;
  family: string;
  image: { id: string; width: number; height: number };
  prompt: string;
  answer: { text: string; tokens: string[] };
  pipeline: PipelineStage[];
  timingsMs: Timings;
  /** LLaVA-OneVision only: the AnyRes pinpoint candidates and their scores. */
  tilePlan: TilePlan | null;
  /** Every family that tiles: how the image was cut into encoder views. */
  imageViews: ImageViews | null;
  qformer: QFormerMap | null;
  answerAttention: AnswerAttentionInfo | null;
};

/** A visual token of the prompt: where it came from in source pixels (null for a newline, class
 * or learned-query token). view: "image", "base", "tile", "newline", "cls", "query", "patch". */
export type ImageToken = { rect: Rect | null; view: string };

export type AnswerAttentionInfo = {
  layers: number;
  heads: number;
  imageTokens: ImageToken[];
  tokenCount: number;
  /** Whether attention rollout is available (the prompt's full attention was kept). */
  rollout: boolean;
  /** BLIP-2 / InstructBLIP: the attention on the learned queries spread over the patches each
   * query reads (imageTokens are then the patch grid, view "patch"). */
  throughQformer: boolean;
};

/** Attention from answer token `token` to every visual token (`layer`/`head` null: the mean). */
export type AttentionMap = {
  token: number;
  layer: number | null;
  head: number | null;
  /** Attention rollout over all layers (then layer and head are null). */
  rollout?: boolean;
  values: number[];
  imageShare: number;
};

/** One layer's attention probabilities, `[head][query][key]` (the engine's own struct). */
export type LayerAttention = { layer: number; probs: number[][][] };

/** The engine's trace::QFormerAttentionMap (snake_case, as serialised). */
export type QFormerMap = {
  kind: string;
  grid: [number, number];
  cls_token: boolean;
  layers: LayerAttention[];
  self_attention: LayerAttention[];
};

export type Resolution = { height: number; width: number };

export type PinpointScore = { resolution: Resolution; effective_resolution: number; wasted_resolution: number };

/** The engine's preprocess::TilePlan (snake_case, as serialised). */
export type TilePlan = {
  source: Resolution;
  tile: Resolution;
  candidates: PinpointScore[];
  chosen: number;
  best_resolution: Resolution;
  resized: Resolution;
  padding: { top: number; bottom: number; left: number; right: number };
  rows: number;
  cols: number;
  base_view: Rect;
  tiles: { row: number; col: number; source_rect: Rect | null }[];
  tokens: {
    patches_per_side: number;
    tokens_per_tile: number;
    base_tokens: number;
    token_grid_rows: number;
    token_grid_cols: number;
    grid_tokens: number;
    newline_tokens: number;
    drops_cls_token: boolean;
    total: number;
    features: unknown;
  };
};

/** How a plan cuts the image: AnyRes (OneVision), image splitting (Idefics3 / SmolVLM),
 * dynamic resolution (Qwen2-VL). */
export type TilingScheme = 'any_res' | 'image_splitting' | 'dynamic_resolution';

/** One view the vision encoder reads (the engine's preprocess::EncoderView, snake_case). */
export type EncoderView = {
  kind: 'tile' | 'global' | 'base' | 'whole';
  /** [row, col] from 0, tiles only. */
  cell: [number, number] | null;
  /** "row 1, col 2", "global view", "base view", "whole image". */
  label: string;
  /** The prompt text that marks the view ("<row_1_col_2>", "<global-img>"), if any. */
  marker: string | null;
  /** The whole view in source pixels (reaches into padding, outside the image, for OneVision). */
  extent: Rect;
  /** The source pixels it shows; null for padding only. */
  source_rect: Rect | null;
  encoded_size: Resolution;
  /** [rows, cols] of encoder patches. */
  patch_grid: [number, number];
  /** Patches merged into one token along each side (1: none). */
  merge: number;
  /** Tokens the connector makes of the view (before OneVision trims the padding). */
  tokens: number;
};

/** The engine's preprocess::ImageViews (snake_case, as serialised): how one image is cut into
 * encoder views, the same shape for every family that tiles. */
export type ImageViews = {
  scheme: TilingScheme;
  source: Resolution;
  /** The size the image is resized to before views are cut from it. */
  resized: Resolution | null;
  /** The area the views are cut from, in source pixels (larger than the image where padded). */
  frame: Rect;
  /** [rows, cols] of the tile grid ([0, 0]: not split). */
  grid: [number, number];
  views: EncoderView[];
  /** How the prompt's visual tokens add up (a negative count is taken away). */
  token_terms: { label: string; count: number }[];
  total_tokens: number;
  /** The processor's steps, in words. */
  notes: string[];
};

// ---- Documents (docs/documents.md) ----

/** An open PDF or page image; `pages` in points (PDF) or pixels (image). */
export type DocumentInfo = {
  id: string;
  name: string;
  path: string;
  kind: 'pdf' | 'image';
  pages: { width: number; height: number }[];
};

/** `page` is the 0-based page number; `index` the position in this run. */
export type OcrEvent =
  | { kind: 'loading'; progress: number; stage: string }
  | { kind: 'pageStarted'; page: number; index: number; total: number }
  | { kind: 'token'; page: number; text: string }
  | { kind: 'pageDone'; page: number; markdown: string; tokens: number; stopped: boolean }
  | { kind: 'pageError'; page: number; error: AppError };

export type DocumentResult = {
  documentId: string;
  pages: { page: number; markdown: string; tokens: number }[];
  cancelled: boolean;
  /** All pages, "<!-- page N -->" separated. */
  markdown: string;
  /** Plain text (Markdown syntax removed). */
  text: string;
};
