/** Calls' rule of one negotiation at a time per session. */
import { HttpError } from './http-error.js';
import type { SfuSession } from './session.js';

/** Runs `work` as the session's only negotiation; overlapping mutations, or one while an SFU offer waits for its answer, get 406. */
export async function exclusive<T>(session: SfuSession, work: () => Promise<T>): Promise<T> {
  if (session.busy || session.offerOutstanding)
    throw new HttpError(406, 'session_error', 'another negotiation is in progress on this session');
  session.busy = true;
  try {
    return await work();
  } finally {
    session.busy = false;
  }
}
