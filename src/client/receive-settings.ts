/**
 * Data saver and audio-only, remembered for this visitor across meetings and
 * rooms (like the chosen devices), so that someone on a metered connection
 * does not have to turn them on again every time.
 */
import { DEFAULT_RECEIVE_SETTINGS, type ReceiveSettings } from './media/layers.js';

export const RECEIVE_SETTINGS_KEY = 'meetkit:receive-settings';

export type SettingsStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** What was remembered; anything unreadable counts as not set. */
export function loadReceiveSettings(storage: SettingsStorage | null): ReceiveSettings {
  try {
    const saved: unknown = JSON.parse(storage?.getItem(RECEIVE_SETTINGS_KEY) ?? 'null');
    if (!saved || typeof saved !== 'object') return DEFAULT_RECEIVE_SETTINGS;
    const { dataSaver, audioOnly } = saved as Record<string, unknown>;
    return { dataSaver: dataSaver === true, audioOnly: audioOnly === true };
  } catch {
    return DEFAULT_RECEIVE_SETTINGS;
  }
}

export function saveReceiveSettings(storage: SettingsStorage | null, settings: ReceiveSettings): void {
  try {
    storage?.setItem(RECEIVE_SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Full or blocked: the setting holds for this page only.
  }
}

export function defaultSettingsStorage(): SettingsStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // Blocked: third-party iframe, privacy mode.
  }
}
