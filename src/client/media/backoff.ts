/**
 * Waits between attempts to rebuild media: growing exponentially with full
 * jitter (so a room whose Worker restarted is not hit by everyone at once),
 * back to the start after a success.
 */
export interface Backoff {
  /** The wait before the next attempt (ms). */
  next(): number;
  reset(): void;
}

export function createBackoff({
  initialMs = 500,
  maxMs = 15_000,
  random = Math.random,
}: { initialMs?: number; maxMs?: number; random?: () => number } = {}): Backoff {
  let attempt = 0;
  return {
    next() {
      const cap = Math.min(maxMs, initialMs * 2 ** attempt);
      attempt += 1;
      // At least half the cap: the first retry is never instant.
      return Math.round(cap / 2 + (random() * cap) / 2);
    },
    reset() {
      attempt = 0;
    },
  };
}
