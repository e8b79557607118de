/**
 * The browser's media API on the Worker: `POST /api/rooms/<room>/media/<op>`
 * with `Authorization: Bearer <participantId>.<mediaKey>` (the key comes in
 * the room snapshot, only to that participant). The Worker holds the Calls
 * app secret and checks that a browser acts only on its own Calls session
 * and pulls only tracks published in its own room.
 */
import * as z from 'zod/mini';
import { trackRef } from './participant.js';

export const MEDIA_OPERATIONS = [
  'session',
  'publish',
  'pull',
  'layers',
  'renegotiate',
  'close',
  'check',
] as const;
export type MediaOperation = (typeof MEDIA_OPERATIONS)[number];

/** Track names are ours to choose; Calls allows these characters. */
export const trackName = z.string().check(z.regex(/^[A-Za-z0-9._~-]{1,64}$/));
const sessionId = z.string().check(z.regex(/^[0-9a-f]{1,64}$/));
const mid = z.string().check(z.minLength(1), z.maxLength(32));

export const sdp = z.object({
  type: z.enum(['offer', 'answer']),
  sdp: z.string().check(z.maxLength(64 * 1024)),
});
export type Sdp = z.infer<typeof sdp>;

export const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.optional(z.string()),
  credential: z.optional(z.string()),
});

/** `session`: a new Calls session for this participant (the old one, if any, is closed). */
export const sessionResponse = z.object({ sessionId, iceServers: z.array(iceServer) });

/** `publish`: the browser's offer with its new send-only tracks. */
export const publishRequest = z.object({
  sessionId,
  offer: sdp,
  tracks: z.array(z.object({ mid, trackName })).check(z.minLength(1), z.maxLength(8)),
});
export const publishResponse = z.object({
  answer: sdp,
  tracks: z.array(z.object({ mid, trackName })),
});

/**
 * A camera's simulcast layers, as it publishes them (`sendEncodings` rids):
 * full, half and quarter resolution. A subscriber receives one of them.
 */
export const SIMULCAST_LAYERS = ['f', 'h', 'q'] as const;
export const simulcastLayer = z.enum(SIMULCAST_LAYERS);
export type SimulcastLayer = z.infer<typeof simulcastLayer>;

/** `pull`: other participants' tracks, as `sessionId/trackName` refs from the room. */
export const pullRequest = z.object({
  sessionId,
  tracks: z.array(trackRef).check(z.minLength(1), z.maxLength(64)),
  /** The layer to receive of a simulcast track, by ref (Calls' `simulcast.preferredRid`). */
  layers: z.optional(z.record(trackRef, simulcastLayer)),
});
export const pullResponse = z.object({
  /** Answer it with `renegotiate`; null when no track could be added. */
  offer: z.nullable(sdp),
  tracks: z.array(
    z.object({
      ref: trackRef,
      mid: z.optional(mid),
      /** `not-found` (not published yet: try later) or `not-in-room`. */
      error: z.optional(z.enum(['not-found', 'not-in-room', 'failed'])),
    }),
  ),
});

/** `layers`: switch pulled simulcast tracks to other layers; no renegotiation. */
export const layersRequest = z.object({
  sessionId,
  tracks: z.array(z.object({ mid, layer: simulcastLayer })).check(z.minLength(1), z.maxLength(64)),
});
export const layersResponse = z.object({
  /** Per track: `not-pulled` (this session pulls nothing on that mid) or `failed` (Calls refused). */
  tracks: z.array(z.object({ mid, error: z.optional(z.enum(['not-pulled', 'failed'])) })),
});

export const renegotiateRequest = z.object({ sessionId, answer: sdp });
export const closeRequest = z.object({
  sessionId,
  mids: z.array(mid).check(z.minLength(1), z.maxLength(64)),
  /** The browser's offer with these transceivers stopped; without it the tracks are forced closed. */
  offer: z.optional(sdp),
});
export const closeResponse = z.object({ answer: z.nullable(sdp) });

/**
 * `check`: does Calls still have this session? Asked after the room
 * connection comes back, when the session may have ended meanwhile while the
 * browser's connection still looks up. Gone: 410 `media-session-gone`.
 */
export const checkRequest = z.object({ sessionId });
export const emptyResponse = z.object({});

/**
 * What a failed media request means for the browser:
 * - `media-busy` (503), `media-rate-limited` (429): nothing was done; do the
 *   step again later (after `Retry-After` when given);
 * - `media-session-gone` (410), `media-rejected` (502), `media-uncertain`
 *   (504), `media-not-connected` (409: Calls waited for the session to
 *   connect): the Calls session cannot be trusted any more; build a new one;
 * - `unauthorized` (401), `not-joined` / `not-your-session` (403): wait until
 *   the room connection is back (or joined) and look again;
 * - `media-unavailable` (503): the server has no Calls configured; stop;
 * - `invalid-request` (400), `too-large` (413): a bug in the caller.
 */
export const MEDIA_ERROR_CODES = [
  'media-busy',
  'media-rate-limited',
  'media-session-gone',
  'media-rejected',
  'media-uncertain',
  'media-not-connected',
  'unauthorized',
  'not-joined',
  'not-your-session',
  'media-unavailable',
  'invalid-request',
  'too-large',
  'internal',
] as const;
export type MediaErrorCode = (typeof MEDIA_ERROR_CODES)[number];

/** Every failure: `{error: {code, message}}` with a message a person can read. */
export const mediaErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
