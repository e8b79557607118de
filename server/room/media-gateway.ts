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

/** What the room keeps per participant about their Calls session (in the socket attachment). */
export interface CallsBinding {
  sessionId: string;
  /** Published tracks: mid → track name. */
  published: Record<string, string>;
}

/** A reply as status and JSON text: what crosses from the room back to the Worker. */
export interface MediaReply {
  status: number;
  json: string;
}

const reply = (status: number, body: unknown): MediaReply => ({ status, json: JSON.stringify(body) });

export class MediaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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

/** A Calls failure, said so that the browser can show it. */
export function mediaErrorReply(error: unknown): MediaReply {
  if (error instanceof MediaApiError) {
    return reply(error.status, { error: { code: error.code, message: error.message } });
  }
  if (error instanceof CallsError) {
    console.error('media: Calls failed', error.status, error.code, error.message);
    const busy = error.retryable || error.status === 406;
    return reply(busy ? 503 : 502, {
      error: {
        code: busy ? 'media-busy' : 'media-failed',
        message: busy
          ? 'The video service is busy. Trying again may help.'
          : 'The video service refused this request.',
      },
    });
  }
  console.error('media: unexpected failure', error);
  return reply(500, { error: { code: 'internal', message: 'Something went wrong with video' } });
}

export interface MediaContext {
  env: Env;
  calls: CallsClient;
  self: Participant;
  binding: CallsBinding | null;
  /** Everyone joined in this room now. */
  participants: readonly Participant[];
  /** Stores the participant's new binding (in the socket attachment). */
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
      const old = context.binding;
      const [sessionId, iceServers] = await Promise.all([
        calls.newSession({ correlationId: context.self.id }),
        iceServersFor({
          callsApiUrl: context.env.CALLS_API_URL,
          turnKeyId: context.env.TURN_KEY_ID,
          turnApiToken: context.env.TURN_KEY_API_TOKEN,
        }),
      ]);
      context.bind({ sessionId, published: {} });
      if (old) void closeAll(calls, old);
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
      ownSession(context, request.sessionId);
      const inRoom = new Set(
        context.participants.filter((p) => p.id !== context.self.id).flatMap((p) => Object.values(p.tracks)),
      );
      const allowed = request.tracks.filter((ref) => inRoom.has(ref));
      const result = allowed.length
        ? await calls.pull(
            request.sessionId,
            allowed.map((ref) => {
              const [sessionId, trackName] = ref.split('/') as [string, string];
              return { sessionId, trackName };
            }),
          )
        : { offer: null, tracks: [] };
      const byRef = new Map(result.tracks.map((t) => [`${t.sessionId}/${t.trackName}`, t]));
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
    case 'renegotiate': {
      const request = parseBody(media.renegotiateRequest, body);
      ownSession(context, request.sessionId);
      if (request.answer.type !== 'answer')
        throw new MediaApiError(400, 'invalid-request', 'renegotiate needs an answer');
      await calls.renegotiate(request.sessionId, request.answer);
      return reply(200, {});
    }
    case 'close': {
      const request = parseBody(media.closeRequest, body);
      const binding = ownSession(context, request.sessionId);
      const { answer } = await calls.closeTracks(
        request.sessionId,
        request.mids,
        request.offer ? { offer: request.offer } : {},
      );
      const published = { ...binding.published };
      for (const mid of request.mids) delete published[mid];
      context.bind({ ...binding, published });
      return reply(200, { answer } satisfies z.infer<typeof media.closeResponse>);
    }
  }
}

/** Closes what a participant still publishes (they left without tidying up). Best effort. */
export async function closeAll(calls: CallsClient, binding: CallsBinding): Promise<void> {
  const mids = Object.keys(binding.published);
  if (mids.length === 0) return;
  try {
    await calls.closeTracks(binding.sessionId, mids, { force: true });
  } catch (error) {
    console.error('media: closing tracks of a departed participant failed', error);
  }
}
