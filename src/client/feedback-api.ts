/**
 * The browser's side of the feedback API (`src/protocol/feedback.ts`): a
 * rating after a meeting, or a problem report with its diagnostics, posted
 * with the room connection's key like the media API. The connection stays
 * open in the lobby, so a visitor who has left can still rate the meeting
 * they were in. Nothing is retried: the visitor decides whether to send
 * again (a rate limit says when in `retryAfterMs`). The meeting loads this
 * module when first asked.
 */
import type { FeedbackRequest } from '../protocol/feedback.js';
import * as feedback from '../protocol/feedback-limits.js';
import { postWithKey, type ApiCredentials } from './api-request.js';

/**
 * The codes of `feedback.FEEDBACK_ERROR_CODES`, and the ones of this side:
 * `not-connected` (no room connection yet), `network` (no answer), `http`
 * and `invalid-response` (an answer that is not the API's).
 */
export type FeedbackErrorCode =
  | (typeof feedback.FEEDBACK_ERROR_CODES)[number]
  | 'not-connected'
  | 'network'
  | 'http'
  | 'invalid-response';

/** Feedback that was not taken, with a message a person can read. */
export class FeedbackError extends Error {
  override readonly name = 'FeedbackError';
  constructor(
    /** The HTTP status; 0 when the server did not answer. */
    readonly status: number,
    readonly code: FeedbackErrorCode | (string & {}),
    message: string,
    /** How long the server asked to wait before sending again (`Retry-After`), if it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Sends a rating or a problem report to the room's feedback API; resolves with
 * the id the server gave it. The server parses the request whole (and says
 * what is wrong, as `invalid-request`); here only the answer is parsed, as
 * with the media API, so that the schemas of what is sent stay out of the
 * widget. Only the size is checked first: a report too large is said without
 * sending it.
 */
export async function sendFeedback(
  server: string,
  room: string,
  credentials: ApiCredentials | null,
  body: FeedbackRequest,
): Promise<string> {
  if (new TextEncoder().encode(JSON.stringify(body)).byteLength > feedback.FEEDBACK_MAX_BYTES)
    throw new FeedbackError(413, 'too-large', 'This report is too large to send');
  const url = new URL(`/api/rooms/${encodeURIComponent(room)}/feedback`, server);
  const { id } = await postWithKey(url, credentials, body, feedback.feedbackResponse, FeedbackError);
  return id;
}
