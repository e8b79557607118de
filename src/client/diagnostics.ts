/**
 * What a problem report carries and the debug overlay shows: this visitor's
 * own view of the meeting (browser, meeting and Calls session ids, how the
 * room and media connections are, recent errors, and per track what the
 * connection's statistics say). No media, nothing of other participants but
 * the ids of the tracks pulled from them. Made to fit `feedback.diagnostics`
 * (`src/protocol/feedback.ts`): texts cut to its limits, the newest errors
 * and tracks only. The meeting loads this module when first asked.
 */
import { exhaustMap, map, pairwise, startWith, timer, type Observable } from 'rxjs';
import type { Diagnostics, TrackDiagnostics } from '../protocol/feedback.js';
import { DIAGNOSTIC_ERRORS_MAX, DIAGNOSTIC_TRACKS_MAX } from '../protocol/feedback-limits.js';
import type { MeetCallClient } from './call-client.js';
import { readTrackCounters, type TrackCounters } from './media/connection-stats.js';
import type { MediaSession } from './media/media-session.js';
import { sharedStats } from './media/shared-stats.js';
import type { Meeting } from './meeting.js';

/** One error as a report keeps it: when (`Date.now()`), its code and message. */
export interface RecentError {
  at: number;
  code: string;
  message: string;
}

/** What diagnostics are read from: the meeting's state now. */
export type DiagnosticsSource = Pick<
  Meeting,
  'meetingId' | 'mediaSessionId' | 'connection$' | 'mediaConnection$'
>;

/** One reading of the session's statistics. */
export interface StatsReading {
  at: number;
  sessionId: string | null;
  tracks: TrackCounters[];
  sources: ReadonlyMap<string, string>;
}

/**
 * Diagnostics every `periodMs` while subscribed, the first at once (rates
 * come from the difference between two readings, so the first has none).
 * Nothing is read between subscriptions.
 */
export function watchDiagnostics(
  source: DiagnosticsSource,
  /** Oldest first, from the meeting's creation. */
  errors: readonly RecentError[],
  call: Pick<MeetCallClient, 'session'>,
  periodMs = 1_000,
): Observable<Diagnostics> {
  return timer(0, periodMs).pipe(
    // A reading slower than the period is not queued behind: the next tick reads afresh.
    exhaustMap(() => readStats(call.session)),
    startWith(null),
    pairwise(),
    map(([previous, next]) => diagnose(source, errors, previous, next!)),
  );
}

async function readStats(session: Readonly<MediaSession> | null): Promise<StatsReading> {
  // A closed connection has no statistics: the session is being replaced.
  const report = session && !session.broken ? await sharedStats(session.pc).catch(() => null) : null;
  // Whose each mid is: ours by what we send on it, pulled ones by their owner.
  const sources = new Map<string, string>();
  for (const [kind, transceiver] of Object.entries(session?.senders ?? {}))
    if (transceiver.mid) sources.set(transceiver.mid, kind);
  for (const pulled of session?.pulled.values() ?? []) sources.set(pulled.mid, pulled.participantId);
  return {
    at: Date.now(),
    sessionId: report && session ? session.id : null,
    tracks: report ? readTrackCounters(report) : [],
    sources,
  };
}

function diagnose(
  source: DiagnosticsSource,
  errors: readonly RecentError[],
  previous: StatsReading | null,
  next: StatsReading,
): Diagnostics {
  const current = (status$: Observable<string>) => {
    let status = 'unknown';
    // Both are behaviour subjects underneath: they say their value as soon as asked.
    status$.subscribe((value) => (status = value)).unsubscribe();
    return status;
  };
  return {
    browser: cut(navigator.userAgent, 400),
    meetingId: source.meetingId && cut(source.meetingId, 64),
    callsSessionId: source.mediaSessionId && cut(source.mediaSessionId, 64),
    room: current(source.connection$),
    media: current(source.mediaConnection$),
    errors: errors.slice(-DIAGNOSTIC_ERRORS_MAX).map(({ at, code, message }) => ({
      at,
      code: cut(code, 64),
      message: cut(message, 300),
    })),
    tracks: trackDiagnostics(previous?.sessionId === next.sessionId ? previous : null, next).slice(
      0,
      DIAGNOSTIC_TRACKS_MAX,
    ),
  };
}

/** Ours first (by mid), then pulled ones; rates only where both readings have the track. */
export function trackDiagnostics(previous: StatsReading | null, next: StatsReading): TrackDiagnostics[] {
  const seconds = previous ? (next.at - previous.at) / 1_000 : 0;
  const before = new Map(previous?.tracks.map((t) => [`${t.direction} ${t.mid}`, t]));
  return [...next.tracks]
    .sort(
      (a, b) =>
        Number(b.direction === 'outbound') - Number(a.direction === 'outbound') ||
        a.mid.localeCompare(b.mid, 'en', { numeric: true }),
    )
    .map((track) => {
      const old = before.get(`${track.direction} ${track.mid}`);
      const source = next.sources.get(track.mid);
      const diagnostics: TrackDiagnostics = {
        direction: track.direction,
        kind: track.kind,
        mid: cut(track.mid, 32),
        ...(source ? { source: cut(source, 64) } : {}),
        ...(track.width !== null && track.height !== null
          ? { width: track.width, height: track.height }
          : {}),
      };
      if (old && seconds > 0 && track.bytes >= old.bytes)
        diagnostics.bitrateKbps = Math.round(((track.bytes - old.bytes) * 8) / seconds / 1_000);
      const loss = track.direction === 'outbound' ? track.fractionLost : old ? lossBetween(old, track) : null;
      if (loss !== null) diagnostics.packetLoss = Math.round(loss * 1_000) / 1_000;
      if (track.roundTripTime !== null) diagnostics.roundTripMs = Math.round(track.roundTripTime * 1_000);
      return diagnostics;
    });
}

/** The share of packets lost on a pulled track between two readings; null when none were due. */
function lossBetween(old: TrackCounters, track: TrackCounters): number | null {
  const received = track.packetsReceived - old.packetsReceived;
  // Late packets lower the lost count again; a drop in it is no loss.
  const lost = Math.max(0, track.packetsLost - old.packetsLost);
  return received + lost > 0 ? Math.min(1, lost / (received + lost)) : null;
}

/** As the schema reads a text: trimmed, then no longer than `max`. */
const cut = (text: string, max: number) => text.trim().slice(0, max);
