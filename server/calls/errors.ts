/**
 * What a failed Calls or TURN request means for its caller:
 * - `busy`: certainly not applied; the same step may work later (429 or
 *   `retryable_transient_error` after the bounded retries, 406 while another
 *   negotiation runs, 425 while the session connects, a mutation that
 *   reconciling showed was not applied).
 * - `gone`: the session is closed, expired or unknown; only a new session helps.
 * - `rejected`: final; repeating the same request gives the same answer
 *   (`invalid_params`, `invalid_session_description`, `unauthorized`, other
 *   4xx, a body that does not parse).
 * - `uncertain`: a mutation may or may not have been applied, even after
 *   reconciling with `GET /sessions/{id}`; the caller must rebuild its view of
 *   the session instead of repeating the step. For `offerLocalTracks` (code
 *   `offer_lost` when reconciling showed the offer was made) the session has
 *   an SFU offer that nobody can answer: start over with a new session.
 */
export type CallsErrorKind = 'busy' | 'gone' | 'rejected' | 'uncertain';

export class CallsError extends Error {
  override readonly name = 'CallsError';
  constructor(
    /** HTTP status, or 0 when no response came (timeout, network, dropped response). */
    readonly status: number,
    /** The service's `errorCode`, or ours: `timeout`, `network_error`, `invalid_response`, `offer_lost`. */
    readonly code: string,
    message: string,
    readonly kind: CallsErrorKind,
    /** For `busy`: how long the service asked us to wait (`Retry-After`), 0 when it did not say. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/**
 * How one answer (or the lack of one) affects what happens next:
 * `unprocessed` failures were documented as not processed, so any request may
 * be sent again; `unknown` ones leave a mutation's outcome open (GET may be sent
 * again, a mutation must be reconciled first); `final` ones end the operation.
 */
export type Failure =
  | { type: 'unprocessed' }
  | { type: 'unknown' }
  | { type: 'final'; kind: Exclude<CallsErrorKind, 'uncertain'> };

/** Classifies an error answer by status and `errorCode` (CALLS-API.md, "Retrying"). */
export function classifyAnswer(status: number, errorCode: string | undefined): Failure {
  if (status === 429 || errorCode === 'retryable_transient_error') return { type: 'unprocessed' };
  // Calls answers 410 for a closed or expired session; 404 `session_error` for one it never had.
  if (status === 410 || (status === 404 && errorCode === 'session_error'))
    return { type: 'final', kind: 'gone' };
  // 406: another negotiation is in progress; 425: the session has not connected yet.
  if (status === 406 || status === 425) return { type: 'final', kind: 'busy' };
  if (status >= 500 || errorCode === 'internal_error' || errorCode === 'backend_error')
    return { type: 'unknown' };
  return { type: 'final', kind: 'rejected' };
}
