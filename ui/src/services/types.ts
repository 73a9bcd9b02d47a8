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
  | 'NO_MODEL';

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

export type MessageStatus = 'done' | 'streaming' | 'stopped' | 'error';

export type MessageStats = {
  tokens: number;
  tokensPerSecond: number;
  promptTokens: number;
  imageTokens: number;
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
