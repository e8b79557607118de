/**
 * When `<meet-controls>` shows "You are muted": from the moment a muted
 * visitor is heard talking (`meeting.mutedSpeech$`) until a while after they
 * stop, gone at once when they unmute. Once it has gone, it comes back only
 * after a longer while of talking muted again, so someone who talks to the
 * room they sit in is not told (nor is a screen reader made to say it) over
 * and over. Pure, so the timing is tested as a table.
 */

export interface MutedHintTiming {
  /** It stays this long (ms) after the talking stopped (which `mutedSpeech$` says after a second of quiet). */
  lingerMs: number;
  /** Once gone, it is not shown again for this long (ms) in the same mute. */
  repeatAfterMs: number;
}

export const MUTED_HINT_TIMING: MutedHintTiming = { lingerMs: 2_000, repeatAfterMs: 20_000 };

export interface MutedHint {
  shown: boolean;
  /** Heard talking while muted now. */
  talking: boolean;
  /** When the talking stopped, while shown. */
  quietSince: number | null;
  /** When it last went away in this mute. */
  hiddenAt: number | null;
}

export const noMutedHint: MutedHint = { shown: false, talking: false, quietSince: null, hiddenAt: null };

/** What happened: talking heard or not (`mutedSpeech$`), unmuted (or out of the meeting), or time passed. */
export type MutedHintInput = 'talking' | 'quiet' | 'unmuted' | 'tick';

/** Pure: the hint after `input` at `now`. Returns the same object when nothing changed. */
export function nextMutedHint(
  state: MutedHint,
  input: MutedHintInput,
  now: number,
  { lingerMs, repeatAfterMs }: MutedHintTiming = MUTED_HINT_TIMING,
): MutedHint {
  if (input === 'unmuted') return noMutedHint;
  let next = state;
  if (input === 'talking' && !state.talking) next = { ...state, talking: true, quietSince: null };
  if (input === 'quiet' && state.talking)
    next = { ...state, talking: false, quietSince: state.shown ? now : null };
  if (next.talking && !next.shown && (next.hiddenAt === null || now - next.hiddenAt >= repeatAfterMs))
    return { ...next, shown: true, quietSince: null };
  if (next.shown && next.quietSince !== null && now - next.quietSince >= lingerMs)
    return { ...next, shown: false, quietSince: null, hiddenAt: now };
  return next;
}

/** When the hint changes by itself (goes away, or may come back while they talk on); null: not unless told. */
export function mutedHintWakeAt(
  state: MutedHint,
  { lingerMs, repeatAfterMs }: MutedHintTiming = MUTED_HINT_TIMING,
): number | null {
  if (state.shown) return state.quietSince === null ? null : state.quietSince + lingerMs;
  if (state.talking && state.hiddenAt !== null) return state.hiddenAt + repeatAfterMs;
  return null;
}
