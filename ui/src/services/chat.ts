// Chats and generation: list_chats … stop_generation.
import { call, channel } from './ipc';
import type { Chat, ChatSummary, GenEvent, Message } from './types';

export type GenEventHandler = (event: GenEvent) => void;

export const listChats = () => call<ChatSummary[]>('list_chats');
export const createChat = (modelId: string | null) => call<Chat>('create_chat', { modelId });
export const getChat = (id: string) => call<Chat>('get_chat', { id });
export const renameChat = (id: string, title: string) => call<ChatSummary>('rename_chat', { id, title });
export const setChatModel = (id: string, modelId: string) => call<ChatSummary>('set_chat_model', { id, modelId });
export const deleteChat = (id: string) => call<null>('delete_chat', { id });

/** Sends a user message; resolves with the final assistant message. */
export function sendMessage(chatId: string, text: string, imageIds: string[], onEvent: GenEventHandler) {
  return call<Message>('send_message', { chatId, text, imageIds, onEvent: channel(onEvent) });
}

/** Answers the last user message again, replacing the last answer. */
export function regenerate(chatId: string, onEvent: GenEventHandler) {
  return call<Message>('regenerate', { chatId, onEvent: channel(onEvent) });
}

/** Drops `messageId` and everything after it, then sends `text` with `imageIds` in its place. */
export function editMessage(
  chatId: string,
  messageId: string,
  text: string,
  imageIds: string[],
  onEvent: GenEventHandler,
) {
  return call<Message>('edit_message', { chatId, messageId, text, imageIds, onEvent: channel(onEvent) });
}

export const stopGeneration = (chatId: string) => call<null>('stop_generation', { chatId });
