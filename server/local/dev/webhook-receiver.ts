/**
 * A site owner's webhook endpoint on 127.0.0.1, for tests and the delivery
 * benchmark: it checks each delivery's signature, remembers what it got by
 * `webhook-id` (the idempotency key), and fails on purpose when told to, the
 * ways a real receiver does: 5xx, an answer that comes too late, a reset
 * connection, or nobody listening at all.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type ReceiverFailure = 'status-500' | 'status-503' | 'slow' | 'reset';

export interface ReceivedDelivery {
  id: string;
  path: string;
  body: unknown;
  /** When the first copy arrived (ms since the epoch). */
  at: number;
  /** Copies that arrived (retries of one the receiver already had). */
  copies: number;
  /** Whether the signature verified with the receiver's secret (null without one). */
  verified: boolean | null;
}

export interface WebhookReceiverOptions {
  /** `WEBHOOK_SECRET`: every delivery's signature is checked with it. */
  secret?: string;
  /**
   * What to do with request number `n` (0, 1, …) of message `id`, seen for
   * the `attempt`th time: null accepts it (204).
   */
  fail?: (n: number, attempt: number) => ReceiverFailure | null;
  /** How long a `slow` answer takes (ms): longer than the Worker waits. */
  slowMs?: number;
  port?: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  /** Accepted deliveries, first copy of each, in the order they first arrived. */
  readonly delivered: ReceivedDelivery[];
  /** Requests of any outcome. */
  readonly requests: () => number;
  /** Resolves once `count` distinct messages were accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Fails from now on as `fail` says (null: accepts everything). */
  setFailure(fail: WebhookReceiverOptions['fail'] | null): void;
  /** Stops listening (connections are refused) until `listen()`. */
  stopListening(): Promise<void>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { secret, slowMs = 2_000 } = options;
  let fail = options.fail ?? (() => null);
  const verifier = secret ? new Webhook(secret) : null;
  const delivered: ReceivedDelivery[] = [];
  const byId = new Map<string, ReceivedDelivery>();
  const attempts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let requests = 0;

  const accept = (req: IncomingMessage, text: string) => {
    const id = String(req.headers['webhook-id'] ?? '');
    const known = byId.get(id);
    if (known) {
      known.copies += 1;
      return;
    }
    let verified: boolean | null = null;
    if (verifier) {
      try {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        verifier.verify(text, headers);
        verified = true;
      } catch {
        verified = false;
      }
    }
    const entry = {
      id,
      path: req.url ?? '/',
      body: JSON.parse(text) as unknown,
      at: Date.now(),
      copies: 1,
      verified,
    };
    byId.set(id, entry);
    delivered.push(entry);
    for (const wake of waiters) wake();
  };

  const handle = (req: IncomingMessage, res: ServerResponse, text: string) => {
    const n = requests++;
    const id = String(req.headers['webhook-id'] ?? '');
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    switch (fail(n, attempt)) {
      case 'status-500':
        return res.writeHead(500).end('down');
      case 'status-503':
        return res.writeHead(503).end('busy');
      case 'reset':
        return req.socket.destroy();
      case 'slow': {
        // It is taken, but the answer comes after the Worker stopped waiting: the retry is a copy.
        accept(req, text);
        const timer = setTimeout(() => {
          timers.delete(timer);
          res.writeHead(204).end();
        }, slowMs);
        timers.add(timer);
        return;
      }
      default:
        accept(req, text);
        return res.writeHead(204).end();
    }
  };

  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => handle(req, res, text));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    delivered,
    requests: () => requests,
    waitFor(count, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (delivered.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${delivered.length} of ${count} deliveries after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    setFailure(next) {
      fail = next ?? (() => null);
    },
    stopListening: stop,
    listen: () => listen(port),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      if (server.listening) await stop();
    },
  };
}
