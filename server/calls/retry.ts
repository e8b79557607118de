/** Bounded retries with exponential backoff and full jitter. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * How long to wait before retry number `retry` (1 = the first retry): a random
 * share of an exponentially growing cap, so many clients that failed together
 * do not come back together. A server's `Retry-After` wins when it is longer.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
  retryAfterMs = 0,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.max(Math.round(random() * cap), Math.min(retryAfterMs, policy.maxDelayMs));
}

/** `Retry-After` in seconds or as a date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}
