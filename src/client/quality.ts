/**
 * Connection quality, as a level a person can read: `good`, `fair`, `poor`,
 * or `lost` when nothing arrives. Pure: the call samples its statistics
 * (`media/connection-stats.ts`) and this turns each participant's samples
 * into a level, smoothed over a few seconds and with hysteresis, so a tile
 * does not flap between two levels on a borderline link.
 *
 * The thresholds, and where they come from:
 * - Packet loss, for a participant's worst track. LiveKit's scorer
 *   (livekit-server `pkg/sfu/connectionquality`, an E-model simplification)
 *   drops Opus with in-band FEC (Chrome's default; our SFU offers it) one
 *   level at 3.75% loss and to POOR at 11.25%, video at 2% and 6%. One figure
 *   for both kinds here: 3% is `fair`, 10% is `poor`.
 * - Round-trip time. ITU-T G.114: up to 150 ms one way is fine for most
 *   conversation, beyond 400 ms it is not. A 300 ms round trip already spends
 *   the 150 ms one way on the network alone (`fair`); 800 ms is 400 ms one
 *   way (`poor`). LiveKit is laxer (its delay penalty starts at 160 ms of
 *   effective one-way delay); a visible hint earlier helps people wait for
 *   each other.
 * - Jitter, of audio only (video's interarrival jitter also measures how a
 *   frame's packets are paced). The jitter buffer absorbs it by adding delay;
 *   LiveKit counts jitter twice into the effective delay, so with a typical
 *   100 ms round trip, 50 ms of jitter reaches its 160 ms knee (`fair`), and
 *   150 ms adds 300 ms of buffering, past G.114's budget (`poor`).
 * - Smoothing: LiveKit scores 5 s windows, Daily averages its network state
 *   over about 30 s (too slow for a tile). Here each measure is the mean over
 *   the last 5 s. A worse level is taken as soon as the mean crosses its
 *   threshold; a better one only once every measure is under 60% of the
 *   threshold it crossed (hysteresis).
 * - `lost`: something should arrive (a microphone or camera that is on) and
 *   nothing has for 2 s.
 */
import { distinctUntilChanged, map, scan, type Observable } from 'rxjs';

export type Quality = 'good' | 'fair' | 'poor' | 'lost';

/** What one sample says of one participant's media over the time since the sample before. */
export interface QualitySample {
  /** Share of packets lost (0–1) on their worst track; null when nothing was sent or measured. */
  loss: number | null;
  /** Round-trip time in ms; null when not measured. */
  rttMs: number | null;
  /** Interarrival jitter of their audio in ms; null when none. */
  jitterMs: number | null;
  /** Something should have arrived and nothing did. */
  silent: boolean;
}

export interface QualityOptions {
  /** Each measure is averaged over this long (ms). Default 5000. */
  windowMs?: number;
  /** Silent this long (ms) is `lost`. Default 2000. */
  lostAfterMs?: number;
  /** A better level needs every measure under this share of its threshold. Default 0.6. */
  recoverShare?: number;
}

type Measure = 'loss' | 'rttMs' | 'jitterMs';

/** Where `fair` and `poor` start, per measure (see the comment at the top). */
export const QUALITY_THRESHOLDS: Readonly<Record<Measure, { fair: number; poor: number }>> = {
  loss: { fair: 0.03, poor: 0.1 },
  rttMs: { fair: 300, poor: 800 },
  jitterMs: { fair: 50, poor: 150 },
};

export interface QualityState {
  level: Quality;
  /** The samples of the window that carried media, oldest first. */
  recent: readonly { at: number; sample: QualitySample }[];
  /** Since when nothing arrived (the time of the last sample before the silence); null while media arrives. */
  silentSince: number | null;
  /** When the last sample was taken; null before the first. */
  lastAt: number | null;
}

export const initialQuality: QualityState = { level: 'good', recent: [], silentSince: null, lastAt: null };

const RANK: Record<Quality, number> = { good: 0, fair: 1, poor: 2, lost: 3 };
const MEASURES: readonly Measure[] = ['loss', 'rttMs', 'jitterMs'];

/** Pure: the quality after one more sample, taken at `now` (ms). */
export function nextQuality(
  state: QualityState,
  sample: QualitySample,
  now: number,
  { windowMs = 5_000, lostAfterMs = 2_000, recoverShare = 0.6 }: QualityOptions = {},
): QualityState {
  const kept = state.recent.filter((entry) => now - entry.at < windowMs);
  if (sample.silent) {
    const silentSince = state.silentSince ?? state.lastAt ?? now;
    const lost = now - silentSince >= lostAfterMs;
    // Lost: what came before no longer says anything about what comes back.
    return { level: lost ? 'lost' : state.level, recent: lost ? [] : kept, silentSince, lastAt: now };
  }
  // The first sample after a silence counts the packets of the whole silence as lost: that was told already.
  const counted = state.silentSince === null ? sample : { ...sample, loss: null };
  const recent = [...kept, { at: now, sample: counted }];
  const means = meanMeasures(recent.map((entry) => entry.sample));
  const worse = levelOf(means, 1);
  const better = levelOf(means, recoverShare);
  let level = state.level;
  if (RANK[worse] > RANK[level]) level = worse;
  else if (RANK[better] < RANK[level]) level = better;
  return { level, recent, silentSince: null, lastAt: now };
}

/** Each measure's mean over the samples that have it; null when none has. */
function meanMeasures(samples: readonly QualitySample[]): Record<Measure, number | null> {
  const means = { loss: null, rttMs: null, jitterMs: null } as Record<Measure, number | null>;
  for (const measure of MEASURES) {
    const values = samples.map((s) => s[measure]).filter((v): v is number => v !== null);
    if (values.length > 0) means[measure] = values.reduce((a, b) => a + b, 0) / values.length;
  }
  return means;
}

/** The worst level any measure reaches, with every threshold scaled by `share`. */
function levelOf(means: Record<Measure, number | null>, share: number): Quality {
  let level: Quality = 'good';
  for (const measure of MEASURES) {
    const value = means[measure];
    if (value === null) continue;
    const { fair, poor } = QUALITY_THRESHOLDS[measure];
    if (value >= poor * share) return 'poor';
    if (value >= fair * share) level = 'fair';
  }
  return level;
}

/**
 * Each participant's level, from readings of everyone's samples: a map
 * that changes (a new object) only when someone's level does. Someone not
 * in the latest reading (they left) is gone from it.
 */
export function qualityLevels(
  readings: Observable<{ at: number; samples: ReadonlyMap<string, QualitySample> }>,
  options?: QualityOptions,
): Observable<ReadonlyMap<string, Quality>> {
  type Acc = { states: Map<string, QualityState>; levels: ReadonlyMap<string, Quality> };
  return readings.pipe(
    scan<{ at: number; samples: ReadonlyMap<string, QualitySample> }, Acc>(
      ({ states, levels }, { at, samples }) => {
        const next = new Map<string, QualityState>();
        for (const [id, sample] of samples)
          next.set(id, nextQuality(states.get(id) ?? initialQuality, sample, at, options));
        const changed =
          next.size !== levels.size || [...next].some(([id, state]) => levels.get(id) !== state.level);
        return {
          states: next,
          levels: changed ? new Map([...next].map(([id, state]) => [id, state.level])) : levels,
        };
      },
      { states: new Map(), levels: new Map() },
    ),
    map(({ levels }) => levels),
    distinctUntilChanged(),
  );
}
