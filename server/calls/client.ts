/**
 * A typed client for the Cloudflare Calls (Realtime SFU) HTTP API. Runs in
 * the Worker (and in Node for tests) and is the one layer that retries Calls
 * requests, following CALLS-API.md ("Retrying"):
 * - any request is sent again after 429 or `retryable_transient_error`
 *   (documented as not processed); a GET also after a timeout, a network
 *   error, 5xx, `internal_error` or `backend_error`;
 * - a mutation that ends that way is never repeated blindly: the client reads
 *   the session (`GET /sessions/{id}`) and decides from what it shows, and
 *   never replays an offer or an answer nor asks for a second session;
 * - final answers are thrown at once as a `CallsError` whose `kind` tells the
 *   caller what to do next.
 * One operation sends at most `retry.attempts` requests in all, reconciling
 * GETs included. Every response is parsed with the schemas in `schema.ts`.
 */
import * as z from 'zod/mini';
import { CallsError, classifyAnswer, type CallsErrorKind, type Failure } from './errors.js';
import { defaultRetryPolicy, parseRetryAfter, RetryBudget, type RetryPolicy } from './retry.js';
import {
  closeTracksResponse,
  newSessionResponse,
  renegotiateResponse,
  sessionStateResponse,
  tracksBatchResponse,
  tracksResponse,
  updateTracksResponse,
  type SessionDescription,
  type SessionState,
  type TrackObject,
  type TracksRequest,
} from './schema.js';

export const CLOUDFLARE_CALLS_API = 'https://rtc.live.cloudflare.com/v1';

export interface CallsClientOptions {
  appId: string;
  appSecret: string;
  /** `https://rtc.live.cloudflare.com/v1` (default) or the local SFU's URL. */
  baseUrl?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** Per request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A per-item failure, as Calls reports it inside a 200 batch. */
export interface ItemError {
  errorCode?: string;
  errorDescription?: string;
}

/**
 * A top-level `errorCode` that came with items that did succeed: the items
 * were applied and are returned; the code is reported here.
 */
export interface TopLevelError {
  errorCode?: string;
  errorDescription?: string;
}

export interface PublishResult extends TopLevelError {
  answer: SessionDescription;
  /** One per requested track, in order; failed ones carry `errorCode`. */
  tracks: ({ mid: string; trackName: string } & ItemError)[];
}

export interface PullResult extends TopLevelError {
  /** Present when at least one track was added: answer it with `renegotiate`. */
  offer: SessionDescription | null;
  /**
   * One per requested track, in order. A track not published yet has
   * `errorCode: 'not_found_track_error'`: ask again later, it is not awaited.
   */
  tracks: ({ sessionId: string; trackName: string; mid?: string } & ItemError)[];
}

/** A local track for the SFU to offer: a server peer such as the AI model has no offer to give. */
export interface LocalTrackRequest {
  trackName: string;
  kind: 'audio' | 'video';
  /** The SFU sends on the m-line too: what `pullInto` forwards into this track goes there. */
  bidirectionalMediaStream?: boolean;
}

export interface OfferLocalResult extends TopLevelError {
  /** The SFU's offer for the tracks it added: answer it with `renegotiate`. Null when none was added. */
  offer: SessionDescription | null;
  /**
   * One per requested track, in order, with the mid of its m-line in the
   * offer; failed ones carry `errorCode` (`invalid_params` for a name in use).
   */
  tracks: ({ trackName: string; mid?: string } & ItemError)[];
}

export interface PullIntoResult extends TopLevelError {
  /**
   * The pull, with the local track's mid once it forwards. `errorCode`
   * `not_found_track_error`: the source is not publishing (yet), ask again
   * later; `invalid_params`: the local track is not a bidirectional track of
   * this session, or carries another kind.
   */
  track: { sessionId: string; trackName: string; mid?: string } & ItemError;
}

export interface CloseResult extends TopLevelError {
  /** Calls' answer to the offer given to `closeTracks`; null for a forced close. */
  answer: SessionDescription | null;
  /**
   * One per requested mid. `closed: false` means the track is still open
   * (`errorCode` says why): close it again later.
   */
  tracks: ({ mid: string; closed: boolean } & ItemError)[];
}

export interface UpdateResult extends TopLevelError {
  requiresImmediateRenegotiation: boolean;
  /** As Calls returned them; failed ones carry `errorCode: 'update_track_error'`. */
  tracks: TrackObject[];
}

export interface CallsClient {
  /** Not retried when the outcome is unknown (`uncertain`): a retry could leave an orphan session. */
  newSession(options?: { thirdparty?: boolean; correlationId?: string }): Promise<string>;
  /** `tracks/new` with the browser's offer. */
  publish(
    sessionId: string,
    offer: SessionDescription,
    tracks: { mid: string; trackName: string }[],
  ): Promise<PublishResult>;
  /** `tracks/new` with remote tracks; Calls makes the offer. */
  pull(
    sessionId: string,
    tracks: { sessionId: string; trackName: string; simulcast?: { preferredRid: string } }[],
  ): Promise<PullResult>;
  /**
   * `tracks/new` with local tracks and no offer: Calls makes the offer (for a
   * `thirdparty` session, e.g. the AI model's); answer it with `renegotiate`.
   * Never sent again once its outcome is unknown. `uncertain` means the
   * session may hold an offer nobody can answer: start over with a new session.
   */
  offerLocalTracks(sessionId: string, tracks: LocalTrackRequest[]): Promise<OfferLocalResult>;
  /**
   * `tracks/new` with a remote track and `mid: "#<localTrackName>"`: the
   * source goes out on that local track's m-line in place of what went there
   * before, with no negotiation. Idempotent: sent again (after reconciling)
   * when its outcome is unknown.
   */
  pullInto(
    sessionId: string,
    source: { sessionId: string; trackName: string },
    localTrackName: string,
  ): Promise<PullIntoResult>;
  renegotiate(sessionId: string, answer: SessionDescription): Promise<void>;
  /** With the browser's offer (its m-lines stopped) Calls answers it; without, the close is forced. */
  closeTracks(
    sessionId: string,
    mids: string[],
    options?: { offer?: SessionDescription },
  ): Promise<CloseResult>;
  /** Idempotent: sent again (after reconciling) when its outcome is unknown. */
  updateTracks(sessionId: string, tracks: TrackObject[]): Promise<UpdateResult>;
  getSession(sessionId: string): Promise<SessionState>;
}

type Answer<T> =
  | ({ ok: true; status: number; value: T } & TopLevelError)
  | { ok: false; cause: FailedAnswer };

interface FailedAnswer {
  status: number;
  code: string;
  message: string;
  failure: Failure;
  retryAfterMs: number;
}

const errorFields = z.object({
  errorCode: z.optional(z.string()),
  errorDescription: z.optional(z.string()),
});
const batchItems = z.object({ tracks: z.array(errorFields) });

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const itemError = (item: ItemError | undefined): ItemError =>
  item?.errorCode
    ? {
        errorCode: item.errorCode,
        ...(item.errorDescription ? { errorDescription: item.errorDescription } : {}),
      }
    : {};

const topLevel = (answer: TopLevelError): TopLevelError => itemError(answer);

/** What Calls says of one requested track: its mid once added, or its error. */
interface TrackOutcome extends ItemError {
  mid?: string;
}

/** A requested track's result: its mid when Calls added it, else Calls' item error (or a missing item). */
function trackResult<T extends { trackName: string }>(
  requested: T,
  item: TrackOutcome | undefined,
): T & TrackOutcome {
  if (!item) return { ...requested, errorCode: 'invalid_response' };
  return { ...requested, ...(item.mid && !item.errorCode ? { mid: item.mid } : {}), ...itemError(item) };
}

const errorOf = (cause: FailedAnswer, kind: CallsErrorKind, message = cause.message) =>
  new CallsError(cause.status, cause.code, message, kind, kind === 'busy' ? cause.retryAfterMs : 0);

/**
 * A negotiation that Calls answered with an error (not a timeout, which may
 * still be running) and that reconciling showed was not applied: Calls never
 * took that offer, so it may go again, while the budget lasts.
 */
const mayRepeat = (cause: FailedAnswer, budget: RetryBudget) => cause.status !== 0 && budget.left > 0;

/**
 * After a mutation failed and GET was read: returns to send it again (Calls
 * did not take it and the budget allows); otherwise throws `busy` (not
 * applied) or `uncertain` (applied, but what Calls answered is lost).
 */
function sendAgainOrThrow(
  cause: FailedAnswer,
  budget: RetryBudget,
  listed: boolean,
  lost: 'answer' | 'offer',
): void {
  if (listed)
    throw errorOf(cause, 'uncertain', `${cause.message}; the tracks are there but the ${lost} is lost`);
  if (!mayRepeat(cause, budget))
    throw errorOf(cause, 'busy', `${cause.message}; the tracks are not there: not applied`);
}

/** A track of the session that is still open (Calls may list closed ones as `inactive`). */
const isOpen = (state: SessionState, mid: string) =>
  state.tracks?.some((track) => track.mid === mid && track.status !== 'inactive') ?? false;

/** The mid of the local track `localTrackName` when `source` is listed as pulled into it, open. */
function pulledInto(
  state: SessionState,
  source: { sessionId: string; trackName: string },
  localTrackName: string,
): string | undefined {
  const mid = state.tracks?.find(
    (track) =>
      track.location !== 'remote' && track.trackName === localTrackName && track.status !== 'inactive',
  )?.mid;
  if (mid === undefined) return undefined;
  const pulled = state.tracks?.some(
    (track) =>
      track.location === 'remote' &&
      track.mid === mid &&
      track.sessionId === source.sessionId &&
      track.trackName === source.trackName &&
      track.status !== 'inactive',
  );
  return pulled ? mid : undefined;
}

export function createCallsClient(options: CallsClientOptions): CallsClient {
  const base = `${(options.baseUrl ?? CLOUDFLARE_CALLS_API).replace(/\/$/, '')}/apps/${encodeURIComponent(options.appId)}`;
  const retryOptions = { ...defaultRetryPolicy, ...options.retry };
  const policy: RetryPolicy = { ...retryOptions, attempts: Math.max(1, retryOptions.attempts) };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  const newBudget = () => new RetryBudget(policy, random, sleep);
  const sessionPath = (id: string) => `/sessions/${encodeURIComponent(id)}`;

  async function requestOnce<T>(
    method: string,
    path: string,
    schema: z.ZodMiniType<T>,
    body: unknown,
  ): Promise<Answer<T>> {
    const what = `Calls ${method} ${path}`;
    let response: Response;
    let text: string;
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
      text = await response.text();
    } catch (cause) {
      // No answer, or an answer cut off: Calls may or may not have applied the request.
      const timedOut = cause instanceof Error && cause.name === 'TimeoutError';
      return failed({
        status: 0,
        code: timedOut ? 'timeout' : 'network_error',
        message: timedOut ? `${what}: no answer within ${timeoutMs} ms` : `${what}: ${String(cause)}`,
        failure: { type: 'unknown' },
        retryAfterMs: 0,
      });
    }
    const json = parseJson(text);
    const described = errorFields.safeParse(json);
    const errorCode = described.success ? described.data.errorCode : undefined;
    const parsed = schema.safeParse(json);
    if (response.ok && !errorCode) {
      if (parsed.success) return { ok: true, status: response.status, value: parsed.data };
      return failed({
        status: response.status,
        code: 'invalid_response',
        message: `${what} answered an unexpected body`,
        failure: { type: 'final', kind: 'rejected' },
        retryAfterMs: 0,
      });
    }
    // Items that succeeded were applied, whatever the top-level code says.
    const items = batchItems.safeParse(json);
    if (parsed.success && items.success && items.data.tracks.some((item) => !item.errorCode)) {
      return { ok: true, status: response.status, value: parsed.data, ...topLevel(described.data ?? {}) };
    }
    const description = (described.success && described.data.errorDescription) || response.statusText;
    return failed({
      status: response.status,
      code: errorCode ?? `http_${response.status}`,
      message: `${what}: ${response.status} ${errorCode ?? ''} ${description}`.replace(/\s+/g, ' ').trim(),
      failure: classifyAnswer(response.status, errorCode),
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    });
  }

  /**
   * Sends one request, again while Calls says it did not process it. Final
   * answers are thrown; an unknown outcome is returned for the caller to
   * reconcile (or, for a GET, to send again).
   */
  async function send<T>(
    budget: RetryBudget,
    method: string,
    path: string,
    schema: z.ZodMiniType<T>,
    body?: unknown,
  ): Promise<Answer<T>> {
    for (;;) {
      await budget.spend();
      const answer = await requestOnce(method, path, schema, body);
      if (answer.ok) return answer;
      const { cause } = answer;
      budget.failed(cause.retryAfterMs);
      if (cause.failure.type === 'final') throw errorOf(cause, cause.failure.kind);
      if (cause.failure.type === 'unknown') return answer;
      if (budget.left === 0) throw errorOf(cause, 'busy');
    }
  }

  /** `GET /sessions/{id}`, sent again on any failure that is not final, within the budget. */
  async function read(budget: RetryBudget, sessionId: string): Promise<SessionState> {
    for (;;) {
      const answer = await send(budget, 'GET', sessionPath(sessionId), sessionStateResponse);
      if (answer.ok) return answer.value;
      if (budget.left === 0) throw errorOf(answer.cause, 'busy');
    }
  }

  /**
   * Reads the session after a mutation whose outcome is unknown. `gone` and
   * `rejected` answers are thrown as they are; when the session cannot be
   * read, the mutation's outcome stays `uncertain`.
   */
  async function reconcile(
    budget: RetryBudget,
    sessionId: string,
    cause: FailedAnswer,
  ): Promise<SessionState> {
    const uncertain = () =>
      errorOf(cause, 'uncertain', `${cause.message} (and the session could not be read)`);
    if (budget.left === 0) throw uncertain();
    try {
      return await read(budget, sessionId);
    } catch (error) {
      if (error instanceof CallsError && error.kind === 'busy') throw uncertain();
      throw error;
    }
  }

  /**
   * Per-mid results of a close. A mid that failed but is not open in the
   * session (closed earlier, e.g. by a request whose answer was lost) counts
   * as closed; when the session cannot be read, the failure is reported.
   */
  async function closeResults(
    budget: RetryBudget,
    sessionId: string,
    mids: string[],
    items: TrackObject[] | undefined,
  ): Promise<CloseResult['tracks']> {
    const results = mids.map((mid, i) => {
      const item = items?.[i];
      if (!item) return { mid, closed: false, errorCode: 'invalid_response' };
      return { mid, closed: !item.errorCode, ...itemError(item) };
    });
    if (results.every((result) => result.closed) || budget.left === 0) return results;
    const state = await read(budget, sessionId).catch((error: unknown) => {
      if (error instanceof CallsError && error.kind === 'busy') return null;
      throw error;
    });
    if (!state) return results;
    return results.map((result) =>
      result.closed || isOpen(state, result.mid) ? result : { mid: result.mid, closed: true },
    );
  }

  async function forcedClose(sessionId: string, mids: string[]): Promise<CloseResult> {
    const budget = newBudget();
    const closed = new Set<string>();
    let open = [...new Set(mids)];
    for (;;) {
      const answer = await send(
        budget,
        'PUT',
        `${sessionPath(sessionId)}/tracks/close`,
        closeTracksResponse,
        {
          tracks: open.map((mid) => ({ mid })),
          force: true,
        },
      );
      if (answer.ok) {
        const results = await closeResults(budget, sessionId, open, answer.value.tracks);
        const byMid = new Map(results.map((result) => [result.mid, result]));
        return {
          answer: null,
          tracks: mids.map((mid) => (closed.has(mid) ? { mid, closed: true } : byMid.get(mid)!)),
          ...topLevel(answer),
        };
      }
      // Closing is idempotent: close again only what the session still has open.
      const state = await reconcile(budget, sessionId, answer.cause);
      for (const mid of open) if (!isOpen(state, mid)) closed.add(mid);
      open = open.filter((mid) => !closed.has(mid));
      if (open.length === 0 || budget.left === 0) {
        const { code, message } = answer.cause;
        return {
          answer: null,
          tracks: mids.map((mid) =>
            closed.has(mid)
              ? { mid, closed: true }
              : { mid, closed: false, errorCode: code, errorDescription: message },
          ),
        };
      }
    }
  }

  async function negotiatedClose(
    sessionId: string,
    mids: string[],
    offer: SessionDescription,
  ): Promise<CloseResult> {
    const budget = newBudget();
    for (;;) {
      const answer = await send(
        budget,
        'PUT',
        `${sessionPath(sessionId)}/tracks/close`,
        closeTracksResponse,
        {
          tracks: mids.map((mid) => ({ mid })),
          force: false,
          sessionDescription: offer,
        },
      );
      if (answer.ok) {
        const sdp = answer.value.sessionDescription;
        if (sdp?.type !== 'answer')
          throw new CallsError(
            answer.status,
            'invalid_response',
            'Calls closed tracks but sent no answer',
            'uncertain',
          );
        return {
          answer: sdp,
          tracks: await closeResults(budget, sessionId, mids, answer.value.tracks),
          ...topLevel(answer),
        };
      }
      const state = await reconcile(budget, sessionId, answer.cause);
      if (mids.every((mid) => isOpen(state, mid))) {
        if (mayRepeat(answer.cause, budget)) continue;
        throw errorOf(
          answer.cause,
          'busy',
          `${answer.cause.message}; the tracks are still open: not applied`,
        );
      }
      throw errorOf(
        answer.cause,
        'uncertain',
        `${answer.cause.message}; the tracks are closed but the answer is lost`,
      );
    }
  }

  return {
    async newSession({ thirdparty = false, correlationId } = {}) {
      const query = new URLSearchParams();
      if (thirdparty) query.set('thirdparty', 'true');
      if (correlationId) query.set('correlationId', correlationId);
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      const answer = await send(newBudget(), 'POST', `/sessions/new${suffix}`, newSessionResponse);
      if (!answer.ok)
        throw errorOf(answer.cause, 'uncertain', `${answer.cause.message}; a session may have been created`);
      return answer.value.sessionId;
    },

    /*
     * What GET tells after a lost publish: the published tracks are listed
     * (local, by mid and name) once Calls applied the offer. None of them
     * listed means not applied, unless the request is still being processed
     * (a timeout); Calls then refuses the next negotiation with 406 until it
     * is done. GET never shows the SDP, so a lost answer cannot be recovered.
     */
    async publish(sessionId, offer, tracks) {
      const budget = newBudget();
      for (;;) {
        const answer = await send(budget, 'POST', `${sessionPath(sessionId)}/tracks/new`, tracksResponse, {
          sessionDescription: offer,
          tracks: tracks.map((t) => ({ location: 'local', mid: t.mid, trackName: t.trackName })),
        });
        if (answer.ok) {
          const sdp = answer.value.sessionDescription;
          if (sdp?.type !== 'answer')
            throw new CallsError(
              answer.status,
              'invalid_response',
              'Calls took the offer but sent no answer',
              'uncertain',
            );
          const items = answer.value.tracks;
          return {
            answer: sdp,
            tracks: tracks.map((requested, i) => {
              const item = items?.[i];
              if (!item) return { ...requested, errorCode: 'invalid_response' };
              return {
                mid: item.mid ?? requested.mid,
                trackName: item.trackName ?? requested.trackName,
                ...itemError(item),
              };
            }),
            ...topLevel(answer),
          };
        }
        const state = await reconcile(budget, sessionId, answer.cause);
        const listed = tracks.filter((t) =>
          state.tracks?.some(
            (s) =>
              s.location !== 'remote' &&
              s.mid === t.mid &&
              s.trackName === t.trackName &&
              s.status !== 'inactive',
          ),
        );
        sendAgainOrThrow(answer.cause, budget, listed.length > 0, 'answer');
      }
    },

    /*
     * What GET tells after a lost pull: pulled tracks are listed (remote, by
     * session and name) once Calls applied it. It cannot tell a track this
     * request pulled from one the session pulled before, so any listed track
     * counts as applied.
     */
    async pull(sessionId, tracks) {
      const budget = newBudget();
      for (;;) {
        const answer = await send(budget, 'POST', `${sessionPath(sessionId)}/tracks/new`, tracksResponse, {
          tracks: tracks.map((t) => ({
            location: 'remote',
            sessionId: t.sessionId,
            trackName: t.trackName,
            ...(t.simulcast ? { simulcast: t.simulcast } : {}),
          })),
        });
        if (answer.ok) {
          const sdp = answer.value.sessionDescription;
          const items = answer.value.tracks;
          return {
            offer: sdp?.type === 'offer' ? sdp : null,
            tracks: tracks.map((requested, i) => trackResult(requested, items?.[i])),
            ...topLevel(answer),
          };
        }
        const state = await reconcile(budget, sessionId, answer.cause);
        const listed = tracks.filter((t) =>
          state.tracks?.some(
            (s) => s.location === 'remote' && s.sessionId === t.sessionId && s.trackName === t.trackName,
          ),
        );
        sendAgainOrThrow(answer.cause, budget, listed.length > 0, 'offer');
      }
    },

    /*
     * What GET tells after a lost offer of local tracks: they are listed
     * (local, by name) once Calls made the offer, which is then outstanding
     * and lost: GET never shows the SDP, and Calls refuses any other
     * negotiation on the session until that offer is answered, so only a new
     * session helps (`offer_lost`). None listed after an error answer: Calls
     * did not take the request, it goes again. None listed after a timeout or
     * a lost answer: it may still be applied, so it does not go again.
     * A name already open in the session before the request counts as listed
     * too: the cautious side.
     */
    async offerLocalTracks(sessionId, tracks) {
      const budget = newBudget();
      const request = {
        tracks: tracks.map((t) => ({
          location: 'local' as const,
          trackName: t.trackName,
          kind: t.kind,
          ...(t.bidirectionalMediaStream === undefined
            ? {}
            : { bidirectionalMediaStream: t.bidirectionalMediaStream }),
        })),
      } satisfies TracksRequest;
      for (;;) {
        const answer = await send(
          budget,
          'POST',
          `${sessionPath(sessionId)}/tracks/new`,
          tracksBatchResponse,
          request,
        );
        if (answer.ok) {
          const items = answer.value.tracks;
          const results = tracks.map(({ trackName }, i) => trackResult({ trackName }, items[i]));
          const sdp = answer.value.sessionDescription;
          const offer = sdp?.type === 'offer' ? sdp : null;
          if (!offer && results.some((result) => !result.errorCode))
            throw new CallsError(
              answer.status,
              'invalid_response',
              'Calls added local tracks but sent no offer',
              'uncertain',
            );
          return { offer, tracks: results, ...topLevel(answer) };
        }
        const { cause } = answer;
        const state = await reconcile(budget, sessionId, cause);
        const listed = tracks.some((t) =>
          state.tracks?.some(
            (s) => s.location !== 'remote' && s.trackName === t.trackName && s.status !== 'inactive',
          ),
        );
        if (listed)
          throw new CallsError(
            cause.status,
            'offer_lost',
            `${cause.message}; the tracks are there but the offer is lost: start over with a new session`,
            'uncertain',
          );
        if (mayRepeat(cause, budget)) continue;
        if (cause.status === 0)
          throw errorOf(
            cause,
            'uncertain',
            `${cause.message}; the tracks are not there yet, but may still be`,
          );
        throw errorOf(cause, 'busy', `${cause.message}; the tracks are not there: not applied`);
      }
    },

    /*
     * Pulling a source into a local track replaces what went there with it,
     * so doing it twice leaves the same as once: no offer or answer is
     * involved, nothing is added. After an unknown outcome the client reads
     * the session, returns the pull if it is listed (remote, this source, on
     * the local track's mid) and sends it again otherwise, a timeout
     * included: a first request still running only does the same. What a
     * repeat could undo is a pull into the same track started meanwhile, and
     * a caller that waits for this one (one push-to-talk holder at a time)
     * starts none.
     */
    async pullInto(sessionId, source, localTrackName) {
      const budget = newBudget();
      const requested = { sessionId: source.sessionId, trackName: source.trackName };
      const request = {
        tracks: [{ location: 'remote' as const, ...requested, mid: `#${localTrackName}` }],
      } satisfies TracksRequest;
      for (;;) {
        const answer = await send(
          budget,
          'POST',
          `${sessionPath(sessionId)}/tracks/new`,
          tracksBatchResponse,
          request,
        );
        if (answer.ok) {
          if (answer.value.sessionDescription)
            throw new CallsError(
              answer.status,
              'invalid_response',
              'Calls made an offer for a pull into an existing transceiver',
              'uncertain',
            );
          return { track: trackResult(requested, answer.value.tracks[0]), ...topLevel(answer) };
        }
        const { cause } = answer;
        const mid = pulledInto(await reconcile(budget, sessionId, cause), requested, localTrackName);
        if (mid !== undefined) return { track: { ...requested, mid } };
        if (budget.left > 0) continue;
        if (cause.status === 0)
          throw errorOf(cause, 'uncertain', `${cause.message}; not there yet, but may still be: pull again`);
        throw errorOf(cause, 'busy', `${cause.message}; not there: not applied`);
      }
    },

    /*
     * GET does not show whether an answer was applied; reconciling can only
     * tell that the session is gone.
     */
    async renegotiate(sessionId, sdp) {
      const budget = newBudget();
      const answer = await send(budget, 'PUT', `${sessionPath(sessionId)}/renegotiate`, renegotiateResponse, {
        sessionDescription: sdp,
      });
      if (answer.ok) return;
      await reconcile(budget, sessionId, answer.cause);
      throw errorOf(
        answer.cause,
        'uncertain',
        `${answer.cause.message}; the answer may or may not have been applied`,
      );
    },

    closeTracks(sessionId, mids, { offer } = {}) {
      return offer ? negotiatedClose(sessionId, mids, offer) : forcedClose(sessionId, mids);
    },

    async updateTracks(sessionId, tracks) {
      const budget = newBudget();
      for (;;) {
        const answer = await send(
          budget,
          'PUT',
          `${sessionPath(sessionId)}/tracks/update`,
          updateTracksResponse,
          {
            tracks,
          },
        );
        if (answer.ok) {
          return {
            requiresImmediateRenegotiation: answer.value.requiresImmediateRenegotiation ?? false,
            tracks: answer.value.tracks ?? [],
            ...topLevel(answer),
          };
        }
        await reconcile(budget, sessionId, answer.cause);
        if (budget.left === 0) throw errorOf(answer.cause, 'uncertain');
      }
    },

    getSession(sessionId) {
      return read(newBudget(), sessionId);
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function failed(cause: FailedAnswer): { ok: false; cause: FailedAnswer } {
  return { ok: false, cause };
}
