/**
 * The Worker's client for OpenAI Realtime over WebRTC (GA; CALLS-API.md,
 * "OpenAI Realtime over WebRTC"). Runs in workerd and in Node: `fetch`,
 * `FormData` and `AbortSignal` only.
 * - `createCall` sends the SFU's offer with the session settings and returns
 *   OpenAI's answer and the call id (from `Location`);
 * - `hangup` ends the call; `sidebandUrl` / `sidebandRequest` name the
 *   server-side control WebSocket joined by call id.
 * Failures are thrown as an `OpenAiError` whose `kind` tells the caller what
 * to do next; retries happen here, and only where repeating is safe.
 */
import { defaultRetryPolicy, parseRetryAfter, RetryBudget, type RetryPolicy } from '../calls/retry.js';
import type { RealtimeSession } from './realtime-events.js';

export const OPENAI_API = 'https://api.openai.com/v1';
export const DEFAULT_REALTIME_MODEL = 'gpt-realtime';

/**
 * - `auth`: the key is missing, wrong or not allowed (401/403); never retried.
 * - `rate-limited`: 429 after the bounded retries; the same request may work later.
 * - `unavailable`: 5xx, a timeout or no answer, after the retries this
 *   request was allowed (see `maybeCreated`).
 * - `rejected`: final; repeating the same request gives the same answer
 *   (other 4xx, `insufficient_quota`, an answer that breaks the contract).
 */
export type OpenAiErrorKind = 'auth' | 'rate-limited' | 'unavailable' | 'rejected';

export class OpenAiError extends Error {
  override readonly name = 'OpenAiError';
  constructor(
    readonly kind: OpenAiErrorKind,
    /** HTTP status, or 0 when no answer came (timeout, network). */
    readonly status: number,
    /** OpenAI's `error.code` (else its `error.type`), or ours: `timeout`, `network_error`, `invalid_response`. */
    readonly code: string,
    message: string,
    /**
     * For `createCall`: OpenAI may have created a call whose answer was lost
     * (a 500/502/504 or no answer). It can never connect, since only we
     * hold the offer's other end: close or replace that Calls session
     * before trying again with a new offer.
     */
    readonly maybeCreated = false,
    /** How long OpenAI asked us to wait (`Retry-After`), 0 when it did not say. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

export interface RealtimeSessionOptions {
  model?: string | undefined;
  instructions?: string | undefined;
  voice?: string | undefined;
}

/**
 * The session Meetkit asks for: the model speaks (audio with its transcript)
 * and never detects turns itself, so it answers only when the room commits
 * the push-to-talk holder's turn and asks for a response.
 */
export function realtimeSession({
  model = DEFAULT_REALTIME_MODEL,
  instructions,
  voice,
}: RealtimeSessionOptions = {}): RealtimeSession {
  return {
    type: 'realtime',
    model,
    ...(instructions ? { instructions } : {}),
    audio: {
      input: { turn_detection: null },
      ...(voice ? { output: { voice } } : {}),
    },
  };
}

export interface OpenAiRealtimeOptions {
  apiKey: string;
  /** `https://api.openai.com/v1` (default), or the local stand-in's URL. */
  baseUrl?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Per request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface CreatedCall {
  callId: string;
  /** OpenAI's SDP answer to the offer. */
  sdp: string;
}

export interface OpenAiRealtimeClient {
  /**
   * Sends the offer and the session settings; resolves with OpenAI's answer.
   * Sent again after 429 and 503 only: in both OpenAI took no call (see the
   * comment at `createCallFailure`).
   */
  createCall(request: { sdp: string; session: RealtimeSession }): Promise<CreatedCall>;
  /**
   * Ends the call. Repeating a hangup is harmless, so it is sent again after
   * 429, 5xx and timeouts; a call OpenAI does not know (404: ended already,
   * maybe by a hangup whose answer was lost) resolves `'not-found'`.
   */
  hangup(callId: string): Promise<'ended' | 'not-found'>;
  /** `wss://…/realtime?call_id=…` (`ws://` for a local `http://` base). */
  sidebandUrl(callId: string): string;
  /**
   * What a Worker fetches to open the sideband: the `https://` form of the URL
   * with `Upgrade: websocket` and the key (then `response.webSocket.accept()`).
   */
  sidebandRequest(callId: string): { url: string; headers: Record<string, string> };
}

/** How one failed answer affects what happens next. */
type Failure = { retry: true } | { retry: false; kind: OpenAiErrorKind; maybeCreated?: boolean };

/** A 2xx answer, its body read in full. */
interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

interface FailedAnswer {
  status: number;
  code: string;
  message: string;
  retryAfterMs: number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createOpenAiRealtimeClient(options: OpenAiRealtimeOptions): OpenAiRealtimeClient {
  const base = (options.baseUrl ?? OPENAI_API).replace(/\/$/, '');
  const retryOptions = { ...defaultRetryPolicy, ...options.retry };
  const policy: RetryPolicy = { ...retryOptions, attempts: Math.max(1, retryOptions.attempts) };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  const callPath = (id: string) => `/realtime/calls/${encodeURIComponent(id)}`;

  /**
   * Sends one request until it succeeds, fails for good, or the budget is
   * spent. `classify` decides per failure; a fresh body is built per attempt
   * (a `FormData` body cannot be sent twice everywhere).
   */
  async function send(
    what: string,
    path: string,
    init: () => RequestInit,
    classify: (failed: FailedAnswer) => Failure,
  ): Promise<Answer> {
    const budget = new RetryBudget(policy, random, sleep);
    for (;;) {
      await budget.spend();
      const answer = await sendOnce(what, path, init());
      if (!('code' in answer)) return answer;
      const failure = classify(answer);
      budget.failed(answer.retryAfterMs);
      if (failure.retry && budget.left > 0) continue;
      const kind = failure.retry ? retriedKind(answer) : failure.kind;
      const maybeCreated = !failure.retry && failure.maybeCreated === true;
      throw new OpenAiError(
        kind,
        answer.status,
        answer.code,
        answer.message,
        maybeCreated,
        kind === 'rate-limited' ? answer.retryAfterMs : 0,
      );
    }
  }

  /** A 2xx answer, or what went wrong. */
  async function sendOnce(what: string, path: string, init: RequestInit): Promise<Answer | FailedAnswer> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        ...init,
        method: 'POST',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) {
        // Read the body under the same timeout: an answer cut off counts as no answer.
        return { status: response.status, headers: response.headers, body: await response.text() };
      }
    } catch (cause) {
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
      return {
        status: 0,
        code: timedOut ? 'timeout' : 'network_error',
        message: timedOut ? `${what}: no answer within ${timeoutMs} ms` : `${what}: ${String(cause)}`,
        retryAfterMs: 0,
      };
    }
    const error = await openAiErrorOf(response);
    return {
      status: response.status,
      code: error.code ?? error.type ?? `http_${response.status}`,
      message: `${what}: ${response.status} ${error.message ?? response.statusText}`.trim(),
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    };
  }

  return {
    async createCall({ sdp, session }) {
      const answer = await send(
        'OpenAI create call',
        '/realtime/calls',
        () => {
          const form = new FormData();
          form.set('sdp', sdp);
          form.set('session', JSON.stringify(session));
          return {
            headers: { authorization: `Bearer ${options.apiKey}`, accept: 'application/sdp' },
            body: form,
          };
        },
        createCallFailure,
      );
      const callId = callIdFrom(answer.headers.get('location'));
      if (!callId || !answer.body.startsWith('v=0'))
        throw new OpenAiError(
          'rejected',
          answer.status,
          'invalid_response',
          `OpenAI create call: ${answer.status} without ${callId ? 'an SDP answer' : 'a call id in Location'}`,
          true,
        );
      return { callId, sdp: answer.body };
    },

    async hangup(callId) {
      try {
        await send(
          'OpenAI hang up',
          `${callPath(callId)}/hangup`,
          () => ({ headers: { authorization: `Bearer ${options.apiKey}` } }),
          hangupFailure,
        );
        return 'ended';
      } catch (error) {
        if (error instanceof OpenAiError && error.status === 404) return 'not-found';
        throw error;
      }
    },

    sidebandUrl(callId) {
      const url = new URL(`${base}/realtime`);
      url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
      url.searchParams.set('call_id', callId);
      return url.toString();
    },

    sidebandRequest(callId) {
      const url = new URL(`${base}/realtime`);
      url.searchParams.set('call_id', callId);
      return {
        url: url.toString(),
        headers: { authorization: `Bearer ${options.apiKey}`, upgrade: 'websocket' },
      };
    },
  };
}

/**
 * Whether a failed `POST /realtime/calls` may be sent again with the same offer:
 * - 429 (not `insufficient_quota`): the rate limiter refused it before any work;
 * - 503: the service refused to take it (RFC 9110: unable to handle the request).
 * Neither created a call. A 500/502/504, a timeout or a broken connection
 * may have created one whose answer we never saw: sending the offer again
 * could leave OpenAI holding two calls for one transceiver, so those are
 * thrown with `maybeCreated`; the caller starts over with a new Calls session
 * and offer, which also makes sure the lost call never connects.
 */
function createCallFailure(failed: FailedAnswer): Failure {
  const common = commonFailure(failed);
  if (common) return common;
  if (failed.status === 429 || failed.status === 503) return { retry: true };
  return { retry: false, kind: 'unavailable', maybeCreated: true };
}

/** Hanging up twice changes nothing: any transient failure is worth another try. */
function hangupFailure(failed: FailedAnswer): Failure {
  return commonFailure(failed) ?? { retry: true };
}

/** Final answers, the same for every request. */
function commonFailure({ status, code }: FailedAnswer): Failure | null {
  if (status === 401 || status === 403) return { retry: false, kind: 'auth' };
  // A 429 for an account without credit will not pass by waiting.
  if (status === 429 && code === 'insufficient_quota') return { retry: false, kind: 'rejected' };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429)
    return { retry: false, kind: 'rejected' };
  return null;
}

/** What a retried failure is called once the retries are spent. */
function retriedKind({ status }: FailedAnswer): OpenAiErrorKind {
  return status === 429 ? 'rate-limited' : 'unavailable';
}

/** OpenAI's `{error: {message, type, code}}`, or what could be read of it. */
async function openAiErrorOf(
  response: Response,
): Promise<{ message?: string | undefined; type?: string | undefined; code?: string | undefined }> {
  let json: unknown;
  try {
    json = JSON.parse(await response.text()) as unknown;
  } catch {
    return {};
  }
  const error = (json as { error?: unknown } | null)?.error;
  if (typeof error !== 'object' || error === null) return {};
  const field = (name: string) => {
    const value = (error as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return { message: field('message'), type: field('type'), code: field('code') };
}

/** The call id from `Location: /v1/realtime/calls/rtc_…` (absolute or relative). */
export function callIdFrom(location: string | null): string | null {
  if (!location) return null;
  const path = new URL(location, 'https://openai.invalid').pathname;
  const match = /\/realtime\/calls\/([^/]+)\/?$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}
