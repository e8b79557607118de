/**
 * Reads one session's connection statistics twice a second while it is
 * connected (`connection-stats.ts`), and says what they mean for delivery
 * (`delivery-watch.ts`) and for each participant's quality (`quality.ts`
 * smooths the samples). Twice, not once, a second: a media path that drops
 * must show as reconnecting within two seconds, and a reading only says that
 * nothing arrived since the reading before. The report is shared with the
 * speaking sampler when it reads at the same moment (`shared-stats.ts`).
 * The call loads this module when it has a connection to watch: the lobby
 * does without it.
 */
import type { QualitySample } from '../quality.js';
import {
  qualitySamples,
  readConnectionSample,
  type ConnectionSample,
  type ReceivedCounters,
} from './connection-stats.js';
import { watchDelivery, type DeliveryState } from './delivery-watch.js';
import type { PulledTrack } from './pull-plan.js';
import { sharedStats } from './shared-stats.js';

export const MONITOR_INTERVAL_MS = 500;

export interface MonitorReading {
  /** When it was read (`Date.now()`). */
  at: number;
  /** Nothing arrives while something should. */
  connectionSilent: boolean;
  /** Pulled refs that stopped delivering while their owner still sends: to pull again. */
  stalled: string[];
  /** One sample per participant since the reading before; null for the first reading. */
  samples: Map<string, QualitySample> | null;
}

export interface MonitorOptions {
  /** Whether to read now (in the meeting); readings start afresh when it is again. */
  active: () => boolean;
  /** What the session pulls now. */
  pulled: () => Iterable<PulledTrack>;
  /** Whether the owner of a pulled track sends on it now. */
  sending: (track: Pick<ReceivedCounters, 'participantId' | 'slot'>) => boolean;
  /** Everyone in the meeting now (you included), and you: whom the quality samples are for. */
  participants: () => { ids: string[]; selfId: string };
  onReading: (reading: MonitorReading) => void;
  /** The peer connection's state changed. */
  onChange: () => void;
  intervalMs?: number;
}

/** Starts watching; the function returned stops it. */
export function monitorConnection(pc: RTCPeerConnection, options: MonitorOptions): () => void {
  let previous: ConnectionSample | null = null;
  let delivery: DeliveryState | null = null;
  let reading = false;
  let stopped = false;

  const read = async () => {
    // A connection that is not up has nothing to measure; the clocks start again once it is.
    if (reading || pc.connectionState !== 'connected' || !options.active()) {
      if (!reading) [previous, delivery] = [null, null];
      return;
    }
    reading = true;
    try {
      const sample = readConnectionSample(await sharedStats(pc), options.pulled(), Date.now());
      if (stopped) return;
      const verdict = watchDelivery(delivery, sample, options.sending);
      delivery = verdict.state;
      const { connectionSilent, stalled } = verdict;
      const samples =
        previous &&
        qualitySamples(previous, sample, {
          ...options.participants(),
          sending: options.sending,
          connectionSilent,
        });
      previous = sample;
      options.onReading({ at: sample.at, connectionSilent, stalled, samples });
    } catch {
      // A closed connection has no statistics: the session is being replaced.
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void read(), options.intervalMs ?? MONITOR_INTERVAL_MS);
  pc.addEventListener('connectionstatechange', options.onChange);
  return () => {
    stopped = true;
    clearInterval(timer);
    pc.removeEventListener('connectionstatechange', options.onChange);
  };
}
