/**
 * Signs what the Worker posts to a site owner's endpoint (`WEBHOOK_URL`,
 * issue 10) the Standard Webhooks way, the scheme Svix uses (Stripe's is the
 * same idea), with its reference library. Three headers:
 * - `webhook-id`: the event's own id, the same on every retry of it, so a
 *   receiver recognises a delivery it already has (the idempotency key);
 * - `webhook-timestamp`: Unix seconds, inside the signature, so a captured
 *   delivery cannot be replayed later (receivers refuse five minutes off);
 * - `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of
 *   `id.timestamp.body` with the shared secret.
 * A receiver checks them with any Standard Webhooks library:
 * `new Webhook(secret).verify(body, headers)`.
 */
import { Webhook } from 'standardwebhooks';

/** `WEBHOOK_SECRET`: `whsec_` and the base64 of at least this many random bytes. */
export const MIN_SECRET_BYTES = 24;

/** What is wrong with a `WEBHOOK_SECRET`, or null when it can sign. */
export function webhookSecretProblem(secret: string | undefined): string | null {
  const encoded = secret?.startsWith('whsec_') ? secret.slice('whsec_'.length) : null;
  if (!encoded) return 'WEBHOOK_SECRET must start with whsec_ (then base64), e.g. whsec_ and 32 random bytes';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0)
    return 'WEBHOOK_SECRET is not base64 after whsec_';
  if (atob(encoded).length < MIN_SECRET_BYTES)
    return `WEBHOOK_SECRET is too short: use at least ${MIN_SECRET_BYTES} random bytes`;
  return null;
}

/** The headers that sign `body` as event `id`, sent at `at` (a retry signs again, with its own time). */
export function webhookHeaders(secret: string, id: string, body: string, at: Date): Record<string, string> {
  const problem = webhookSecretProblem(secret);
  if (problem) throw new Error(problem);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}
