// Locators shared by the specs.
import type { Page } from '@playwright/test';

export const messages = (page: Page) => page.getByRole('log', { name: 'Messages' }).getByTestId('message');
export const answers = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"]');
export const questions = (page: Page) => page.locator('[data-testid="message"][data-role="user"]');
export const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
export const chatItems = (page: Page) => page.getByRole('list', { name: 'Chats' }).getByTestId('chat-item');
export const chips = (page: Page) => page.getByRole('list', { name: 'Attached images' }).getByTestId('staged-image');
export const nav = (page: Page, name: 'Chat' | 'How it sees' | 'Documents' | 'Models' | 'Settings') =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name });
