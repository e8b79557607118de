/**
 * The delivery queue's consumer. Each message is one attempt
 * (`delivery.ts`); then:
 * - delivered: the room forgets it (and hands the queue the next of its
 *   chain), and the message is acked;
 * - anything else (the receiver down, slow, busy or refusing): the message
 *   comes back after the backoff (`msg.retry({ delaySeconds })`), up to
 *   `DELIVERY_MAX_ATTEMPTS`;
 * - out of attempts, or a setting that cannot work (no URL, a secret that
 *   cannot sign): it goes to the dead-letter queue,
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
  const settlements = new Settlements(env);
  if (batch.queue === DEAD_LETTER_QUEUE) {
    for (const message of batch.messages) fileDeadLetter(message, settlements);
  } else {
    // One slow receiver must not hold the others: a batch's messages go out together.
    await Promise.all(batch.messages.map((message) => attempt(message, env, settlements)));
  }
  await settlements.send();
}

/**
 * What the batch settled, told to each room in one call; a message is acked
 * only once its room has heard, and retried whole if the room could not be
 * reached (a receiver that got it sees the same webhook-id twice).
 */
class Settlements {
  readonly #byRoom = new Map<string, { message: Message<unknown>; id: string; settlement: Settlement }[]>();

  constructor(private readonly env: Env) {}

  add(message: Message<unknown>, delivery: QueuedDelivery, settlement: Settlement): void {
    const list = this.#byRoom.get(delivery.room) ?? [];
    list.push({ message, id: delivery.id, settlement });
    this.#byRoom.set(delivery.room, list);
  }

  async send(): Promise<void> {
    await Promise.all(
      [...this.#byRoom].map(async ([room, list]) => {
        try {
          await this.env.Room.getByName(room).settled(list.map(({ id, settlement }) => ({ id, settlement })));
          for (const { message } of list) message.ack();
        } catch (error) {
          console.error(`deliveries: could not tell room ${room}`, error);
          for (const { message } of list) message.retry();
        }
      }),
    );
  }
}

async function attempt(message: Message<unknown>, env: Env, settlements: Settlements): Promise<void> {
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
    if (outcome.kind === 'delivered') return settlements.add(message, delivery, { delivered: true });
    if (outcome.kind === 'failed') return await giveUp(message, env, delivery, outcome.reason);
    if (message.attempts >= maxAttempts) {
      return await giveUp(message, env, delivery, `${outcome.reason}, ${message.attempts} attempts`);
    }
    const fixed = env.DELIVERY_RETRY_SECONDS;
    message.retry({
      delaySeconds: fixed !== undefined && fixed !== '' ? Number(fixed) : outcome.afterSeconds,
    });
  } catch (error) {
    // The dead-letter queue could not be reached: the whole attempt comes again.
    console.error('deliveries: could not give up on', delivery.id, error);
    message.retry();
  }
}

async function giveUp(message: Message<unknown>, env: Env, delivery: QueuedDelivery, reason: string) {
  await env.DELIVERIES_DEAD.send({ ...delivery, reason, attempts: message.attempts } satisfies DeadDelivery);
  message.ack();
}

function fileDeadLetter(message: Message<unknown>, settlements: Settlements): void {
  const parsed = deadDelivery.safeParse(message.body);
  if (!parsed.success) return message.ack();
  const { reason, attempts } = parsed.data;
  // Without a reason it came from the queue itself, after its own `max_retries`.
  settlements.add(message, parsed.data, {
    dead: reason ?? 'the queue gave up after its last retry',
    attempts: attempts ?? message.attempts,
  });
}
