/**
 * The Cloudflare Calls (Realtime SFU) HTTP API, as zod schemas (CALLS-API.md).
 * The client in this folder parses responses with them; the local SFU parses
 * requests with them, so both ends keep to one contract.
 */
import * as z from 'zod/mini';

export const sessionDescription = z.object({
  type: z.enum(['offer', 'answer']),
  sdp: z.string(),
});
export type SessionDescription = z.infer<typeof sessionDescription>;

/** Present on any response, and on each track item of a batch. */
const errorFields = {
  errorCode: z.optional(z.string()),
  errorDescription: z.optional(z.string()),
};

export const trackObject = z.object({
  location: z.optional(z.enum(['local', 'remote'])),
  mid: z.optional(z.string()),
  sessionId: z.optional(z.string()),
  trackName: z.optional(z.string()),
  kind: z.optional(z.enum(['audio', 'video'])),
  bidirectionalMediaStream: z.optional(z.boolean()),
  simulcast: z.optional(
    z.object({
      preferredRid: z.optional(z.string()),
      priorityOrdering: z.optional(z.string()),
      ridNotAvailable: z.optional(z.string()),
    }),
  ),
  ...errorFields,
});
export type TrackObject = z.infer<typeof trackObject>;

export const newSessionResponse = z.object({ sessionId: z.string(), ...errorFields });

export const tracksRequest = z.object({
  sessionDescription: z.optional(sessionDescription),
  tracks: z.array(trackObject),
});
export type TracksRequest = z.infer<typeof tracksRequest>;

export const tracksResponse = z.object({
  requiresImmediateRenegotiation: z.optional(z.boolean()),
  sessionDescription: z.optional(sessionDescription),
  tracks: z.optional(z.array(trackObject)),
  ...errorFields,
});
export type TracksResponse = z.infer<typeof tracksResponse>;

/**
 * A `tracks/new` answer read item by item: the SFU's offer for local tracks
 * sent without one, or a pull into an existing transceiver (`mid: "#name"`).
 * Calls answers one item per requested track, so the list is required.
 */
export const tracksBatchResponse = z.extend(tracksResponse, { tracks: z.array(trackObject) });

export const renegotiateRequest = z.object({ sessionDescription });
export const renegotiateResponse = z.object({ ...errorFields });

export const closeTracksRequest = z.object({
  tracks: z.array(z.object({ mid: z.string() })),
  force: z.boolean(),
  sessionDescription: z.optional(sessionDescription),
});
export type CloseTracksRequest = z.infer<typeof closeTracksRequest>;

export const closeTracksResponse = z.object({
  sessionDescription: z.optional(sessionDescription),
  tracks: z.optional(z.array(trackObject)),
  requiresImmediateRenegotiation: z.optional(z.boolean()),
  ...errorFields,
});

export const updateTracksRequest = z.object({ tracks: z.array(trackObject) });
/** Per-item `update_track_error` for tracks that could not be updated. */
export const updateTracksResponse = z.object({
  requiresImmediateRenegotiation: z.optional(z.boolean()),
  tracks: z.optional(z.array(trackObject)),
  ...errorFields,
});

export const sessionStateResponse = z.object({
  tracks: z.optional(
    z.array(
      z.object({
        location: z.optional(z.enum(['local', 'remote'])),
        mid: z.optional(z.string()),
        trackName: z.optional(z.string()),
        sessionId: z.optional(z.string()),
        /** `active`, `inactive` or `initializing`. */
        status: z.optional(z.string()),
      }),
    ),
  ),
  ...errorFields,
});
export type SessionState = z.infer<typeof sessionStateResponse>;

export const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.optional(z.string()),
  credential: z.optional(z.string()),
});
export type IceServer = z.infer<typeof iceServer>;

export const turnCredentialsResponse = z.object({ iceServers: z.array(iceServer) });

/** At most this many tracks per call. */
export const MAX_TRACKS_PER_CALL = 64;
