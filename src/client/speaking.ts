/**
 * Who is speaking, worked out by each receiver from the audio it already
 * gets (and, for yourself, from your own microphone): nothing about it goes
 * through the room. On at the first loud sample, off only after a second of
 * quiet, so a pause between words does not make a tile flicker.
 */
import { defer, distinctUntilChanged, exhaustMap, from, map, scan, timer, type Observable } from 'rxjs';
import type { AudioLevels } from './media/audio-levels.js';

export interface SpeakingOptions {
  /** A level (0–1) above this is speech; below it, quiet. Default 0.02 (about −34 dBov). */
  threshold?: number;
  /** Quiet this long (ms) ends speaking. Default 1000. */
  holdMs?: number;
}

export interface SpeakingState {
  /** Who is speaking now, in the order they started. */
  speaking: readonly string[];
  /** When each speaker was last heard above the threshold. */
  lastHeard: ReadonlyMap<string, number>;
}

export const notSpeaking: SpeakingState = { speaking: [], lastHeard: new Map() };

/** Pure: who is speaking after one sample of levels taken at `now`. */
export function nextSpeaking(
  state: SpeakingState,
  levels: AudioLevels,
  now: number,
  { threshold = 0.02, holdMs = 1_000 }: SpeakingOptions = {},
): SpeakingState {
  const lastHeard = new Map(state.lastHeard);
  for (const [id, level] of levels) if (level > threshold) lastHeard.set(id, now);
  for (const [id, heard] of lastHeard) if (now - heard >= holdMs) lastHeard.delete(id);
  const still = state.speaking.filter((id) => lastHeard.has(id));
  const started = [...lastHeard.keys()].filter((id) => !still.includes(id));
  const speaking = [...still, ...started];
  const same =
    speaking.length === state.speaking.length && speaking.every((id, i) => id === state.speaking[i]);
  return { speaking: same ? state.speaking : speaking, lastHeard };
}

/**
 * Samples `levels()` every `intervalMs` while subscribed and emits who is
 * speaking (in the order they started) when that changes. A sample that
 * fails counts as silence.
 */
export function speakingFrom(
  levels: () => Promise<AudioLevels>,
  { intervalMs = 100, ...options }: SpeakingOptions & { intervalMs?: number } = {},
): Observable<readonly string[]> {
  return timer(0, intervalMs).pipe(
    // One sample at a time: ticks during a slow getStats are skipped, not queued.
    exhaustMap(() => defer(() => from(levels().catch((): AudioLevels => new Map())))),
    scan((state, sample) => nextSpeaking(state, sample, Date.now(), options), notSpeaking),
    map((state) => state.speaking),
    distinctUntilChanged(),
  );
}
