// App settings and compute devices.
import { call } from './ipc';
import type { DeviceInfo, Settings } from './types';

export const getSettings = () => call<Settings>('get_settings');
export const setSettings = (settings: Settings) => call<Settings>('set_settings', { settings });
export const listDevices = () => call<DeviceInfo[]>('list_devices');

export type SettingsField = keyof Settings;
export type SettingsProblems = Partial<Record<SettingsField, string>>;

/** Field-by-field problems with `s`, in words; empty when it can be saved. */
export function validateSettings(s: Settings): SettingsProblems {
  const problems: SettingsProblems = {};
  if (!Number.isInteger(s.maxNewTokens) || s.maxNewTokens < 1 || s.maxNewTokens > 4096) {
    problems.maxNewTokens = 'Enter a whole number from 1 to 4096.';
  }
  if (!Number.isFinite(s.temperature) || s.temperature < 0 || s.temperature > 5) {
    problems.temperature = 'Enter a number from 0 (greedy) to 5.';
  }
  if (!Number.isInteger(s.topK) || s.topK < 0) problems.topK = 'Enter a whole number, 0 or more (0 turns it off).';
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) {
    problems.topP = 'Enter a number above 0 and at most 1 (1 turns it off).';
  }
  if (s.seed !== null && (!Number.isSafeInteger(s.seed) || s.seed < 0)) {
    problems.seed = 'Enter a whole number, 0 or more, or leave empty for a random seed.';
  }
  if (!isHttpUrl(s.hubUrl)) problems.hubUrl = 'Enter a web address starting with https:// or http://.';
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `device` values: "auto", "cpu", or "gpu:<index into list_devices>". */
export function deviceChoices(devices: DeviceInfo[]): { value: string; label: string }[] {
  const choices = [{ value: 'auto', label: 'Automatic (best available)' }];
  devices.forEach((d, index) => {
    if (d.kind.toLowerCase() === 'cpu' || d.id === 'cpu') return;
    choices.push({ value: `gpu:${index}`, label: `${d.name} (${d.backend})` });
  });
  choices.push({ value: 'cpu', label: 'CPU' });
  return choices;
}
