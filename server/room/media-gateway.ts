/**
 * The media API for one room (`src/protocol/media.ts`): turns a browser's
 * requests into Calls API calls, on the browser's own Calls session only,
 * pulling only tracks that participants of this room publish. The app secret
 * and TURN key stay here; the browser gets answers, offers and ICE servers.
 */
import * as z from 'zod/mini';
import { media, type Participant } from '../../src/protocol/index.js';
import { createCallsClient, type CallsClient } from '../calls/client.js';
import { CallsError } from '../calls/errors.js';
import { iceServersFor } from '../calls/ice-servers.js';
import type { Env } from '../env.js';

/**
 * What the room keeps per participant about their Calls session (in the
 * roster), so that it can close everything when they leave, even if their
 * browser vanished.
 */
export interface CallsBinding {
  sessionId: string;
  /** Published tracks: mid → track name. */
  published: Record<string, string>;
  /** Pulled tracks: mid → `sessionId/trackName`. */
  pulled: Record<string, string>;
}

/** A reply as status, JSON text and extra headers: what crosses from the room back to the Worker. */
export interface MediaReply {
  status: number;
  json: string;
  headers?: Record<string, string>;
}

const reply = (status: number, body: unknown, headers?: Record<string, string>): MediaReply => ({
  status,
  json: JSON.stringify(body),
  ...(headers ? { headers } : {}),
});

export class MediaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function callsClientFor(env: Env): CallsClient | null {
  if (!env.CALLS_APP_ID || !env.CALLS_APP_SECRET) return null;
  return createCallsClient({
    appId: env.CALLS_APP_ID,
    appSecret: env.CALLS_APP_SECRET,
    baseUrl: env.CALLS_API_URL || undefined,
  });
}

function parseBody<T>(schema: z.ZodMiniType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new MediaApiError(400, 'invalid-request', `${issue?.message ?? 'Invalid request'}${where}`);
  }
  return result.data;
}

/**
 * What each kind of Calls failure tells the browser (`media.MEDIA_ERROR_CODES`):
 * busy: nothing was applied, do the step again later; gone / rejected /
 * uncertain: this session cannot be trusted any more, build a new one.
 */
const callsFailure: Record<
  CallsError['kind'],
  { status: number; code: media.MediaErrorCode; message: string }
> = {
  busy: { status: 503, code: 'media-busy', message: 'The video service is busy. Trying again may help.' },
  gone: { status: 410, code: 'media-session-gone', message: 'The video session has ended.' },
  rejected: { status: 502, code: 'media-rejected', message: 'The video service refused this request.' },
  uncertain: {
    status: 504,
    code: 'media-uncertain',
    message: 'The video service did not answer in time.',
  },
};

const notConnected = {
  status: 409,
  code: 'media-not-connected' as const,
  message: 'The video connection is not up: reconnecting.',
};

/** A Calls failure, said so that the browser can show it. */
export function mediaErrorReply(error: unknown): MediaReply {
  if (error instanceof MediaApiError) {
    return reply(error.status, { error: { code: error.code, message: error.message } }, error.headers);
  }
  if (error instanceof CallsError) {
    console.error('media: Calls failed', error.kind, error.status, error.code, error.message);
    // 425: the session is not connected (the browser closed its last m-line, or never connected):
    // only the browser can bring it back, with a new session.
    const { status, code, message } = error.status === 425 ? notConnected : callsFailure[error.kind];
    const retryAfter =
      error.kind === 'busy' && error.retryAfterMs > 0 ? Math.ceil(error.retryAfterMs / 1000) : 0;
    return reply(
      status,
      { error: { code, message } },
      retryAfter ? { 'Retry-After': String(retryAfter) } : undefined,
    );
  }
  console.error('media: unexpected failure', error);
  return reply(500, { error: { code: 'internal', message: 'Something went wrong with video' } });
}

/**
 * A camera's layer as Calls takes it. A layer the publisher does not send
 * (Chrome sends only two from a 640×480 camera, and drops layers when short
 * of bandwidth or CPU) is replaced by the next one that arrives, rather than
 * nothing.
 */
const simulcastOf = (layer: media.SimulcastLayer) => ({
  preferredRid: layer,
  ridNotAvailable: 'asciibetical',
});

export interface MediaContext {
  env: Env;
  calls: CallsClient;
  /** The participant (or the lobby visitor, who will be that participant) making the request. */
  selfId: string;
  binding: CallsBinding | null;
  /** Everyone joined in this room now (nobody for a lobby visitor, who may not pull). */
  participants: readonly Participant[];
  /** Keeps the new binding (with the member, or with a lobby visitor's connection). */
  bind(binding: CallsBinding | null): void;
}

const ownSession = (context: MediaContext, sessionId: string): CallsBinding => {
  if (!context.binding || context.binding.sessionId !== sessionId) {
    throw new MediaApiError(
      403,
      'not-your-session',
      'This media session belongs to someone else, or has ended',
    );
  }
  return context.binding;
};

export async function handleMediaOperation(
  operation: media.MediaOperation,
  body: unknown,
  context: MediaContext,
): Promise<MediaReply> {
  const { calls } = context;
  switch (operation) {
    case 'session': {
      const [sessionId, iceServers] = await Promise.all([
        calls.newSession({ correlationId: context.selfId }),
        iceServersFor({
          callsApiUrl: context.env.CALLS_API_URL,
          turnKeyId: context.env.TURN_KEY_ID,
          turnApiToken: context.env.TURN_KEY_API_TOKEN,
        }),
      ]);
      // The gate closes the old session's tracks once this one is bound.
      context.bind({ sessionId, published: {}, pulled: {} });
      return reply(200, { sessionId, iceServers } satisfies z.infer<typeof media.sessionResponse>);
    }
    case 'publish': {
      const request = parseBody(media.publishRequest, body);
      const binding = ownSession(context, request.sessionId);
      if (request.offer.type !== 'offer')
        throw new MediaApiError(400, 'invalid-request', 'publish needs an offer');
      const { answer, tracks } = await calls.publish(request.sessionId, request.offer, request.tracks);
      const published = { ...binding.published };
      for (const track of tracks)
        if (track.mid && track.trackName && !track.errorCode) published[track.mid] = track.trackName;
      context.bind({ ...binding, published });
      const response = {
        answer,
        tracks: tracks.flatMap((t) =>
          t.mid && t.trackName && !t.errorCode ? [{ mid: t.mid, trackName: t.trackName }] : [],
        ),
      } satisfies z.infer<typeof media.publishResponse>;
      return reply(200, response);
    }
    case 'pull': {
      const request = parseBody(media.pullRequest, body);
      const binding = ownSession(context, request.sessionId);
      const inRoom = new Set(
        context.participants.filter((p) => p.id !== context.selfId).flatMap((p) => Object.values(p.tracks)),
      );
      const allowed = request.tracks.filter((ref) => inRoom.has(ref));
      const result = allowed.length
        ? await calls.pull(
            request.sessionId,
            allowed.map((ref) => {
              const [sessionId, trackName] = ref.split('/') as [string, string];
              const layer = request.layers?.[ref];
              return { sessionId, trackName, ...(layer ? { simulcast: simulcastOf(layer) } : {}) };
            }),
          )
        : { offer: null, tracks: [] };
      const byRef = new Map(result.tracks.map((t) => [`${t.sessionId}/${t.trackName}`, t]));
      const pulled = { ...binding.pulled };
      for (const [ref, item] of byRef) if (item.mid && !item.errorCode) pulled[item.mid] = ref;
      context.bind({ ...binding, pulled });
      const tracks = request.tracks.map((ref) => {
        if (!inRoom.has(ref)) return { ref, error: 'not-in-room' as const };
        const item = byRef.get(ref);
        if (item?.mid && !item.errorCode) return { ref, mid: item.mid };
        return {
          ref,
          error: item?.errorCode === 'not_found_track_error' ? ('not-found' as const) : ('failed' as const),
        };
      });
      return reply(200, { offer: result.offer, tracks } satisfies z.infer<typeof media.pullResponse>);
    }
    case 'layers': {
      const request = parseBody(media.layersRequest, body);
      const binding = ownSession(context, request.sessionId);
      const mine = request.tracks.filter(({ mid }) => binding.pulled[mid]);
      const result = mine.length
        ? await calls.updateTracks(
            request.sessionId,
            mine.map(({ mid, layer }) => {
              const [sessionId, trackName] = binding.pulled[mid]!.split('/') as [string, string];
              return { location: 'remote', sessionId, trackName, mid, simulcast: simulcastOf(layer) };
            }),
          )
        : { tracks: [] };
      const failed = new Set(result.tracks.filter((t) => t.errorCode).map((t) => t.mid));
      const tracks = request.tracks.map(({ mid }) => {
        if (!binding.pulled[mid]) return { mid, error: 'not-pulled' as const };
        return failed.has(mid) ? { mid, error: 'failed' as const } : { mid };
      });
      return reply(200, { tracks } satisfies z.infer<typeof media.layersResponse>);
    }
    case 'renegotiate': {
      const request = parseBody(media.renegotiateRequest, body);
      ownSession(context, request.sessionId);
      if (request.answer.type !== 'answer')
        throw new MediaApiError(400, 'invalid-request', 'renegotiate needs an answer');
      await calls.renegotiate(request.sessionId, request.answer);
      return reply(200, {});
    }
    case 'check': {
      const request = parseBody(media.checkRequest, body);
      ownSession(context, request.sessionId);
      // Throws `gone` (410 media-session-gone) when Calls no longer has it.
      await calls.getSession(request.sessionId);
      return reply(200, {});
    }
    case 'close': {
      const request = parseBody(media.closeRequest, body);
      const binding = ownSession(context, request.sessionId);
      const { answer, tracks } = await calls.closeTracks(
        request.sessionId,
        request.mids,
        request.offer ? { offer: request.offer } : {},
      );
      // A track that failed to close stays in the binding, so leaving closes it again.
      const published = { ...binding.published };
      const pulled = { ...binding.pulled };
      for (const { mid, closed } of tracks) {
        if (!closed) continue;
        delete published[mid];
        delete pulled[mid];
      }
      context.bind({ ...binding, published, pulled });
      return reply(200, { answer } satisfies z.infer<typeof media.closeResponse>);
    }
  }
}

/** Waits before closing again what would not close. */
const CLOSE_AGAIN_AFTER_MS = [1_000, 5_000];

/**
 * Closes everything a session still publishes and pulls (its participant
 * left, or replaced it), trying again a couple of times for tracks that
 * would not close. A session Calls no longer has is already closed.
 */
export async function closeAll(
  calls: CallsClient,
  binding: CallsBinding,
  sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  let mids = [...Object.keys(binding.published), ...Object.keys(binding.pulled)];
  for (let attempt = 0; mids.length > 0; attempt++) {
    try {
      const { tracks } = await calls.closeTracks(binding.sessionId, mids);
      mids = tracks.filter((t) => !t.closed).map((t) => t.mid);
    } catch (error) {
      if (error instanceof CallsError && error.kind === 'gone') return;
      console.error('media: closing the tracks of a finished session failed', error);
    }
    const wait = CLOSE_AGAIN_AFTER_MS[attempt];
    if (mids.length === 0 || wait === undefined) break;
    await sleep(wait);
  }
  if (mids.length > 0) console.error('media: tracks left open on Calls', binding.sessionId, mids);
}
