/**
 * Room fan-out: N clients in one room, one at a time changes its state; how
 * long until every other client has the change, and how many bytes each
 * receives for it. Runs against the real Worker (`wrangler dev`) over
 * loopback, once with our deltas and once with the baseline that sends the
 * whole room per change (Orange's design, `benchmarks/whole-room/`). The
 * changes come from ten participants in turn, so that none of them goes over
 * what the room lets one participant send to everyone (2 a second after a
 * burst): this measures fan-out, not the flood protection.
 */
import WebSocket from 'ws';
import { PING_FRAME, PROTOCOL_VERSION } from '../src/protocol/index.js';

export interface FanoutOptions {
  serverUrl: string;
  mode: 'delta' | 'snapshot';
  clients: number;
  changes: number;
  /** Time between changes (each of the ten changers waits ten times this). */
  spacingMs: number;
}

export interface FanoutResult {
  mode: 'delta' | 'snapshot';
  clients: number;
  /** Delivery latency over every (change, recipient) pair, ms. */
  p50: number;
  p99: number;
  /** Bytes one recipient receives for one change. */
  bytesPerRecipient: number;
  /** Bytes the room sends for one change, all recipients together. */
  bytesPerChange: number;
  /** Deliveries that did not arrive within the deadline. */
  missing: number;
}

interface Client {
  ws: WebSocket;
  id: string;
  /** Called with (bytes, arrival time) for each frame that carries the change. */
  onChange?: (bytes: number, at: number) => void;
}

const DELIVERY_DEADLINE_MS = 5_000;

function connect(
  serverUrl: string,
  room: string,
  name: string,
  mode: FanoutOptions['mode'],
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const url = `${serverUrl.replace(/^http/, 'ws')}/parties/room/${room}?v=${PROTOCOL_VERSION}`;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client: Client = { ws, id: '' };
    let joined = false;
    const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING_FRAME), 5_000);
    ws.on('close', () => clearInterval(heartbeat));
    ws.on('error', reject);
    ws.on('message', (raw: Buffer) => {
      const at = performance.now();
      // Cheap prefix checks keep the measuring client from adding parse time per frame.
      const text = raw.toString();
      if (!client.id) {
        if (!text.startsWith('{"type":"snapshot"')) return;
        client.id = (JSON.parse(text) as { selfId: string }).selfId;
        ws.send(JSON.stringify({ type: 'join', name }));
        return;
      }
      const carriesChange =
        mode === 'delta'
          ? text.startsWith('{"type":"participant-updated"')
          : text.startsWith('{"type":"snapshot"');
      if (carriesChange) client.onChange?.(raw.byteLength, at);
      // Joined once the room lists this client (a delta, or in the baseline a whole room).
      const announces = mode === 'delta' ? '{"type":"participant-joined"' : '{"type":"snapshot"';
      if (!joined && text.startsWith(announces) && text.includes(`{"id":"${client.id}"`)) {
        joined = true;
        resolve(client);
      }
    });
  });
}

async function connectAll(options: FanoutOptions, room: string): Promise<Client[]> {
  const clients: Client[] = [];
  // Bounded concurrency: a few at a time, as people arrive.
  const batch = 20;
  for (let i = 0; i < options.clients; i += batch) {
    const size = Math.min(batch, options.clients - i);
    clients.push(
      ...(await Promise.all(
        Array.from({ length: size }, (_, k) => connect(options.serverUrl, room, `P${i + k}`, options.mode)),
      )),
    );
  }
  return clients;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function runFanout(options: FanoutOptions): Promise<FanoutResult> {
  const room = `bench-${options.mode}-${options.clients}-${Date.now().toString(36)}`;
  const clients = await connectAll(options, room);
  const changers = clients.slice(0, Math.min(10, clients.length - 1));
  // Let the join burst settle so it does not count as fan-out of the first change.
  await new Promise((r) => setTimeout(r, 300));

  const latencies: number[] = [];
  let bytes = 0;
  let missing = 0;
  try {
    for (let change = 0; change < options.changes; change++) {
      const changer = changers[change % changers.length]!;
      const recipients = clients.filter((client) => client !== changer);
      const sentAt = performance.now();
      const pending = new Set(recipients);
      const allArrived = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          missing += pending.size;
          resolve();
        }, DELIVERY_DEADLINE_MS);
        for (const recipient of recipients) {
          recipient.onChange = (size, at) => {
            if (!pending.has(recipient)) return;
            pending.delete(recipient);
            latencies.push(at - sentAt);
            bytes += size;
            if (pending.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          };
        }
      });
      const turn = Math.floor(change / changers.length);
      changer.ws.send(JSON.stringify({ type: 'update', changes: { handRaised: turn % 2 === 0 } }));
      await allArrived;
      const elapsed = performance.now() - sentAt;
      if (elapsed < options.spacingMs) await new Promise((r) => setTimeout(r, options.spacingMs - elapsed));
    }
  } finally {
    await Promise.all(
      clients.map(
        (client) =>
          new Promise<void>((resolve) => {
            client.ws.once('close', () => resolve());
            client.ws.terminate();
          }),
      ),
    );
  }
  latencies.sort((a, b) => a - b);
  const deliveries = options.changes * (clients.length - 1) - missing;
  return {
    mode: options.mode,
    clients: options.clients,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bytesPerRecipient: deliveries ? bytes / deliveries : NaN,
    bytesPerChange: bytes / options.changes,
    missing,
  };
}
