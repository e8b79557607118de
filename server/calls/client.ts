/**
 * A typed client for the Cloudflare Calls (Realtime SFU) HTTP API. Runs in
 * the Worker (and in Node for tests). Every response is parsed with the
 * schemas in `schema.ts`; busy or failing service answers are retried with
 * backoff; a pull of a track that is not published yet is retried until it
 * appears or a deadline passes.
 */
import * as z from 'zod/mini';
import { CallsError } from './errors.js';
import { backoffDelay, defaultRetryPolicy, parseRetryAfter, type RetryPolicy } from './retry.js';
import {
  closeTracksResponse,
  newSessionResponse,
  renegotiateResponse,
  RETRYABLE_ERROR_CODES,
  sessionStateResponse,
  tracksResponse,
  type SessionDescription,
  type SessionState,
  type TrackObject,
  type TracksResponse,
} from './schema.js';

export const CLOUDFLARE_CALLS_API = 'https://rtc.live.cloudflare.com/v1';

export interface CallsClientOptions {
  appId: string;
  appSecret: string;
  /** `https://rtc.live.cloudflare.com/v1` (default) or the local SFU's URL. */
  baseUrl?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Per attempt. */
  timeoutMs?: number;
  /** How long a pull waits for a publisher's track to appear. */
  pullDeadlineMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface PublishedTrackResult {
  mid: string;
  trackName: string;
}

export interface PullResult {
  /** Present when at least one track was added: answer it with `renegotiate`. */
  offer: SessionDescription | null;
  tracks: {
    sessionId: string;
    trackName: string;
    mid?: string;
    errorCode?: string;
    errorDescription?: string;
  }[];
}

export interface CallsClient {
  newSession(options?: { thirdparty?: boolean; correlationId?: string }): Promise<string>;
  publish(
    sessionId: string,
    offer: SessionDescription,
    tracks: { mid: string; trackName: string }[],
  ): Promise<{ answer: SessionDescription; tracks: TrackObject[] }>;
  pull(sessionId: string, tracks: { sessionId: string; trackName: string }[]): Promise<PullResult>;
  renegotiate(sessionId: string, answer: SessionDescription): Promise<void>;
  closeTracks(
    sessionId: string,
    mids: string[],
    options?: { offer?: SessionDescription; force?: boolean },
  ): Promise<{ answer: SessionDescription | null; tracks: TrackObject[] }>;
  updateTracks(sessionId: string, tracks: TrackObject[]): Promise<void>;
  getSession(sessionId: string): Promise<SessionState>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createCallsClient(options: CallsClientOptions): CallsClient {
  const base = `${(options.baseUrl ?? CLOUDFLARE_CALLS_API).replace(/\/$/, '')}/apps/${encodeURIComponent(options.appId)}`;
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pullDeadlineMs = options.pullDeadlineMs ?? 5_000;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;

  async function request<T>(
    method: string,
    path: string,
    schema: z.ZodMiniType<T>,
    body?: unknown,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await attemptOnce(method, path, schema, body);
      if (outcome.ok) return outcome.value;
      const { error, retryAfterMs } = outcome;
      if (!error.retryable || attempt >= policy.attempts) throw error;
      await sleep(backoffDelay(policy, attempt, random, retryAfterMs));
    }
  }

  async function attemptOnce<T>(
    method: string,
    path: string,
    schema: z.ZodMiniType<T>,
    body: unknown,
  ): Promise<{ ok: true; value: T } | { ok: false; error: CallsError; retryAfterMs: number }> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.appSecret}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
      return {
        ok: false,
        retryAfterMs: 0,
        error: new CallsError(
          0,
          timedOut ? 'timeout' : 'network_error',
          timedOut
            ? `Calls did not answer ${method} ${path} within ${timeoutMs} ms`
            : `Calls is unreachable: ${String(cause)}`,
          true,
        ),
      };
    }
    const json: unknown = await response.json().catch(() => undefined);
    const errorFields = z.object({
      errorCode: z.optional(z.string()),
      errorDescription: z.optional(z.string()),
    });
    const described = errorFields.safeParse(json);
    const errorCode = described.success ? described.data.errorCode : undefined;
    if (!response.ok || errorCode) {
      const retryable =
        response.status === 429 || response.status >= 500 || RETRYABLE_ERROR_CODES.has(errorCode ?? '');
      const description = (described.success && described.data.errorDescription) || response.statusText;
      return {
        ok: false,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        error: new CallsError(
          response.status,
          errorCode ?? `http_${response.status}`,
          `Calls ${method} ${path}: ${response.status} ${errorCode ?? ''} ${description}`
            .replace(/\s+/g, ' ')
            .trim(),
          retryable,
        ),
      };
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      return {
        ok: false,
        retryAfterMs: 0,
        error: new CallsError(
          response.status,
          'invalid_response',
          `Calls ${method} ${path} answered an unexpected body`,
          false,
        ),
      };
    }
    return { ok: true, value: parsed.data };
  }

  const sessionPath = (id: string) => `/sessions/${encodeURIComponent(id)}`;

  return {
    async newSession({ thirdparty = false, correlationId } = {}) {
      const query = new URLSearchParams();
      if (thirdparty) query.set('thirdparty', 'true');
      if (correlationId) query.set('correlationId', correlationId);
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      const { sessionId } = await request('POST', `/sessions/new${suffix}`, newSessionResponse);
      return sessionId;
    },

    async publish(sessionId, offer, tracks) {
      const response = await request('POST', `${sessionPath(sessionId)}/tracks/new`, tracksResponse, {
        sessionDescription: offer,
        tracks: tracks.map((t) => ({ location: 'local', mid: t.mid, trackName: t.trackName })),
      });
      if (response.sessionDescription?.type !== 'answer')
        throw new CallsError(200, 'invalid_response', 'Calls did not answer the offer', false);
      return { answer: response.sessionDescription, tracks: response.tracks ?? [] };
    },

    async pull(sessionId, tracks) {
      const deadline = Date.now() + pullDeadlineMs;
      for (let retry = 1; ; retry++) {
        const response: TracksResponse = await request(
          'POST',
          `${sessionPath(sessionId)}/tracks/new`,
          tracksResponse,
          {
            tracks: tracks.map((t) => ({
              location: 'remote',
              sessionId: t.sessionId,
              trackName: t.trackName,
            })),
          },
        );
        const items = (response.tracks ?? []).map((t, i) => ({
          sessionId: t.sessionId ?? tracks[i]!.sessionId,
          trackName: t.trackName ?? tracks[i]!.trackName,
          ...(t.mid ? { mid: t.mid } : {}),
          ...(t.errorCode ? { errorCode: t.errorCode, errorDescription: t.errorDescription ?? '' } : {}),
        }));
        const offer = response.sessionDescription?.type === 'offer' ? response.sessionDescription : null;
        // Only when nothing was added can we simply ask again: otherwise an
        // offer waits for its answer, and the caller pulls the rest after.
        const allMissing =
          !offer && items.length > 0 && items.every((t) => t.errorCode === 'not_found_track_error');
        if (!allMissing || Date.now() >= deadline) return { offer, tracks: items };
        await sleep(Math.min(backoffDelay(policy, retry, random), Math.max(0, deadline - Date.now())));
      }
    },

    async renegotiate(sessionId, answer) {
      await request('PUT', `${sessionPath(sessionId)}/renegotiate`, renegotiateResponse, {
        sessionDescription: answer,
      });
    },

    async closeTracks(sessionId, mids, { offer, force = !offer } = {}) {
      const response = await request('PUT', `${sessionPath(sessionId)}/tracks/close`, closeTracksResponse, {
        tracks: mids.map((mid) => ({ mid })),
        force,
        ...(offer ? { sessionDescription: offer } : {}),
      });
      return { answer: response.sessionDescription ?? null, tracks: response.tracks ?? [] };
    },

    async updateTracks(sessionId, tracks) {
      await request('PUT', `${sessionPath(sessionId)}/tracks/update`, renegotiateResponse, { tracks });
    },

    getSession(sessionId) {
      return request('GET', sessionPath(sessionId), sessionStateResponse);
    },
  };
}
