/**
 * One `getStats()` report for several readers: the speaking sampler (ten
 * times a second) and the connection monitor (twice a second) read the same
 * connection, and a report costs the browser real work.
 */

/**
 * Reports younger than this are shared: just under the speaking sampler's
 * period (100 ms), so the connection monitor mostly reads the report the
 * speaking sampler asked for, and the speaking sampler never its own last one.
 */
const SHARED_FOR_MS = 90;
const latest = new WeakMap<RTCPeerConnection, { at: number; report: Promise<RTCStatsReport> }>();

/** `pc.getStats()`, shared by everyone who asks within 90 ms: one report serves several readers. */
export function sharedStats(pc: RTCPeerConnection, now = performance.now()): Promise<RTCStatsReport> {
  const cached = latest.get(pc);
  if (cached && now - cached.at < SHARED_FOR_MS) return cached.report;
  const report = pc.getStats();
  latest.set(pc, { at: now, report });
  return report;
}
