// An in-memory fake of every command in docs/app.md, installed with @tauri-apps/api/mocks before
// the page loads. Bundled for the browser by tests/fixtures.ts; configured through
// window.__IRIS_MOCK_CONFIG__; driven and inspected by tests through window.__irisMock.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type {
  AppError, Chat, ChatSummary, DemoSample, DocumentInfo, DocumentResult, DownloadEvent, ExplainEvent, Explanation, GenEvent, ImageRef, Message, ModelEntry,
  OcrEvent, Settings,
} from '../../src/services/types';
import { attentionFor, explanationFor } from './explain-data';
import {
  defaultChats, defaultDevices, defaultModels, defaultSettings, demoSamples, drawPage, makeImage, model, pageMarkdown, pageText,
  type StoredImage,
} from './data';
import { Gate, type MockConfig } from './gate';

type Args = Record<string, unknown>;
type ChannelLike = { id: number };
type Running = { chatId: string; stop: boolean };

const config: MockConfig = (window as unknown as { __IRIS_MOCK_CONFIG__?: MockConfig }).__IRIS_MOCK_CONFIG__ ?? {};
const now = Date.now();
const images = new Map<string, StoredImage>();
let models: ModelEntry[] = config.models === 'none' ? [] : (config.models ?? defaultModels());
let chats: Chat[] = config.chats === 'none' ? [] : defaultChats(now, images);
let settings: Settings = { ...defaultSettings(), ...config.settings };
const calls: { cmd: string; args: Args }[] = [];
const failures = new Map<string, AppError[]>();
const genGate = new Gate(config.manual ?? false, config.tokenDelayMs ?? 12);
const downloadGate = new Gate(config.manualDownloads ?? false, config.downloadDelayMs ?? 15);
const downloads = new Map<string, { cancel: boolean }>();
let running: Running | null = null;
const explanations = new Map<string, Explanation>();
let cancelNextSave = false;
let cancelNextOpen = false;
const documents = new Map<string, DocumentInfo>();
const readings = new Map<string, { cancel: boolean }>();
let samples: DemoSample[] | null = null;
let loadedModel: string | null = config.modelLoaded ? (models[0]?.id ?? null) : null;
let counter = 0;

const nextId = (prefix: string) => `${prefix}-${++counter}`;
const err = (code: string, message: string, details: string | null = null): AppError => ({ code, message, details });

function send<E>(channel: unknown, message: E, index: number): void {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } }).__TAURI_INTERNALS__;
  internals.runCallback((channel as ChannelLike).id, { index, message });
}

/** A sender that numbers the messages of one channel. */
function sender<E>(channel: unknown): (message: E) => void {
  let index = 0;
  return (message) => send(channel, message, index++);
}

function summary(chat: Chat): ChatSummary {
  const { id, title, modelId, updatedAt } = chat;
  return { id, title, modelId, updatedAt, messageCount: chat.messages.length };
}

function findChat(id: unknown): Chat {
  const chat = chats.find((c) => c.id === id);
  if (!chat) throw err('NOT_FOUND', 'This chat no longer exists.', `no chat with id ${String(id)}`);
  return chat;
}

function imageRefs(ids: unknown): ImageRef[] {
  return (ids as string[]).map((id) => {
    const image = images.get(id);
    if (!image) throw err('NOT_FOUND', 'An attached image is gone. Attach it again.', `no image ${id}`);
    return image.ref;
  });
}

function answerFor(text: string, imageCount: number, imageIds: string[] = []): string {
  if (config.answer) return config.answer;
  // As the trained demo model: a sample scene's suggested question gets its answer.
  const sample = samples?.find((s) => imageIds.includes(s.image.id));
  const known = sample?.questions.find((q) => q.question === text);
  if (known) return known.answer;
  return imageCount > 0
    ? `I see ${imageCount === 1 ? 'one image' : `${imageCount} images`}: a **sunny** landscape with \`green\` hills.\nYou asked: ${text}`
    : `You asked: ${text}\nThere is no image in this message.`;
}

/** The fake engine: optional model load, then started, tokens, finished (or stopped / error). */
async function generate(chat: Chat, user: Message, channel: unknown, keep = chat.messages.length): Promise<Message> {
  if (running) throw err('BUSY', 'Iris is still answering. Stop it or wait for it to finish.');
  if (!chat.modelId) throw err('NO_MODEL', 'Choose a model for this chat first.');
  const entry = models.find((m) => m.id === chat.modelId);
  if (!entry) throw err('MODEL_NOT_FOUND', 'The model of this chat is gone. Choose another one.');
  const emit = sender<GenEvent>(channel);
  const task: Running = { chatId: chat.id, stop: false };
  running = task;
  try {
    if (loadedModel !== entry.id) {
      for (const [progress, stage] of [[0, 'Reading config'], [0.4, 'Loading weights (2 of 4 files)'], [1, 'Ready']] as const) {
        await genGate.tick();
        if (task.stop) throw err('CANCELLED', 'Stopped.');
        emit({ kind: 'loading', modelId: entry.id, progress, stage });
      }
      loadedModel = entry.id;
    }
    await genGate.tick();
    const assistant: Message = {
      id: nextId('msg'), role: 'assistant', text: '', images: [], status: 'streaming', error: null, createdAt: Date.now(), stats: null,
    };
    chat.messages = [...chat.messages.slice(0, keep), user, assistant];
    chat.updatedAt = Date.now();
    if (chat.title === 'New chat') chat.title = user.text.slice(0, 40) || 'Image chat';
    emit({ kind: 'started', userMessage: { ...user }, assistantMessage: { ...assistant } });
    const pieces = answerFor(user.text, user.images.length, user.images.map((i) => i.id)).match(/\S+\s*|\s+/g) ?? [];
    let tokens = 0;
    for (const piece of pieces) {
      await genGate.tick();
      if (task.stop) break;
      if (config.failAfterTokens !== undefined && tokens === config.failAfterTokens) {
        const error = err('OUT_OF_MEMORY', 'The model ran out of memory. Try a smaller image or the f16 precision.', 'wgpu: allocation of 512 MiB failed');
        Object.assign(assistant, { status: 'error', error });
        emit({ kind: 'error', messageId: assistant.id, error });
        throw error;
      }
      assistant.text += piece;
      tokens += 1;
      emit({ kind: 'token', messageId: assistant.id, text: piece });
    }
    assistant.status = task.stop ? 'stopped' : 'done';
    assistant.stats = {
      tokens, tokensPerSecond: 18.4, promptTokens: 40 + 576 * user.images.length, imageTokens: 576 * user.images.length,
      forgottenExchanges: config.forgottenExchanges ?? 0,
    };
    emit({ kind: 'finished', message: { ...assistant } });
    return { ...assistant };
  } finally {
    running = null;
  }
}

/** The fake `explain`: load progress, the answer's tokens, then the fixture explanation. */
async function explain(a: Args): Promise<Explanation> {
  if (running) throw err('BUSY', 'Iris is still answering. Stop it or wait for it to finish.');
  const entry = models.find((m) => m.id === a.modelId);
  if (!entry) throw err('MODEL_NOT_FOUND', 'This model is gone. Choose another one.');
  if (!entry.runnable) throw err('INVALID_MODEL', `${entry.name} cannot run here.`, entry.problem);
  const image = images.get(String(a.imageId));
  if (!image) throw err('NOT_FOUND', 'This image is no longer stored. Choose it again.');
  const emit = sender<ExplainEvent>(a.onEvent);
  running = { chatId: '', stop: false };
  try {
    if (loadedModel !== entry.id) {
      for (const [progress, stage] of [[0, 'Reading config'], [0.4, 'Loading weights (2 of 4 files)'], [1, 'Ready']] as const) {
        await genGate.tick();
        emit({ kind: 'loading', progress, stage });
      }
      loadedModel = entry.id;
    }
    const { id, width, height } = image.ref;
    const explanation = explanationFor(entry, { id, width, height }, String(a.prompt), nextId('expl'));
    for (const text of explanation.answer.tokens) {
      await genGate.tick();
      emit({ kind: 'token', text });
    }
    explanations.set(explanation.explanationId, explanation);
    return explanation;
  } finally {
    running = null;
  }
}

function answerAttention(a: Args) {
  const explanation = explanations.get(String(a.explanationId));
  if (!explanation) throw err('NOT_FOUND', 'This explanation is no longer kept. Run Explain again.');
  const info = explanation.answerAttention;
  if (!info) throw err('INVALID_INPUT', 'This model has no answer-token attention.');
  const token = Number(a.token);
  if (!Number.isInteger(token) || token < 0 || token >= info.tokenCount) throw err('INVALID_INPUT', `There is no answer token ${token}.`);
  if (a.rollout === true) return { ...attentionFor(info, token, null, null), rollout: true };
  return attentionFor(info, token, a.layer as number | null, a.head as number | null);
}

/** The fake `open_document`: PDFs get `config.documentPages` (3) Letter pages, images one;
 * a name with "locked" is a password-protected PDF; anything else is not a document. */
function openDocument(a: Args): DocumentInfo | null {
  if ((a.path === null || a.path === undefined) && cancelNextOpen) {
    cancelNextOpen = false;
    return null;
  }
  const path = a.path === null || a.path === undefined ? '/home/ada/Documents/report.pdf' : String(a.path);
  const name = path.split('/').pop() ?? path;
  let info: DocumentInfo;
  if (/\.pdf$/i.test(name)) {
    if (/locked/i.test(name)) {
      throw err('BAD_DOCUMENT', `This PDF is password-protected. Iris cannot read “${name}”; save an unprotected copy and open that.`, 'encrypted PDF (standard security handler)');
    }
    info = { id: nextId('doc'), name, path, kind: 'pdf', pages: Array.from({ length: config.documentPages ?? 3 }, () => ({ width: 612, height: 792 })) };
  } else if (/\.(png|jpe?g|webp)$/i.test(name)) {
    info = { id: nextId('doc'), name, path, kind: 'image', pages: [{ width: 1240, height: 1754 }] };
  } else {
    throw err('BAD_DOCUMENT', `“${name}” is not a PDF or an image Iris can read.`, `unsupported format: ${path}`);
  }
  documents.set(info.id, info);
  return info;
}

function findDocument(id: unknown): DocumentInfo {
  const doc = documents.get(String(id));
  if (!doc) throw err('NOT_FOUND', 'This document is no longer open. Open it again.');
  return doc;
}

/** 1-based pages and ranges ("1-3", "2,4") as 0-based pages; INVALID_INPUT when wrong. */
function pageSelection(spec: unknown, count: number): number[] {
  if (spec === null || spec === undefined) return Array.from({ length: count }, (_, i) => i);
  const chosen = new Set<number>();
  for (const part of String(spec).split(',')) {
    const [from, to = from] = part.trim().split('-').map((x) => Number(x.trim()));
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from || to > count) {
      throw err('INVALID_INPUT', `The page range “${String(spec)}” does not fit this document of ${count} pages.`);
    }
    for (let p = from; p <= to; p++) chosen.add(p - 1);
  }
  return [...chosen].sort((x, y) => x - y);
}

/** The fake `read_document`: per page pageStarted, the model load (first page), tokens, pageDone (or
 * pageError for `config.failPage`); honours cancel_reading after the token in flight. */
async function readDocument(a: Args): Promise<DocumentResult> {
  const doc = findDocument(a.documentId);
  if (!a.modelId) throw err('NO_MODEL', 'Choose a model first.');
  const entry = models.find((m) => m.id === a.modelId);
  if (!entry) throw err('MODEL_NOT_FOUND', 'This model is gone. Choose another one.');
  const pages = pageSelection(a.pages, doc.pages.length);
  if (readings.has(doc.id)) throw err('BUSY', 'This document is already being read.');
  const emit = sender<OcrEvent>(a.onEvent);
  const state = { cancel: false };
  readings.set(doc.id, state);
  const done: DocumentResult['pages'] = [];
  try {
    for (const [index, page] of pages.entries()) {
      if (state.cancel) break;
      await genGate.tick();
      if (state.cancel) break;
      emit({ kind: 'pageStarted', page, index, total: pages.length });
      // As the shell: the model loads inside the page's read, after its pageStarted.
      if (loadedModel !== entry.id) {
        for (const [progress, stage] of [[0, 'Reading config'], [0.5, 'Loading weights'], [1, 'Ready']] as const) {
          await genGate.tick();
          if (state.cancel) break;
          emit({ kind: 'loading', progress, stage });
        }
        if (state.cancel) break;
        loadedModel = entry.id;
      }
      const markdown = pageMarkdown(page);
      let text = '';
      let failed = false;
      for (const piece of markdown.match(/\S+\s*|\s+/g) ?? []) {
        await genGate.tick();
        if (state.cancel) break;
        if (config.failPage === page && text !== '') {
          emit({ kind: 'pageError', page, error: err('GENERATION_FAILED', 'The model stopped with an error on this page.', 'decoder: NaN in logits') });
          failed = true;
          break;
        }
        text += piece;
        emit({ kind: 'token', page, text: piece });
      }
      if (failed) continue;
      const stopped = state.cancel;
      const tokens = text.match(/\S+\s*|\s+/g)?.length ?? 0;
      // As the shell: a page cut short by Stop is kept with what it has.
      emit({ kind: 'pageDone', page, markdown: stopped ? text : markdown, tokens, stopped });
      done.push({ page, markdown: stopped ? text : markdown, tokens });
    }
    return {
      documentId: doc.id,
      pages: done,
      cancelled: state.cancel,
      markdown: done.map((p) => `<!-- page ${p.page + 1} -->\n\n${p.markdown}`).join('\n\n'),
      text: done.map((p) => (p.markdown === pageMarkdown(p.page) ? pageText(p.page) : p.markdown)).join('\n\n'),
    };
  } finally {
    readings.delete(doc.id);
  }
}

async function download(repoId: string, channel: unknown): Promise<ModelEntry> {
  const emit = sender<DownloadEvent>(channel);
  const state = { cancel: false };
  downloads.set(repoId, state);
  const files = [['config.json', 4_000], ['model-00001-of-00002.safetensors', 2_000_000_000], ['model-00002-of-00002.safetensors', 1_200_000_000]] as const;
  const totalBytes = files.reduce((sum, [, size]) => sum + size, 0);
  const step = async () => {
    await downloadGate.tick();
    if (state.cancel) throw err('CANCELLED', 'Download cancelled.');
  };
  try {
    await step();
    emit({ kind: 'listing', repoId });
    await step();
    emit({ kind: 'started', repoId, files: files.length, totalBytes, resumedBytes: 0 });
    let before = 0;
    for (const [file, size] of files) {
      for (const part of [0.25, 0.5, 0.75, 1]) {
        await step();
        // As the real backend: overall bytes of all files together.
        emit({ kind: 'progress', file, doneBytes: before + Math.round(size * part), totalBytes });
      }
      before += size;
      await step();
      emit({ kind: 'verifying', file });
    }
    const id = repoId.split('/')[1];
    const entry = model(id, { name: repoId, sizeBytes: totalBytes });
    models = [...models.filter((m) => m.id !== id), entry];
    emit({ kind: 'finished', model: entry });
    return entry;
  } finally {
    downloads.delete(repoId);
  }
}

async function handle(cmd: string, a: Args): Promise<unknown> {
  const queued = failures.get(cmd);
  if (queued && queued.length > 0) throw queued.shift();
  switch (cmd) {
    case 'list_models': return models;
    case 'import_model': {
      const entry = model('my-llava', { name: 'my-llava', source: 'imported', path: String(a.path ?? '/home/ada/models/my-llava') });
      models = [...models, entry];
      return entry;
    }
    case 'delete_model':
      if (models.some((m) => m.id === a.id && m.source === 'builtin')) {
        throw err('INVALID_INPUT', 'The built-in demo model cannot be deleted: it comes with Iris and takes only a few megabytes.');
      }
      models = models.filter((m) => m.id !== a.id);
      return null;
    case 'download_model': return download(String(a.repoId), a.onEvent);
    case 'cancel_download': {
      const d = downloads.get(String(a.repoId));
      if (d) d.cancel = true;
      downloadGate.wakeAll();
      return null;
    }
    case 'list_chats': return chats.map(summary).sort((x, y) => y.updatedAt - x.updatedAt);
    case 'create_chat': {
      // As the shell: no model given means the built-in demo model, when there is one.
      const fallback = models.find((m) => m.source === 'builtin')?.id ?? null;
      const chat: Chat = { id: nextId('chat'), title: 'New chat', modelId: (a.modelId as string | null) ?? fallback, createdAt: Date.now(), updatedAt: Date.now(), messageCount: 0, messages: [] };
      chats.push(chat);
      return structuredClone(chat);
    }
    case 'get_chat': { const chat = findChat(a.id); return structuredClone({ ...chat, messageCount: chat.messages.length }); }
    case 'rename_chat': { const chat = findChat(a.id); chat.title = String(a.title); return summary(chat); }
    case 'set_chat_model': { const chat = findChat(a.id); chat.modelId = String(a.modelId); return summary(chat); }
    case 'delete_chat': findChat(a.id); chats = chats.filter((c) => c.id !== a.id); return null;
    case 'add_image_files':
      return (a.paths as string[]).map((path) => {
        const name = path.split('/').pop() ?? path;
        if (!/\.(png|jpe?g|webp|gif|bmp)$/i.test(name)) throw err('BAD_IMAGE', `“${name}” is not an image Iris can read.`, `unsupported format: ${path}`);
        const image = makeImage(nextId('img'), name);
        images.set(image.ref.id, image);
        return image.ref;
      });
    case 'pick_images': {
      const image = makeImage(nextId('img'), 'holiday.jpg');
      images.set(image.ref.id, image);
      return [image.ref];
    }
    case 'add_image_bytes': {
      const url = `data:image/png;base64,${String(a.dataBase64)}`;
      const image = makeImage(nextId('img'), String(a.name), 64, 48, url);
      images.set(image.ref.id, image);
      return image.ref;
    }
    case 'demo_samples':
      // Staged once and handed out again, as the shell does while the images are stored.
      samples ??= demoSamples(images);
      return samples;
    case 'get_image': {
      const image = images.get(String(a.id));
      if (!image) throw err('NOT_FOUND', 'This image is no longer stored.');
      return image.full;
    }
    case 'send_message': {
      const chat = findChat(a.chatId);
      const user: Message = { id: nextId('msg'), role: 'user', text: String(a.text), images: imageRefs(a.imageIds), status: 'done', error: null, createdAt: Date.now(), stats: null };
      return generate(chat, user, a.onEvent);
    }
    case 'regenerate': {
      const chat = findChat(a.chatId);
      const lastUser = [...chat.messages].reverse().find((m) => m.role === 'user');
      if (!lastUser) throw err('INVALID_INPUT', 'There is no question to answer again.');
      return generate(chat, lastUser, a.onEvent, chat.messages.indexOf(lastUser));
    }
    case 'edit_message': {
      const chat = findChat(a.chatId);
      const at = chat.messages.findIndex((m) => m.id === a.messageId);
      if (at < 0 || chat.messages[at].role !== 'user') throw err('NOT_FOUND', 'That message no longer exists.');
      const user: Message = { id: nextId('msg'), role: 'user', text: String(a.text), images: imageRefs(a.imageIds), status: 'done', error: null, createdAt: Date.now(), stats: null };
      return generate(chat, user, a.onEvent, at);
    }
    case 'stop_generation':
      if (running && running.chatId === a.chatId) running.stop = true;
      genGate.wakeAll();
      return null;
    case 'get_settings': return settings;
    case 'set_settings': {
      const next = a.settings as Settings;
      if (next.maxNewTokens < 1 || next.maxNewTokens > 4096) throw err('INVALID_INPUT', 'Max new tokens must be between 1 and 4096.');
      settings = { ...next };
      return settings;
    }
    case 'list_devices': return defaultDevices();
    case 'explain': return explain(a);
    case 'answer_attention': return answerAttention(a);
    case 'open_document': return openDocument(a);
    case 'document_page': {
      const doc = findDocument(a.documentId);
      const page = Number(a.page);
      const size = doc.pages[page];
      if (!size) throw err('INVALID_INPUT', `There is no page ${page + 1}.`);
      return drawPage(doc.name, page, size.width, size.height, Number(a.maxSide));
    }
    case 'read_document': return readDocument(a);
    case 'cancel_reading': {
      findDocument(a.documentId);
      const reading = readings.get(String(a.documentId));
      if (reading) reading.cancel = true;
      genGate.wakeAll();
      return null;
    }
    case 'save_export': {
      if (cancelNextSave) {
        cancelNextSave = false;
        return null;
      }
      return (a.path as string | null) ?? `/home/ada/Pictures/${String(a.suggestedName)}`;
    }
    default: throw err('NOT_FOUND', `unknown command ${cmd}`);
  }
}

function logged(args: Args | undefined): Args {
  const out: Args = {};
  for (const [key, value] of Object.entries(args ?? {})) {
    out[key] = value && typeof value === 'object' && 'id' in value && key === 'onEvent' ? '[channel]' : structuredClone(value);
  }
  return out;
}

mockWindows('main');
mockIPC((cmd, args) => {
  calls.push({ cmd, args: logged(args as Args) });
  return handle(cmd, (args ?? {}) as Args);
}, { shouldMockEvents: true });

const api = {
  calls,
  callsTo: (cmd: string) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
  /** The next call of `cmd` rejects with `error`. */
  failNext: (cmd: string, error: AppError) => failures.set(cmd, [...(failures.get(cmd) ?? []), error]),
  step: (n = 1) => genGate.step(n),
  stepDownload: (n = 1) => downloadGate.step(n),
  setManual: (on: boolean) => genGate.setManual(on),
  isRunning: () => running !== null,
  /** The next save dialog is cancelled (save_export resolves null). */
  cancelNextSave: () => {
    cancelNextSave = true;
  },
  /** The next open dialog is cancelled (open_document(null) resolves null). */
  cancelNextOpen: () => {
    cancelNextOpen = true;
  },
  isReading: () => readings.size > 0,
  emit: (event: string, payload: unknown) =>
    (window as unknown as { __TAURI_INTERNALS__: { invoke(c: string, a: unknown): Promise<unknown> } }).__TAURI_INTERNALS__
      .invoke('plugin:event|emit', { event, payload }),
  chats: () => structuredClone(chats),
  settings: () => settings,
};
export type IrisMock = typeof api;

declare global {
  /** The fake backend's test handle (present only under the Playwright tests). */
  function irisMock(): IrisMock;
}
(window as unknown as { irisMock: () => IrisMock }).irisMock = () => api;
