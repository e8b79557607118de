/**
 * Reads one session's connection statistics twice a second while it is
 * connected (`connection-stats.ts`), and says what they mean for delivery
 * (`delivery-watch.ts`). Twice, not once, a second: a media path that drops
 * must show as reconnecting within two seconds, and a reading only says that
 * nothing arrived since the reading before. The report is shared with the
 * speaking sampler when it reads at the same moment (`sharedStats`).
 */
import {
  readConnectionSample,
  sharedStats,
  type ConnectionSample,
  type ReceivedCounters,
} from './connection-stats.js';
import { watchDelivery, type DeliveryState } from './delivery-watch.js';
import type { PulledTrack } from './pull-plan.js';

export const MONITOR_INTERVAL_MS = 500;

export interface MonitorReading {
  sample: ConnectionSample;
  /** The reading before, on the same connection while it stayed up; null for the first. */
  previous: ConnectionSample | null;
  /** Nothing arrives while something should. */
  connectionSilent: boolean;
  /** Pulled refs that stopped delivering while their owner still sends: to pull again. */
  stalled: string[];
}

export interface MonitorOptions {
  /** What the session pulls now. */
  pulled: () => Iterable<PulledTrack>;
  /** Whether the owner of a pulled track sends on it now. */
  sending: (track: ReceivedCounters) => boolean;
  onReading: (reading: MonitorReading) => void;
  /** The peer connection's state changed (or the connection is no longer silent). */
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
    if (reading || pc.connectionState !== 'connected') {
      if (!reading) [previous, delivery] = [null, null];
      return;
    }
    reading = true;
    try {
      const sample = readConnectionSample(await sharedStats(pc), options.pulled(), Date.now());
      if (stopped) return;
      const verdict = watchDelivery(delivery, sample, options.sending);
      delivery = verdict.state;
      options.onReading({
        sample,
        previous,
        connectionSilent: verdict.connectionSilent,
        stalled: verdict.stalled,
      });
      previous = sample;
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
