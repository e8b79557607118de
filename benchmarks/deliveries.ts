/**
 * The delivery path, end to end: visitors post problem reports to the
 * feedback API (the clock starts as each POST is sent), the room keeps them
 * and hands them to the local queue, the consumer posts them to a receiver
 * on 127.0.0.1. Per message: POST sent → first copy at the receiver. With a
 * receiver that answers every request, and one that fails every other one
 * (500 or a reset connection, alternately), side by side in alternating runs.
 *
 * Failed attempts come back after `retrySeconds` (DELIVERY_RETRY_SECONDS)
 * rather than the production backoff (5 s, jittered, doubling), so that the
 * figure is the queue path's and not the backoff policy's; the report says so.
 */
import { NO_DIAGNOSTICS, postFeedback } from '../server/local/dev/feedback-client.js';
import { RoomSocket } from '../server/local/dev/room-socket.js';
import { startWebhookReceiver, type WebhookReceiver } from '../server/local/dev/webhook-receiver.js';
import { startLocalWorker, type LocalWorker } from '../server/local/dev/worker.js';

export interface DeliveryRun {
  failureRate: number;
  messages: number;
  /** Messages delivered per second, from the first POST to the last arrival. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** POST sent → its 201, median: what the visitor waits for. */
  answerP50Ms: number;
  /**
   * The same number of `GET /api/rooms/<room>` at once, median: the cost of
   * any request into one room on this machine (wrangler dev's proxy, workerd),
   * the floor under `answerP50Ms`.
   */
  summaryP50Ms: number;
  /** Requests the receiver got (failed ones included). */
  requests: number;
}

/** The feedback API takes 5 reports at once from one connection. */
const PER_CONNECTION = 5;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export interface DeliveryScenario {
  failureRate: 0 | 0.5;
  worker: LocalWorker;
  receiver: WebhookReceiver;
  close(): Promise<void>;
}

export async function startDeliveryScenario(
  failureRate: 0 | 0.5,
  retrySeconds: number,
): Promise<DeliveryScenario> {
  const receiver = await startWebhookReceiver({
    fail: (n) => (failureRate > 0 && n % 2 === 1 ? (n % 4 === 1 ? 'status-500' : 'reset') : null),
  });
  const worker = await startLocalWorker({
    vars: {
      FEEDBACK_URL: `${receiver.url}/feedback`,
      DELIVERY_RETRY_SECONDS: String(retrySeconds),
      MAX_CONNECTIONS_PER_ADDRESS: '1000',
    },
  });
  return {
    failureRate,
    worker,
    receiver,
    async close() {
      await worker.stop();
      await receiver.close();
    },
  };
}

export async function measureDeliveries(scenario: DeliveryScenario, messages: number): Promise<DeliveryRun> {
  const { worker, receiver } = scenario;
  const room = `bench-deliveries-${crypto.randomUUID()}`;
  const connections = Math.ceil(messages / PER_CONNECTION);
  const sockets = await Promise.all(
    Array.from({ length: connections }, () => RoomSocket.open(worker.url, room)),
  );
  await Promise.all(sockets.map((socket) => socket.next('snapshot')));
  const already = receiver.delivered.length;
  const requestsBefore = receiver.requests();
  const sentAt = new Map<string, number>();
  const answerMs: number[] = [];
  const start = Date.now();
  try {
    await Promise.all(
      Array.from({ length: messages }, async (_, i) => {
        const socket = sockets[i % connections]!;
        const at = Date.now();
        const { status, id } = await postFeedback(worker.url, room, socket, {
          kind: 'problem',
          text: `report ${i}`,
          diagnostics: NO_DIAGNOSTICS,
        });
        if (status !== 201 || !id) throw new Error(`feedback answered ${status}`);
        sentAt.set(id, at);
        answerMs.push(Date.now() - at);
      }),
    );
    await receiver.waitFor(already + messages, 300_000);
  } finally {
    for (const socket of sockets) socket.terminate();
  }
  const arrivals = receiver.delivered.slice(already);
  const summaryMs = await Promise.all(
    Array.from({ length: messages }, async () => {
      const at = Date.now();
      await (await fetch(`${worker.url}/api/rooms/${room}`)).json();
      return Date.now() - at;
    }),
  );
  const latencies = arrivals.map((d) => d.at - sentAt.get(d.id)!).sort((a, b) => a - b);
  const end = Math.max(...arrivals.map((d) => d.at));
  return {
    failureRate: scenario.failureRate,
    messages,
    perSecond: messages / ((end - start) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    answerP50Ms: percentile(
      answerMs.sort((a, b) => a - b),
      50,
    ),
    summaryP50Ms: percentile(
      summaryMs.sort((a, b) => a - b),
      50,
    ),
    requests: receiver.requests() - requestsBefore,
  };
}
