/**
 * What the connection's own statistics say about how media is getting
 * through, read from one `getStats()` report: per pulled track, what arrived
 * and what was lost (`inbound-rtp`); for what we send, what the SFU's
 * receiver reports say (`remote-inbound-rtp`: loss, round trip, jitter); for
 * the connection, the bytes that arrived (media and RTCP, not ICE checks) and
 * the candidate pair's round trip. Then, from two readings, one quality sample
 * per participant (`quality.ts` smooths them into a level): others' from what
 * arrives of them, yours from what the SFU says of what you send.
 */
import type { MediaKind } from '../call-types.js';
import type { QualitySample } from '../quality.js';
import type { PulledTrack } from './pull-plan.js';

/** What arrived so far on one pulled track. */
export interface ReceivedCounters {
  ref: string;
  mid: string;
  participantId: string;
  slot: MediaKind;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  /** Interarrival jitter in seconds; null before any packet. */
  jitter: number | null;
}

/** What the SFU last reported of one track we send. */
export interface SentReport {
  kind: 'audio' | 'video';
  fractionLost: number | null;
  /** Seconds. */
  roundTripTime: number | null;
  /** Seconds, as the SFU measures what arrives from us. */
  jitter: number | null;
}

export interface ConnectionSample {
  /** When it was read (`Date.now()`). */
  at: number;
  /** Bytes that arrived on the connection so far: media and RTCP, not ICE checks. */
  bytesReceived: number;
  /**
   * How long (ms) nothing but ICE checks has arrived, by the browser's own
   * clock (the selected pair's `lastPacketReceivedTimestamp`); null where the
   * browser does not say (then silence is told by `bytesReceived` alone).
   */
  silentMs: number | null;
  /** The selected candidate pair's round trip in seconds; null before it is measured. */
  roundTripTime: number | null;
  received: ReceivedCounters[];
  sent: SentReport[];
}

/** The fields read here, as `RTCStatsReport` values have them (each kind its own). */
export interface Stat {
  type: string;
  id: string;
  kind?: string;
  mid?: string;
  bytesReceived?: number;
  packetsReceived?: number;
  packetsLost?: number;
  jitter?: number;
  fractionLost?: number;
  roundTripTime?: number;
  currentRoundTripTime?: number;
  timestamp?: number;
  lastPacketReceivedTimestamp?: number;
  selectedCandidatePairId?: string;
  nominated?: boolean;
  state?: string;
  bytesSent?: number;
  frameWidth?: number;
  frameHeight?: number;
  /** Of a `remote-inbound-rtp`: the `outbound-rtp` it reports on. */
  localId?: string;
}

/** Anything with the `forEach` of an `RTCStatsReport` (a Map in tests). */
export interface StatsLike {
  forEach(callback: (stat: Stat) => void): void;
}

/** Reads one report; `pulled` says whose each mid is (a pulled track without statistics yet reads zero). */
export function readConnectionSample(
  report: StatsLike,
  pulled: Iterable<PulledTrack>,
  at: number,
): ConnectionSample {
  const stats = statsOf(report);
  const { transports, pairs } = selectedPairs(stats);
  const bytesReceived = (transports.length ? transports : pairs).reduce(
    (n, s) => n + (s.bytesReceived ?? 0),
    0,
  );
  const rtt = pairRoundTrip(pairs);
  const silences = pairs.flatMap(({ timestamp, lastPacketReceivedTimestamp: last }) =>
    timestamp !== undefined && last !== undefined ? [Math.max(0, timestamp - last)] : [],
  );
  const silentMs = silences.length ? Math.min(...silences) : null;
  const inbound = new Map(
    stats.filter((stat) => stat.type === 'inbound-rtp' && stat.mid !== undefined).map((s) => [s.mid!, s]),
  );
  const received = [...pulled].map(({ ref, mid, participantId, slot }): ReceivedCounters => {
    const stat = inbound.get(mid);
    return {
      ref,
      mid,
      participantId,
      slot,
      bytesReceived: stat?.bytesReceived ?? 0,
      packetsReceived: stat?.packetsReceived ?? 0,
      packetsLost: stat?.packetsLost ?? 0,
      jitter: stat?.jitter ?? null,
    };
  });
  const sent = stats
    .filter((stat) => stat.type === 'remote-inbound-rtp' && (stat.kind === 'audio' || stat.kind === 'video'))
    .map(
      (stat): SentReport => ({
        kind: stat.kind as 'audio' | 'video',
        fractionLost: stat.fractionLost ?? null,
        roundTripTime: stat.roundTripTime ?? null,
        jitter: stat.jitter ?? null,
      }),
    );
  return { at, bytesReceived, silentMs, roundTripTime: rtt, received, sent };
}

function statsOf(report: StatsLike): Stat[] {
  const stats: Stat[] = [];
  report.forEach((stat) => stats.push(stat));
  return stats;
}

/** The transports and the candidate pairs they use. */
function selectedPairs(stats: readonly Stat[]): { transports: Stat[]; pairs: Stat[] } {
  const byId = new Map(stats.map((stat) => [stat.id, stat]));
  const transports = stats.filter((stat) => stat.type === 'transport');
  // Browsers without transport statistics (Firefox) have the nominated pair's.
  const pairs = transports.length
    ? transports.flatMap((t) => {
        const pair = t.selectedCandidatePairId ? byId.get(t.selectedCandidatePairId) : undefined;
        return pair ? [pair] : [];
      })
    : stats.filter((stat) => stat.type === 'candidate-pair' && stat.nominated && stat.state === 'succeeded');
  return { transports, pairs };
}

/** The selected pair's round trip in seconds; null before it is measured. */
const pairRoundTrip = (pairs: readonly Stat[]): number | null =>
  pairs.find((pair) => pair.currentRoundTripTime !== undefined)?.currentRoundTripTime ?? null;

/**
 * What one m-line carried so far, as the debug overlay and a problem report
 * show it: ours from `outbound-rtp` (a simulcast camera's layers added up,
 * its size the largest layer's) with what the SFU reports of it
 * (`remote-inbound-rtp`), pulled ones from `inbound-rtp` with the
 * connection's round trip.
 */
export interface TrackCounters {
  mid: string;
  kind: 'audio' | 'video';
  direction: 'outbound' | 'inbound';
  /** Bytes sent or received so far. */
  bytes: number;
  /** Pulled: packets received and lost so far (for the loss between two readings). */
  packetsReceived: number;
  packetsLost: number;
  /** Ours: the share of packets the SFU last reported lost. */
  fractionLost: number | null;
  width: number | null;
  height: number | null;
  /** Seconds. */
  roundTripTime: number | null;
}

/** Every m-line's counters in one report. */
export function readTrackCounters(report: StatsLike): TrackCounters[] {
  const stats = statsOf(report);
  const pairRtt = pairRoundTrip(selectedPairs(stats).pairs);
  const remote = new Map(
    stats.filter((stat) => stat.type === 'remote-inbound-rtp' && stat.localId).map((s) => [s.localId!, s]),
  );
  const tracks = new Map<string, TrackCounters>();
  for (const stat of stats) {
    const direction =
      stat.type === 'outbound-rtp' ? 'outbound' : stat.type === 'inbound-rtp' ? 'inbound' : null;
    if (!direction || stat.mid === undefined || (stat.kind !== 'audio' && stat.kind !== 'video')) continue;
    const key = `${direction} ${stat.mid}`;
    const track = tracks.get(key) ?? {
      mid: stat.mid,
      kind: stat.kind,
      direction,
      bytes: 0,
      packetsReceived: 0,
      packetsLost: 0,
      fractionLost: null,
      width: null,
      height: null,
      roundTripTime: direction === 'inbound' ? pairRtt : null,
    };
    tracks.set(key, track);
    track.bytes += (direction === 'outbound' ? stat.bytesSent : stat.bytesReceived) ?? 0;
    track.packetsReceived += stat.packetsReceived ?? 0;
    track.packetsLost += stat.packetsLost ?? 0;
    if (stat.frameWidth !== undefined && stat.frameWidth > (track.width ?? -1)) {
      track.width = stat.frameWidth;
      track.height = stat.frameHeight ?? null;
    }
    // Of a camera's layers, the worst the SFU reports.
    const report = remote.get(stat.id);
    if (report?.fractionLost !== undefined)
      track.fractionLost = Math.max(track.fractionLost ?? 0, report.fractionLost);
    if (report?.roundTripTime !== undefined)
      track.roundTripTime = Math.max(track.roundTripTime ?? 0, report.roundTripTime);
  }
  return [...tracks.values()];
}

/** Fewer packets than this on a track in one interval say nothing reliable about its loss. */
const MIN_PACKETS = 5;

/**
 * One quality sample per participant (`ids`, you included) for the interval
 * between two readings. `sending(track)` says whether that track's owner
 * sends on it now (a microphone or camera that is on): one that brought
 * nothing makes its owner silent. `connectionSilent`: nothing at all arrived
 * while something should have (from `watchDelivery`), which is your silence.
 */
export function qualitySamples(
  previous: ConnectionSample,
  next: ConnectionSample,
  {
    ids,
    selfId,
    sending,
    connectionSilent,
  }: {
    ids: Iterable<string>;
    selfId: string;
    sending: (track: ReceivedCounters) => boolean;
    connectionSilent: boolean;
  },
): Map<string, QualitySample> {
  const rttMs = next.roundTripTime === null ? null : next.roundTripTime * 1_000;
  const before = new Map(previous.received.map((track) => [track.mid, track]));
  const samples = new Map<string, QualitySample>();
  for (const id of ids) {
    if (id === selfId) {
      samples.set(id, sentSample(next.sent, rttMs, connectionSilent));
      continue;
    }
    let loss: number | null = null;
    let jitterMs: number | null = null;
    let expected = false;
    let arrived = false;
    for (const track of next.received) {
      if (track.participantId !== id) continue;
      const old = before.get(track.mid);
      const received = track.packetsReceived - (old?.packetsReceived ?? 0);
      // Late packets lower the lost count again; a drop in it is no loss.
      const lost = Math.max(0, track.packetsLost - (old?.packetsLost ?? 0));
      if (received + lost >= MIN_PACKETS) loss = Math.max(loss ?? 0, lost / (received + lost));
      if (track.slot === 'microphone' && track.jitter !== null && received > 0)
        jitterMs = Math.max(jitterMs ?? 0, track.jitter * 1_000);
      if (sending(track)) {
        expected = true;
        if (track.bytesReceived > (old?.bytesReceived ?? 0)) arrived = true;
      }
    }
    samples.set(id, { loss, rttMs, jitterMs, silent: expected && !arrived });
  }
  return samples;
}

/** Yours: what the SFU reports of what you send; the worst of your tracks. */
function sentSample(sent: readonly SentReport[], pairRttMs: number | null, silent: boolean): QualitySample {
  const worst = (values: (number | null)[]) => {
    const known = values.filter((v): v is number => v !== null);
    return known.length ? Math.max(...known) : null;
  };
  const reportedRtt = worst(sent.map((report) => report.roundTripTime));
  const jitter = worst(sent.filter((report) => report.kind === 'audio').map((report) => report.jitter));
  return {
    loss: worst(sent.map((report) => report.fractionLost)),
    rttMs: reportedRtt === null ? pairRttMs : reportedRtt * 1_000,
    jitterMs: jitter === null ? null : jitter * 1_000,
    silent,
  };
}
