// The built-in demo model ("Iris shapes") and its sample scenes.
import { call } from './ipc';
import type { DemoSample, ModelEntry } from './types';

/** The sample scenes, their images staged (attach them by id, as a dropped image). */
export const demoSamples = () => call<DemoSample[]>('demo_samples');

/** True for the model that comes with Iris (it cannot be deleted). */
export const isBuiltin = (model: ModelEntry | null | undefined): boolean => model?.source === 'builtin';
