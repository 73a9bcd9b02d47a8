// The one place the page talks to the shell: typed `invoke` that always rejects with an AppError.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { AppError } from './types';

/** True for objects shaped like the shell's `{ code, message, details }`. */
export function isAppError(value: unknown): value is AppError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AppError).code === 'string' &&
    typeof (value as AppError).message === 'string'
  );
}

/** Any rejection (an AppError, a string from Tauri itself, an Error) as an AppError. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return { code: value.code, message: value.message, details: value.details ?? null };
  if (typeof value === 'string') return { code: 'INTERNAL', message: 'Something went wrong.', details: value };
  if (value instanceof Error) return { code: 'INTERNAL', message: 'Something went wrong.', details: value.message };
  return { code: 'INTERNAL', message: 'Something went wrong.', details: JSON.stringify(value) ?? null };
}

/** `invoke` whose rejection is always an AppError. */
export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toAppError(error);
  }
}

/** A Channel that hands each event to `onEvent`. */
export function channel<E>(onEvent: (event: E) => void): Channel<E> {
  const ch = new Channel<E>();
  ch.onmessage = onEvent;
  return ch;
}
