/**
 * The browser's side of the room media API (`src/protocol/media.ts`): JSON
 * over `fetch`, never with cookies, every answer parsed with its schema
 * (`api-request.ts`).
 * Nothing is retried here: the Worker already retries Calls where that is
 * safe, and the call client rebuilds its session when a step fails.
 */
import type * as z from 'zod/mini';
import { media } from '../protocol/index.js';
import { postWithKey, type ApiCredentials } from './api-request.js';

/** A media API request that failed, with a message a person can read. */
export class MediaApiError extends Error {
  override readonly name = 'MediaApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** How long the server asked to wait before trying again (`Retry-After`), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /**
   * What to do about it (`media.ts` has what each code means): `stop` when
   * asking again cannot help, `wait-for-room` while the room connection is
   * not there (or not joined), `retry` when nothing was done (the same step
   * again later, on the same session), `rebuild` for anything else: this
   * session is not to be trusted, so a new one is built after a pause.
   */
  get recovery(): 'stop' | 'wait-for-room' | 'retry' | 'rebuild' {
    if (STOP_CODES.has(this.code)) return 'stop';
    if (WAIT_FOR_ROOM_CODES.has(this.code)) return 'wait-for-room';
    if (RETRY_CODES.has(this.code)) return 'retry';
    return 'rebuild';
  }
}

/** Nothing was done: the same step may work in a moment, on the same session. */
const RETRY_CODES = new Set(['media-busy', 'media-rate-limited']);

const STOP_CODES = new Set(['media-unavailable', 'invalid-request', 'too-large']);
const WAIT_FOR_ROOM_CODES = new Set(['unauthorized', 'not-joined', 'not-your-session', 'not-connected']);

export type MediaApiCredentials = ApiCredentials;

export interface MediaApi {
  session(): Promise<z.infer<typeof media.sessionResponse>>;
  publish(body: z.infer<typeof media.publishRequest>): Promise<z.infer<typeof media.publishResponse>>;
  pull(body: z.infer<typeof media.pullRequest>): Promise<z.infer<typeof media.pullResponse>>;
  /** Switches pulled simulcast tracks to other layers. */
  layers(body: z.infer<typeof media.layersRequest>): Promise<z.infer<typeof media.layersResponse>>;
  renegotiate(body: z.infer<typeof media.renegotiateRequest>): Promise<void>;
  close(body: z.infer<typeof media.closeRequest>): Promise<z.infer<typeof media.closeResponse>>;
  /** Resolves when Calls still has the session; `media-session-gone` otherwise. */
  check(body: z.infer<typeof media.checkRequest>): Promise<void>;
}

export function createMediaApi(
  server: string,
  room: string,
  credentials: () => MediaApiCredentials | null,
): MediaApi {
  const base = new URL(`/api/rooms/${encodeURIComponent(room)}/media/`, server);

  const call = <T>(operation: media.MediaOperation, schema: z.ZodMiniType<T>, body: unknown = {}) =>
    postWithKey(new URL(operation, base), credentials(), body, schema, MediaApiError);

  return {
    session: () => call('session', media.sessionResponse),
    publish: (body) => call('publish', media.publishResponse, body),
    pull: (body) => call('pull', media.pullResponse, body),
    layers: (body) => call('layers', media.layersResponse, body),
    renegotiate: async (body) => void (await call('renegotiate', media.emptyResponse, body)),
    close: (body) => call('close', media.closeResponse, body),
    check: async (body) => void (await call('check', media.emptyResponse, body)),
  };
}
