/** A Calls or TURN request that failed for good (after any retries). */
export class CallsError extends Error {
  override readonly name = 'CallsError';
  constructor(
    /** HTTP status, or 0 when no response came (timeout, network). */
    readonly status: number,
    /** The service's `errorCode`, or ours: `timeout`, `network_error`, `invalid_response`. */
    readonly code: string,
    message: string,
    /** Another try later might work (the service was busy or unreachable). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
