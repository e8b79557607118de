/**
 * Fault injection for reliability tests: make the local SFU answer like a
 * struggling Cloudflare Calls (429, 503, slow responses), at a rate or for
 * the next N requests.
 */
import * as z from 'zod/mini';

export const faultSettings = z.object({
  /** HTTP status of an injected failure. */
  status: z._default(z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]), 503),
  /** Share of requests that fail, 0–1. */
  rate: z._default(z.number().check(z.gte(0), z.lte(1)), 0),
  /** Fail exactly the next N requests (before `rate` applies). */
  failNext: z._default(z.number().check(z.int(), z.gte(0)), 0),
  /** Added to every response, in milliseconds. */
  delayMs: z._default(z.number().check(z.gte(0), z.lte(30_000)), 0),
  /** Only requests whose path contains this (e.g. `/tracks/new`). */
  pathIncludes: z.optional(z.string()),
});
export type FaultSettings = z.infer<typeof faultSettings>;

export const noFaults: FaultSettings = { status: 503, rate: 0, failNext: 0, delayMs: 0 };

export class Faults {
  #settings: FaultSettings = noFaults;
  /** Failures injected so far, for tests to check that the fault really happened. */
  injected = 0;

  set(settings: FaultSettings): void {
    this.#settings = settings;
  }

  get settings(): FaultSettings {
    return this.#settings;
  }

  /** The status to fail this request with, or null to serve it. */
  failureFor(path: string, random = Math.random): number | null {
    const settings = this.#settings;
    if (settings.pathIncludes && !path.includes(settings.pathIncludes)) return null;
    if (settings.failNext > 0) {
      this.#settings = { ...settings, failNext: settings.failNext - 1 };
      this.injected++;
      return settings.status;
    }
    if (settings.rate > 0 && random() < settings.rate) {
      this.injected++;
      return settings.status;
    }
    return null;
  }

  delayFor(path: string): number {
    const settings = this.#settings;
    return !settings.pathIncludes || path.includes(settings.pathIncludes) ? settings.delayMs : 0;
  }
}
