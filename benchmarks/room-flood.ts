/**
 * A room under one client's flood: hundreds of connections from several
 * addresses, each under its own rate limit, some of them sending changes as
 * fast as they may; meanwhile a legitimate participant changes their camera
 * every 600 ms and another one measures how long each change takes to reach
 * them. Run side by side with the same room and no flood. Also: the defect's
 * setup (300 connections with one reused join token) and what the room
 * refuses of it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { signJoinToken } from '../server/auth/join-token.js';
import { trackProcessGroup } from '../server/local/dev/processes.js';
import { projectRoot } from '../server/local/dev/worker.js';
import type { AttackPlan } from './flood-attacker.js';
import { PING_FRAME, PROTOCOL_VERSION, type ServerMessage } from '../src/protocol/index.js';

export interface FloodOptions {
  serverUrl: string;
  /** Connections of the attacker (they join, and most stay quiet). */
  connections: number;
  /** How many of them send changes, each at `floodRate` per second. */
  flooders: number;
  floodRate: number;
  /** How long the legitimate participant keeps changing their camera (ms). */
  durationMs: number;
  /** Spread the attacker over this many loopback addresses (127.0.1.x). */
  addresses: number;
}

export interface FloodResult {
  flooders: number;
  admitted: number;
  refused: Record<string, number>;
  /** Delivery latency of the legitimate participant's changes to the other one (ms). */
  p50: number;
  p99: number;
  samples: number;
  missing: number;
  /** The legitimate participants were never timed out or disconnected. */
  legitimateStayed: boolean;
  /** Changes from flooders the observer received per second (what the room let through). */
  floodDeltasPerSecond: number;
}

interface Client {
  ws: WebSocket;
  id: string;
  messages: (message: ServerMessage, at: number) => void;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Connects and joins; resolves with the client, or with the error code the room refused it with. */
function connect(
  serverUrl: string,
  room: string,
  name: string,
  { localAddress, token }: { localAddress?: string; token?: string } = {},
): Promise<Client | { refused: string }> {
  return new Promise((resolve) => {
    const url = new URL(`/parties/room/${room}`, serverUrl.replace(/^http/, 'ws'));
    url.searchParams.set('v', String(PROTOCOL_VERSION));
    if (token) url.searchParams.set('token', token);
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    const client: Client = { ws, id: '', messages: () => {} };
    const heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING_FRAME), 5_000);
    ws.on('close', () => clearInterval(heartbeat));
    ws.on('error', () => resolve({ refused: 'network' }));
    ws.on('message', (raw: Buffer) => {
      const at = performance.now();
      const message = JSON.parse(raw.toString()) as ServerMessage;
      if (message.type === 'error' && !client.id) return resolve({ refused: message.code });
      if (message.type === 'snapshot') {
        client.id = message.selfId;
        ws.send(JSON.stringify({ type: 'join', name }));
      }
      if (message.type === 'participant-joined' && message.participant.id === client.id) resolve(client);
      client.messages(message, at);
    });
  });
}

const isClient = (c: Client | { refused: string }): c is Client => 'ws' in c;

export async function runFlood(options: FloodOptions): Promise<FloodResult> {
  const room = `flood-${options.flooders}-${Date.now().toString(36)}`;
  const observer = await connect(options.serverUrl, room, 'Observer');
  const legit = await connect(options.serverUrl, room, 'Legit');
  if (!isClient(observer) || !isClient(legit)) throw new Error('the legitimate participants were refused');
  let legitimateStayed = true;
  let measuring = true;
  for (const client of [observer, legit])
    client.ws.on('close', () => {
      if (measuring) legitimateStayed = false;
    });

  const attacker = startAttacker({
    serverUrl: options.serverUrl,
    room,
    connections: options.connections,
    flooders: options.flooders,
    rate: options.floodRate,
    addresses: options.addresses,
  });
  const { admitted, refused, flooderIds } = await attacker.ready;
  const floodIds = new Set(flooderIds);
  // Let the joins settle: they are not what is measured.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  attacker.send('go');

  let floodDeltas = 0;
  const sentAt = new Map<boolean, number>();
  const latencies: number[] = [];
  observer.messages = (message, at) => {
    if (message.type !== 'participant-updated') return;
    if (floodIds.has(message.id)) floodDeltas += 1;
    if (message.id !== legit.id || message.changes.camera === undefined) return;
    const start = sentAt.get(message.changes.camera);
    if (start === undefined) return;
    sentAt.delete(message.changes.camera);
    latencies.push(at - start);
  };

  const started = performance.now();
  let camera = false;
  let sent = 0;
  while (performance.now() - started < options.durationMs) {
    camera = !camera;
    sentAt.set(camera, performance.now());
    legit.ws.send(JSON.stringify({ type: 'update', changes: { camera } }));
    sent += 1;
    // About as often as a person could click, under the per-participant budget (2 a second).
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const elapsedSeconds = (performance.now() - started) / 1000;
  measuring = false;
  await attacker.stop();
  await Promise.all(
    [observer, legit].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.ws.once('close', () => resolve());
          client.ws.terminate();
        }),
    ),
  );

  latencies.sort((a, b) => a - b);
  return {
    flooders: options.flooders,
    admitted,
    refused,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    samples: latencies.length,
    missing: sent - latencies.length,
    legitimateStayed,
    floodDeltasPerSecond: floodDeltas / elapsedSeconds,
  };
}

/** The attacker's process (`flood-attacker.ts`), at the lowest CPU priority. */
function startAttacker(plan: AttackPlan) {
  const child = spawn(
    'nice',
    [
      '-n',
      '19',
      process.execPath,
      '--import',
      'tsx',
      join(projectRoot, 'benchmarks/flood-attacker.ts'),
      JSON.stringify(plan),
    ],
    { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'], detached: true },
  );
  trackProcessGroup(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<{ admitted: number; refused: Record<string, number>; flooderIds: string[] }>(
    (resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => resolve(JSON.parse(line) as Awaited<typeof ready>));
      void exited.then(() => reject(new Error('the attacker process exited')));
    },
  );
  return {
    ready,
    send: (line: string) => child.stdin.write(`${line}\n`),
    async stop() {
      child.stdin.write('stop\n');
      await exited;
    },
  };
}

/** The defect's setup: `connections` sockets with one reused join token; how many the room lets in. */
export async function reusedToken(
  serverUrl: string,
  secret: string,
  connections: number,
): Promise<{ admitted: number; refused: Record<string, number> }> {
  const room = `token-flood-${Date.now().toString(36)}`;
  const token = await signJoinToken({ room, name: 'Mallory', role: 'guest' }, secret, 3_600);
  const refused: Record<string, number> = {};
  const admitted: Client[] = [];
  for (let i = 0; i < connections; i += 25) {
    const made = await Promise.all(
      Array.from({ length: Math.min(25, connections - i) }, () => connect(serverUrl, room, 'x', { token })),
    );
    for (const c of made) {
      if (isClient(c)) admitted.push(c);
      else refused[c.refused] = (refused[c.refused] ?? 0) + 1;
    }
  }
  for (const client of admitted) client.ws.terminate();
  return { admitted: admitted.length, refused };
}
