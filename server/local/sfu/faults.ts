/**
 * Fault injection for reliability tests: make the local SFU answer like a
 * struggling Cloudflare Calls (429, 5xx, slow answers, answers lost after the
 * change was applied, partial failures), at a rate or for the next N requests.
 */
import * as z from 'zod/mini';

const count = z._default(z.number().check(z.int(), z.gte(0)), 0);

export const faultSettings = z.object({
  /** HTTP status of an injected failure. */
  status: z._default(z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]), 503),
  /** `errorCode` of an injected failure, e.g. `retryable_transient_error` or `internal_error`. */
  errorCode: z._default(z.string(), 'temporarily_unavailable_error'),
  /** Share of requests that fail, 0–1. */
  rate: z._default(z.number().check(z.gte(0), z.lte(1)), 0),
  /**
   * At most this many failures from `rate`, then Calls has recovered: a bad
   * spell, not a coin toss for ever (a test with a time limit then cannot lose
   * by a long streak of bad luck).
   */
  rateLimitedTo: z.optional(z.number().check(z.int(), z.gte(0))),
  /** Fail exactly the next N requests (before `rate` applies), without applying them. */
  failNext: count,
  /** Added before every request is handled, in milliseconds. */
  delayMs: z._default(z.number().check(z.gte(0), z.lte(30_000)), 0),
  /** Apply the next N requests, then close the connection without answering. */
  dropResponseNext: count,
  /** Answer the next N `tracks/new` batches with their items and a top-level `batchErrorCode`. */
  batchErrorNext: count,
  batchErrorCode: z._default(z.string(), 'internal_error'),
  /** In the next N `tracks/close` requests, the first mid fails with `close_track_error` and stays open. */
  failCloseItemNext: count,
  /** Only requests whose path contains this (e.g. `/tracks/new`, or a session id). */
  pathIncludes: z.optional(z.string()),
});
export type FaultSettings = z.infer<typeof faultSettings>;
/** What `set` takes: any field left out is off. */
export type FaultSettingsInput = z.input<typeof faultSettings>;

type Counter = 'failNext' | 'dropResponseNext' | 'batchErrorNext' | 'failCloseItemNext';

export class Faults {
  #settings: FaultSettings = faultSettings.parse({});
  /** Failures from `rate` since the last `set`. */
  #rateFailures = 0;
  /** Faults injected so far, for tests to check that the fault really happened. */
  injected = 0;

  set(settings: FaultSettingsInput): void {
    this.#settings = faultSettings.parse(settings);
    this.#rateFailures = 0;
  }

  get settings(): FaultSettings {
    return this.#settings;
  }

  /** The status and code to fail this request with, or null to serve it. */
  failureFor(path: string, random = Math.random): { status: number; errorCode: string } | null {
    if (!this.#matches(path)) return null;
    const { status, errorCode, rate } = this.#settings;
    if (this.#take('failNext', path)) return { status, errorCode };
    const { rateLimitedTo } = this.#settings;
    const rateLeft = rateLimitedTo === undefined || this.#rateFailures < rateLimitedTo;
    if (rate > 0 && rateLeft && random() < rate) {
      this.injected++;
      this.#rateFailures++;
      return { status, errorCode };
    }
    return null;
  }

  delayFor(path: string): number {
    return this.#matches(path) ? this.#settings.delayMs : 0;
  }

  /** True when this request's answer is to be dropped after it was applied. */
  dropsResponse(path: string): boolean {
    return this.#take('dropResponseNext', path);
  }

  /** The top-level code to add to this `tracks/new` answer, or null. */
  batchErrorFor(path: string): string | null {
    return this.#take('batchErrorNext', path) ? this.#settings.batchErrorCode : null;
  }

  /** True when one item of this `tracks/close` is to fail. */
  failsCloseItem(path: string): boolean {
    return this.#take('failCloseItemNext', path);
  }

  #matches(path: string): boolean {
    const only = this.#settings.pathIncludes;
    return !only || path.includes(only);
  }

  /** Uses one of the next-N faults of this kind, if any is left for this path. */
  #take(counter: Counter, path: string): boolean {
    if (this.#settings[counter] === 0 || !this.#matches(path)) return false;
    this.#settings = { ...this.#settings, [counter]: this.#settings[counter] - 1 };
    this.injected++;
    return true;
  }
}
