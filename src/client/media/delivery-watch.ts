/**
 * Whether media still gets through, from readings of the connection's
 * statistics (`connection-stats.ts`). Pure, so the rules are tested as a
 * table:
 * - the connection is silent when nothing at all has arrived for 0.8 s
 *   while some pulled track should deliver (its owner's microphone or camera
 *   is on): the media path is down, even if ICE still answers;
 * - a pulled track is stalled when its owner sends on it but nothing of it has
 *   arrived for 3 s while the rest of the connection is alive: the call closes
 *   it and pulls it again. A track pulled again that still brings nothing
 *   waits twice as long each time (at most 30 s), so a sender that really
 *   stopped does not keep the call renegotiating.
 */
import type { ConnectionSample, ReceivedCounters } from './connection-stats.js';

export const DELIVERY_TIMING = {
  /**
   * Nothing at all arriving this long (ms), while something should, is a
   * silent connection: with readings every 500 ms and the browser's clock
   * for the last packet, it shows 0.8–1.3 s after the media path drops.
   */
  connectionSilentMs: 800,
  /** A track that should deliver and brought nothing this long (ms) is stalled. */
  stallMs: 3_000,
  /** The longest wait before pulling the same track again. */
  maxStallMs: 30_000,
};

interface TrackWatch {
  ref: string;
  bytes: number;
  /** When its bytes last grew (or when it was first seen). */
  grewAt: number;
  /** Since when its owner sends on it; null while they do not. */
  sendingSince: number | null;
  /** Reported stalled already: its pull is being replaced. */
  reported: boolean;
}

export interface DeliveryState {
  /** By mid. */
  tracks: ReadonlyMap<string, TrackWatch>;
  connection: { bytes: number; grewAt: number };
  /** Since when some pulled track should deliver; null while none should. */
  expectingSince: number | null;
  /** Times each ref was pulled again without delivering since. */
  repulls: ReadonlyMap<string, number>;
}

export interface DeliveryVerdict {
  state: DeliveryState;
  /** Nothing arrives while something should. */
  connectionSilent: boolean;
  /** Refs to close and pull again. */
  stalled: string[];
}

/** Pure: what the next reading says. `sending(track)`: its owner sends on it now. */
export function watchDelivery(
  state: DeliveryState | null,
  sample: ConnectionSample,
  sending: (track: ReceivedCounters) => boolean,
  timing = DELIVERY_TIMING,
): DeliveryVerdict {
  const now = sample.at;
  const tracks = new Map<string, TrackWatch>();
  const repulls = new Map(state?.repulls);
  for (const track of sample.received) {
    const before = state?.tracks.get(track.mid);
    const grew = before !== undefined && track.bytesReceived > before.bytes;
    if (grew) repulls.delete(track.ref);
    tracks.set(track.mid, {
      ref: track.ref,
      bytes: track.bytesReceived,
      grewAt: grew || !before ? now : before.grewAt,
      sendingSince: sending(track) ? (before?.sendingSince ?? now) : null,
      reported: before?.reported ?? false,
    });
  }
  const expecting = [...tracks.values()].some((track) => track.sendingSince !== null);
  const expectingSince = expecting ? (state?.expectingSince ?? now) : null;
  const connectionGrew = !state || sample.bytesReceived > state.connection.bytes;
  const connection = {
    bytes: sample.bytesReceived,
    grewAt: connectionGrew ? now : state.connection.grewAt,
  };
  // The browser's own clock when it gives one: growth seen between readings lags by up to one interval.
  const lastArrival = sample.silentMs !== null ? now - sample.silentMs : connection.grewAt;
  const connectionSilent =
    expectingSince !== null && now - Math.max(lastArrival, expectingSince) >= timing.connectionSilentMs;

  const stalled: string[] = [];
  // A silent connection is not one track's fault: pulling again would not help.
  if (!connectionSilent)
    for (const track of tracks.values()) {
      if (track.sendingSince === null || track.reported) continue;
      const tries = repulls.get(track.ref) ?? 0;
      const wait = Math.min(timing.stallMs * 2 ** tries, timing.maxStallMs);
      if (now - Math.max(track.grewAt, track.sendingSince) < wait) continue;
      track.reported = true;
      repulls.set(track.ref, tries + 1);
      stalled.push(track.ref);
    }
  return { state: { tracks, connection, expectingSince, repulls }, connectionSilent, stalled };
}
