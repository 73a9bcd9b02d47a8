// "How it sees": one answer with capture on, answer-token attention read on demand, and
// exports saved through the shell (docs/teaching.md).
import { call, channel } from './ipc';
import type { AttentionMap, ExplainEvent, Explanation } from './types';

/** Runs one answer with capture on; `onEvent` sees load progress and the answer's pieces. */
export function explain(modelId: string, imageId: string, prompt: string, onEvent: (event: ExplainEvent) => void) {
  return call<Explanation>('explain', { modelId, imageId, prompt, onEvent: channel(onEvent) });
}

/** Attention of answer token `token` to every visual token; `layer` / `head` null: the mean;
 * `rollout`: attention rollout through every layer instead. */
export const answerAttention = (explanationId: string, token: number, layer: number | null, head: number | null, rollout = false) =>
  call<AttentionMap>('answer_attention', rollout
    ? { explanationId, token, layer: null, head: null, rollout: true }
    : { explanationId, token, layer, head });

/** Writes an export (PNG or JSON bytes) where the user picks (`path` null: the native save
 * dialog asks); resolves with the path written, or null when the dialog was cancelled. */
export const saveExport = (suggestedName: string, dataBase64: string, path: string | null = null) =>
  call<string | null>('save_export', { suggestedName, dataBase64, path });

export const BLIP2_PROMPT = 'Question: what is in the picture? Answer:';
export const PLAIN_PROMPT = 'What is in this picture?';

/** The prompt a family answers well without chat formatting: BLIP-2 (OPT) wants the
 * "Question: … Answer:" form; the instruction-tuned families take a plain question. */
export function defaultPrompt(family: string | null | undefined): string {
  return family === 'BLIP-2' ? BLIP2_PROMPT : PLAIN_PROMPT;
}
