/**
 * Fault injection for the AI's reliability tests: make the stand-in answer
 * like an OpenAI that refuses the key, is overloaded, or does not answer at
 * all, for the next N requests (the local SFU's `faults.ts` does the same for
 * Calls).
 */
import * as z from 'zod/mini';

const count = z._default(z.number().check(z.int(), z.gte(0)), 0);

/** The requests a fault may be limited to. */
export const REALTIME_ROUTES = ['create-call', 'hangup', 'sideband'] as const;
export type RealtimeRoute = (typeof REALTIME_ROUTES)[number];

export const realtimeFaultSettings = z.object({
  /**
   * Only `create-call` (`POST /v1/realtime/calls`), `hangup`, or `sideband`
   * (the WebSocket upgrade); every route when left out.
   */
  route: z.optional(z.enum(REALTIME_ROUTES)),
  /** HTTP status of an injected failure: 401/403 a refused key, 429 a rate limit, 5xx the service. */
  status: z._default(
    z.union([z.literal(401), z.literal(403), z.literal(429), z.literal(500), z.literal(502), z.literal(503)]),
    503,
  ),
  /** Fail the next N requests with `status`, in OpenAI's error JSON, without doing what they ask. */
  failNext: count,
  /** Hold the next N requests without ever answering them, until the caller gives up. */
  hangNext: count,
});
export type RealtimeFaultSettings = z.infer<typeof realtimeFaultSettings>;
/** What `set` takes: any field left out is off. */
export type RealtimeFaultSettingsInput = z.input<typeof realtimeFaultSettings>;

/** What to do with one request: serve it, fail it with a status, or never answer. */
export type RealtimeFault = { fail: number } | 'hang' | null;

export class RealtimeFaults {
  #settings: RealtimeFaultSettings = realtimeFaultSettings.parse({});
  /** Faults injected so far, for tests to check that the fault really happened. */
  injected = 0;

  set(settings: RealtimeFaultSettingsInput): void {
    this.#settings = realtimeFaultSettings.parse(settings);
  }

  get settings(): RealtimeFaultSettings {
    return this.#settings;
  }

  /** The fault for this request, if any is left for its route (hangs first, then failures). */
  faultFor(route: RealtimeRoute): RealtimeFault {
    const { route: only, hangNext, failNext, status } = this.#settings;
    if (only && only !== route) return null;
    if (hangNext > 0) {
      this.#settings = { ...this.#settings, hangNext: hangNext - 1 };
      this.injected++;
      return 'hang';
    }
    if (failNext > 0) {
      this.#settings = { ...this.#settings, failNext: failNext - 1 };
      this.injected++;
      return { fail: status };
    }
    return null;
  }
}
