/**
 * A token bucket: `burst` at once, refilled at `perSecond`. In memory only:
 * it resets if the room hibernates, which only happens when nobody is
 * sending anything.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Tokens there are now (negative after `spend` went over). */
  available(now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#updatedAt) / 1000) * this.perSecond);
    this.#updatedAt = now;
    return this.#tokens;
  }

  /** Takes `count` tokens if there are that many. */
  take(now: number, count = 1): boolean {
    if (this.available(now) < count) return false;
    this.#tokens -= count;
    return true;
  }

  /** Takes `count` tokens whether or not they are there: what had to be done anyway still counts. */
  spend(now: number, count: number): void {
    this.available(now);
    this.#tokens -= count;
  }

  /** Gives back a token taken for something that did not happen after all. */
  refund(now: number): void {
    this.#tokens = Math.min(this.burst, this.available(now) + 1);
  }

  /** Milliseconds until `count` tokens are there. */
  waitFor(now: number, count = 1): number {
    const missing = count - this.available(now);
    return missing <= 0 ? 0 : Math.ceil((missing / this.perSecond) * 1000);
  }
}
