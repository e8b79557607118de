/**
 * One negotiation at a time: every change of a peer connection's session
 * (an offer, an answer, a close) runs after the one before has finished,
 * failed or not, because Calls answers overlapping negotiations with 406.
 */
export interface NegotiationQueue {
  /** Runs `work` after everything queued before it; its result (or error) is the caller's. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void>;
}

export function createNegotiationQueue(): NegotiationQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(work) {
      const result = tail.then(work, work);
      tail = result.catch(() => undefined);
      return result;
    },
    idle: () => tail.then(() => undefined),
  };
}
