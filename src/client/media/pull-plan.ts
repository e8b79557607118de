/**
 * Which tracks to pull and which to drop: what the room announces against
 * what this session pulls. Pure, so the rules are tested as a table.
 */
import type { Participant } from '../../protocol/index.js';
import type { MediaKind } from '../call-types.js';
import type { SimulcastLayer } from './layers.js';

export const MEDIA_SLOTS: readonly MediaKind[] = ['microphone', 'camera', 'screen'];

/** A track another participant announces: `sessionId/trackName`. */
export interface WantedTrack {
  ref: string;
  participantId: string;
  slot: MediaKind;
  /** Cameras only: the simulcast layer to receive. */
  layer?: SimulcastLayer;
}

export interface PulledTrack extends WantedTrack {
  mid: string;
}

/** Announced but not flowing yet (`not-found`): asked for again at `retryAt`, at most `MAX_TRIES` times. */
export interface MissingTrack {
  retryAt: number;
  tries: number;
}

export const MISSING_RETRY_MS = 1_000;
export const MISSING_MAX_TRIES = 10;

/** The key of one participant's video, as the grid names its tiles: `<id> camera`, `<id> screen`. */
export const videoKey = (participantId: string, slot: Exclude<MediaKind, 'microphone'>) =>
  `${participantId} ${slot}`;

/**
 * Every track the others announce, never our own; with `videoShown`, only
 * the videos in it (what is on screen: the rest is not received), and every
 * microphone whatever is shown. A camera comes in the layer `layerOf` its
 * video key (cameras are published in simulcast layers; screens are not).
 */
export function wantedTracks(
  participants: readonly Participant[],
  selfId: string | null,
  videoShown: ReadonlySet<string> | null = null,
  layerOf?: (key: string) => SimulcastLayer,
): Map<string, WantedTrack> {
  const wanted = new Map<string, WantedTrack>();
  for (const participant of participants) {
    if (participant.id === selfId) continue;
    for (const slot of MEDIA_SLOTS) {
      const ref = participant.tracks[slot];
      if (!ref) continue;
      if (slot !== 'microphone' && videoShown && !videoShown.has(videoKey(participant.id, slot))) continue;
      const layer = slot === 'camera' ? layerOf?.(videoKey(participant.id, slot)) : undefined;
      wanted.set(ref, { ref, participantId: participant.id, slot, ...(layer ? { layer } : {}) });
    }
  }
  return wanted;
}

export interface PullPlan {
  /** Pulled tracks nobody announces any more, or stalled ones (pulled again below): close them. */
  drop: PulledTrack[];
  /** Announced tracks to ask for now. */
  pull: WantedTrack[];
  /** Pulled cameras to switch to another layer (the one in `layer`), with no renegotiation. */
  relayer: (PulledTrack & { layer: SimulcastLayer })[];
  /** Missing tracks nobody announces any more: stop waiting for them. */
  forget: string[];
  /** When a missing track should be asked for again; null when none waits. */
  nextRetryAt: number | null;
}

export function planPulls({
  wanted,
  pulled,
  missing,
  now,
  stalled = new Set(),
}: {
  wanted: ReadonlyMap<string, WantedTrack>;
  pulled: ReadonlyMap<string, PulledTrack>;
  missing: ReadonlyMap<string, MissingTrack>;
  now: number;
  /** Pulled tracks that stopped delivering while their owner still sends (`delivery-watch.ts`): closed and pulled again. */
  stalled?: ReadonlySet<string>;
}): PullPlan {
  const drop = [...pulled.values()].filter((track) => !wanted.has(track.ref) || stalled.has(track.ref));
  const forget = [...missing.keys()].filter((ref) => !wanted.has(ref));
  const pull: WantedTrack[] = [];
  const relayer: PullPlan['relayer'] = [];
  let nextRetryAt: number | null = null;
  for (const track of wanted.values()) {
    const current = pulled.get(track.ref);
    if (current && !stalled.has(track.ref)) {
      if (track.layer && current.layer !== track.layer) relayer.push({ ...current, layer: track.layer });
      continue;
    }
    const waiting = missing.get(track.ref);
    if (!waiting) {
      pull.push(track);
    } else if (waiting.tries >= MISSING_MAX_TRIES) {
      continue; // Announced but never there: wait for the room to announce something new.
    } else if (waiting.retryAt <= now) {
      pull.push(track);
    } else {
      nextRetryAt = Math.min(nextRetryAt ?? Infinity, waiting.retryAt);
    }
  }
  return { drop, pull, relayer, forget, nextRetryAt };
}
