/** Bounded retries with exponential backoff and full jitter. */
export interface RetryPolicy {
  /** Requests one operation may send in all (the first, retries and reconciling GETs). */
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

/**
 * The requests one operation may still send. Every request after a failure
 * waits its backoff first, whether it repeats the step or reconciles it.
 */
export class RetryBudget {
  #sent = 0;
  #failures = 0;
  #retryAfterMs = 0;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly random: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  get left(): number {
    return this.policy.attempts - this.#sent;
  }

  /** Call before each request. */
  async spend(): Promise<void> {
    if (this.#failures > 0)
      await this.sleep(backoffDelay(this.policy, this.#failures, this.random, this.#retryAfterMs));
    this.#sent++;
  }

  failed(retryAfterMs: number): void {
    this.#failures++;
    this.#retryAfterMs = retryAfterMs;
  }
}
