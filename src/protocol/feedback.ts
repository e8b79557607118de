/**
 * Feedback from a visitor: a rating after a meeting, or a problem report
 * with diagnostics the visitor saw before sending. `POST
 * /api/rooms/<room>/feedback` with `Authorization: Bearer
 * <participantId>.<mediaKey>`, like the media API: the room, not the body,
 * says who sent it and which meeting it is about. It reaches the site
 * owner's `FEEDBACK_URL` through the delivery queue, and the room keeps it
 * for its meeting history.
 *
 * Answers: 201 `{ id }`; 400 `invalid-request`; 401 `unauthorized`; 403
 * `not-in-meeting` (a rating for a meeting this connection was not in); 409
 * `already-rated`; 413 `too-large`; 429 `feedback-rate-limited` with
 * `Retry-After`.
 */
import * as z from 'zod/mini';

import {
  DIAGNOSTIC_ERRORS_MAX,
  DIAGNOSTIC_TRACKS_MAX,
  PROBLEM_TEXT_MAX_LENGTH,
  RATING_COMMENT_MAX_LENGTH,
} from './feedback-limits.js';

export * from './feedback-limits.js';

const text = (max: number) => z.string().check(z.trim(), z.maxLength(max));
const meetingId = z.string().check(z.minLength(1), z.maxLength(64));
const count = z.number().check(z.nonnegative());

/** One track of this visitor's media connection, from `getStats()`. */
export const trackDiagnostics = z.object({
  direction: z.enum(['outbound', 'inbound']),
  kind: z.enum(['audio', 'video']),
  /** The transceiver's mid; null before negotiation. */
  mid: z.nullable(text(32)),
  /** Whose track: `camera`, `microphone`, `screen` for one's own; a participant id for pulled ones. */
  source: z.optional(text(64)),
  width: z.optional(count),
  height: z.optional(count),
  bitrateKbps: z.optional(count),
  /** Fraction of packets lost, 0–1. */
  packetLoss: z.optional(z.number().check(z.gte(0), z.lte(1))),
  roundTripMs: z.optional(count),
});
export type TrackDiagnostics = z.infer<typeof trackDiagnostics>;

/**
 * What a problem report (and the debug overlay) shows: this visitor's own
 * view only. No media, nothing of other participants but the ids of tracks
 * they pulled.
 */
export const diagnostics = z.object({
  /** `navigator.userAgent`. */
  browser: text(400),
  meetingId: z.nullable(meetingId),
  /** This visitor's Calls session. */
  callsSessionId: z.nullable(text(64)),
  /** `connected`, `reconnecting`, … of the room connection, and of the media connection. */
  room: text(32),
  media: text(32),
  errors: z
    .array(z.object({ at: count, code: text(64), message: text(300) }))
    .check(z.maxLength(DIAGNOSTIC_ERRORS_MAX)),
  tracks: z.array(trackDiagnostics).check(z.maxLength(DIAGNOSTIC_TRACKS_MAX)),
});
export type Diagnostics = z.infer<typeof diagnostics>;

export const ratingFeedback = z.object({
  kind: z.literal('rating'),
  /** The meeting being rated; the room checks this visitor was in it. */
  meetingId,
  rating: z.number().check(z.int(), z.gte(1), z.lte(5)),
  comment: z.optional(text(RATING_COMMENT_MAX_LENGTH)),
});

export const problemReport = z.object({
  kind: z.literal('problem'),
  text: z
    .string()
    .check(
      z.trim(),
      z.minLength(1, 'Say what went wrong'),
      z.maxLength(PROBLEM_TEXT_MAX_LENGTH, `Say it in at most ${PROBLEM_TEXT_MAX_LENGTH} characters`),
    ),
  diagnostics,
});

export const feedbackRequest = z.discriminatedUnion('kind', [ratingFeedback, problemReport]);
export type FeedbackRequest = z.infer<typeof feedbackRequest>;
