// Runs one generation (send, regenerate, edit & resend) against a ChatSession: shows the request
// at once, folds the GenEvents in as they stream, and settles the result or the error in place.
import * as chatService from '../../services/chat';
import type { AppError, GenEvent, ImageRef, Message } from '../../services/types';
import type { ChatSession, UiMessage } from './session';

export type GenerationRequest =
  | { kind: 'send'; text: string; images: ImageRef[] }
  | { kind: 'regenerate' }
  | { kind: 'edit'; messageId: string; text: string; images: ImageRef[] };

export type GenerationOutcome =
  | { ok: true; message: Message }
  /** `accepted`: the backend had started (the error sits on its answer). */
  | { ok: false; error: AppError; accepted: boolean };

export type ChatApi = Pick<typeof chatService, 'sendMessage' | 'regenerate' | 'editMessage'>;

let pendingCounter = 0;

function pendingUser(text: string, images: ImageRef[]): UiMessage {
  pendingCounter += 1;
  return {
    id: `pending-${pendingCounter}`,
    role: 'user',
    text,
    images,
    status: 'done',
    error: null,
    createdAt: Date.now(),
    stats: null,
    pending: true,
  };
}

export async function runGeneration(
  session: ChatSession,
  request: GenerationRequest,
  api: ChatApi = chatService,
): Promise<GenerationOutcome> {
  const snapshot = session.messages.slice();
  let pending: UiMessage | null = null;
  let answerId: string | null = null;
  const erroredIds = new Set<string>();

  if (request.kind === 'send') {
    pending = pendingUser(request.text, request.images);
    session.addPending(pending);
  } else if (request.kind === 'edit') {
    session.truncateFrom(request.messageId);
    pending = pendingUser(request.text, request.images);
    session.addPending(pending);
  } else {
    session.dropLastAnswer();
  }

  const onEvent = (event: GenEvent) => {
    switch (event.kind) {
      case 'loading':
        session.setLoading({ modelId: event.modelId, progress: event.progress, stage: event.stage });
        break;
      case 'started':
        session.setLoading(null);
        answerId = event.assistantMessage.id;
        session.started(event.userMessage, event.assistantMessage);
        break;
      case 'token':
        session.appendToken(event.messageId, event.text);
        break;
      case 'finished':
        session.replace({ ...event.message });
        break;
      case 'error':
        if (event.messageId) {
          erroredIds.add(event.messageId);
          session.update(event.messageId, { status: 'error', error: event.error });
        }
        break;
    }
  };

  session.setBusy(true);
  try {
    const ids = (images: ImageRef[]) => images.map((i) => i.id);
    const message =
      request.kind === 'send'
        ? await api.sendMessage(session.id, request.text, ids(request.images), onEvent)
        : request.kind === 'edit'
          ? await api.editMessage(session.id, request.messageId, request.text, ids(request.images), onEvent)
          : await api.regenerate(session.id, onEvent);
    session.replace({ ...message });
    return { ok: true, message };
  } catch (e) {
    const error = e as AppError;
    if (answerId !== null) {
      if (!erroredIds.has(answerId)) session.update(answerId, { status: 'error', error });
      return { ok: false, error, accepted: true };
    }
    if (error.code === 'CANCELLED' && request.kind !== 'regenerate') {
      // Stopped before it began (e.g. while the model loaded): as if never sent.
      session.setMessages(snapshot);
    } else if (request.kind === 'send' && pending) {
      session.update(pending.id, { pending: false, notSent: true, localError: error });
    } else {
      // A refused edit or regenerate leaves the chat as it was, with the reason beside the message.
      const restored = snapshot.map((m) => ({ ...m }));
      const target =
        request.kind === 'edit'
          ? restored.find((m) => m.id === request.messageId)
          : restored.filter((m) => m.role === 'assistant').pop();
      if (target) target.localError = error;
      session.setMessages(restored);
    }
    return { ok: false, error, accepted: false };
  } finally {
    session.setLoading(null);
    session.setBusy(false);
  }
}
