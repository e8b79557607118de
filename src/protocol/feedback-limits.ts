/**
 * The feedback API's numbers and its answer (`feedback.ts` has the
 * requests): what the widget needs to send feedback and read the answer,
 * without the request schemas, which only the Worker parses.
 */
import * as z from 'zod/mini';

/** The largest body the feedback API reads. */
export const FEEDBACK_MAX_BYTES = 32 * 1024;
export const RATING_COMMENT_MAX_LENGTH = 1_000;
export const PROBLEM_TEXT_MAX_LENGTH = 2_000;
/** Recent errors a report carries: the newest ones. */
export const DIAGNOSTIC_ERRORS_MAX = 20;
export const DIAGNOSTIC_TRACKS_MAX = 32;

/** 201: the feedback was taken, under this id (its `webhook-id` when it is delivered). */
export const feedbackResponse = z.object({ id: z.string() });

export const FEEDBACK_ERROR_CODES = [
  'invalid-request',
  'unauthorized',
  'not-in-meeting',
  'already-rated',
  'too-large',
  'feedback-rate-limited',
] as const;
