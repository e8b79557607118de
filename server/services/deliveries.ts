/**
 * The delivery queue's consumer. Each message is one attempt
 * (`delivery.ts`); then:
 * - delivered: the room forgets it (and hands the queue the next of its
 *   chain), and the message is acked;
 * - the receiver was down, slow or busy: the message comes back after the
 *   backoff (`msg.retry({ delaySeconds })`), up to `DELIVERY_MAX_ATTEMPTS`;
 * - refused for good, or out of attempts: it goes to the dead-letter queue,
 *   whose consumer files it with its room, where hosts see it.
 * The queue's own `max_retries` and `dead_letter_queue` (wrangler.jsonc)
 * catch what this cannot: a consumer that keeps failing before it decides.
 */
import * as z from 'zod/mini';
import type { Env } from '../env.js';
import { numberVar } from '../room/limits.js';
import { deliver } from './delivery.js';
import { queuedDelivery, targetUrl, type QueuedDelivery } from './outbound.js';

export const DELIVERY_QUEUE = 'meetkit-deliveries';
export const DEAD_LETTER_QUEUE = 'meetkit-deliveries-dead';
/**
 * Attempts before a message is given up on: with the backoff of
 * `delivery.ts` (5 s doubling to 15 min), 20 attempts span about three
 * hours, so a receiver down for a deploy or an outage still gets everything.
 */
export const DEFAULT_MAX_ATTEMPTS = 20;

/** What the dead-letter queue carries: the message, and why it was given up on. */
const deadDelivery = z.object({
  ...queuedDelivery.shape,
  reason: z.optional(z.string()),
  attempts: z.optional(z.number()),
});
type DeadDelivery = z.infer<typeof deadDelivery>;

export type Settlement = { delivered: true } | { dead: string; attempts: number };

export async function handleDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const handle = batch.queue === DEAD_LETTER_QUEUE ? fileDeadLetter : attempt;
  // One slow receiver must not hold the others: a batch's messages go out together.
  await Promise.all(batch.messages.map((message) => handle(message, env)));
}

async function attempt(message: Message<unknown>, env: Env): Promise<void> {
  const parsed = queuedDelivery.safeParse(message.body);
  if (!parsed.success) {
    console.error('deliveries: not a delivery, dropped', parsed.error.issues[0]?.message);
    return message.ack();
  }
  const delivery = parsed.data;
  const url = targetUrl(env, delivery.target);
  const maxAttempts = numberVar(env.DELIVERY_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS);
  try {
    if (!url) {
      const setting = delivery.target === 'webhook' ? 'WEBHOOK_URL' : 'FEEDBACK_URL';
      return await giveUp(message, env, delivery, `${setting} is not set to an http(s) URL`);
    }
    const outcome = await deliver(
      { id: delivery.id, url, body: delivery.body },
      {
        secret: env.WEBHOOK_SECRET || undefined,
        attempt: message.attempts,
        timeoutMs: numberVar(env.DELIVERY_TIMEOUT_MS, 10_000),
      },
    );
    if (outcome.kind === 'delivered') {
      await settle(env, delivery, { delivered: true });
      return message.ack();
    }
    if (outcome.kind === 'failed') return await giveUp(message, env, delivery, outcome.reason);
    if (message.attempts >= maxAttempts) {
      return await giveUp(message, env, delivery, `${outcome.reason}, ${message.attempts} attempts`);
    }
    const fixed = env.DELIVERY_RETRY_SECONDS;
    message.retry({
      delaySeconds: fixed !== undefined && fixed !== '' ? Number(fixed) : outcome.afterSeconds,
    });
  } catch (error) {
    // The room or the dead-letter queue could not be reached: the whole attempt comes again
    // (a receiver that got it sees the same webhook-id twice).
    console.error('deliveries: could not settle', delivery.id, error);
    message.retry();
  }
}

async function giveUp(message: Message<unknown>, env: Env, delivery: QueuedDelivery, reason: string) {
  await env.DELIVERIES_DEAD.send({ ...delivery, reason, attempts: message.attempts } satisfies DeadDelivery);
  message.ack();
}

async function fileDeadLetter(message: Message<unknown>, env: Env): Promise<void> {
  const parsed = deadDelivery.safeParse(message.body);
  if (!parsed.success) return message.ack();
  const { reason, attempts } = parsed.data;
  try {
    // Without a reason it came from the queue itself, after its own `max_retries`.
    await settle(env, parsed.data, {
      dead: reason ?? 'the queue gave up after its last retry',
      attempts: attempts ?? message.attempts,
    });
    message.ack();
  } catch (error) {
    console.error('deliveries: could not file a dead letter', parsed.data.id, error);
    message.retry();
  }
}

const settle = (env: Env, delivery: QueuedDelivery, settlement: Settlement) =>
  env.Room.getByName(delivery.room).settled(delivery.id, settlement);
