/**
 * One attempt to hand a message (a webhook event, a feedback report) to the
 * site owner's endpoint, and what to do next: the queue consumer (issue 10)
 * acks what was delivered and retries the rest with backoff, until the
 * last attempt sends it to the dead-letter queue. Every attempt of one message
 * carries the same `webhook-id`, so a receiver that got it before (its answer
 * lost, or too late) recognises it; with a secret it is signed
 * (`webhook-signing.ts`).
 */
import { webhookHeaders, webhookSecretProblem } from './webhook-signing.js';

export interface Delivery {
  /** The message's id: its idempotency key, the same on every attempt. */
  id: string;
  url: string;
  /** JSON. */
  body: string;
}

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /**
   * Anything but a 2xx (5xx, 4xx, a redirect, which is not followed), a
   * timeout or no connection: try again later. A receiver that refuses a
   * message may be mid-deploy or misconfigured for a while; it gets every
   * try before the message is given up on.
   */
  | { kind: 'retry'; afterSeconds: number; reason: string }
  /** Trying again cannot help: the secret cannot sign (the owner's setting, not the receiver). */
  | { kind: 'failed'; reason: string };

export interface DeliveryOptions {
  /** `WEBHOOK_SECRET`: signs the delivery when given. */
  secret?: string | undefined;
  /** 1 for the first attempt (a queue message's `attempts`). */
  attempt: number;
  /** A receiver slower than this counts as down. */
  timeoutMs?: number;
  now?: () => Date;
  random?: () => number;
}

/** First wait, and the longest: a receiver down for an hour still gets the message at its next tries. */
const FIRST_RETRY_SECONDS = 5;
const MAX_RETRY_SECONDS = 15 * 60;

/**
 * How long to wait after failed attempt `attempt` (1, 2, …): doubling from
 * 5 s up to 15 min, with a fifth of jitter so that a receiver coming back is
 * not hit by every queued message at once; never sooner than the receiver's
 * own `Retry-After`.
 */
export function retryDelaySeconds(attempt: number, retryAfterSeconds = 0, random = Math.random): number {
  const base = Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(base * (0.8 + 0.2 * random()));
  return Math.min(MAX_RETRY_SECONDS, Math.max(jittered, Math.ceil(retryAfterSeconds)));
}

export async function deliver(delivery: Delivery, options: DeliveryOptions): Promise<DeliveryOutcome> {
  const { secret, attempt, timeoutMs = 10_000, now = () => new Date(), random = Math.random } = options;
  // A secret that cannot sign is the owner's configuration, not the receiver: no attempt, and
  // no retry (each would fail alike); the reason says what to fix.
  const problem = secret === undefined ? null : webhookSecretProblem(secret);
  if (problem) return { kind: 'failed', reason: problem };
  const headers = secret
    ? webhookHeaders(secret, delivery.id, delivery.body, now())
    : { 'content-type': 'application/json', 'webhook-id': delivery.id };
  const retry = (reason: string, retryAfterSeconds = 0): DeliveryOutcome => ({
    kind: 'retry',
    afterSeconds: retryDelaySeconds(attempt, retryAfterSeconds, random),
    reason,
  });
  let response: Response;
  try {
    response = await fetch(delivery.url, {
      method: 'POST',
      headers,
      body: delivery.body,
      // A redirect could point a signed message anywhere: the owner configures the final URL.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error | undefined)?.name === 'TimeoutError';
    return retry(timedOut ? `no answer within ${timeoutMs} ms` : 'could not connect');
  }
  // The body is not needed, only that the connection is free again.
  await response.body?.cancel().catch(() => undefined);
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 300 && status < 400) return retry(`redirected (${status}): not followed`);
  return retry(`answered ${status}`, retryAfterSeconds(response.headers.get('retry-after'), now()));
}

/** `Retry-After` as seconds from now: a number of seconds or an HTTP date; 0 when absent or unreadable. */
function retryAfterSeconds(value: string | null, now: Date): number {
  if (!value) return 0;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 0 : Math.max(0, (at - now.getTime()) / 1000);
}
