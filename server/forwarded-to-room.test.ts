/**
 * What the room does with what the Worker forwards (server/room/forwarded.ts):
 * the client's address and the token's digest count towards the room's
 * connection limits, and a visitor who never joins leaves nothing stored.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, parseServerMessage, type ServerMessage } from '../src/protocol/index.js';
import { signJoinToken } from './auth/join-token.js';
import { RoomSocket } from './local/dev/room-socket.js';
import { startLocalWorker, type LocalWorker } from './local/dev/worker.js';
import { storedRooms } from './test-support.js';

const SECRET = 'forwarded-test-secret-long-enough-for-hs256';
const randomRoom = () => `r-${crypto.randomUUID()}`;

const workers: LocalWorker[] = [];
const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await Promise.all(workers.map((worker) => worker.stop()));
});

async function worker(vars: Record<string, string> = {}): Promise<LocalWorker> {
  const started = await startLocalWorker({ vars });
  workers.push(started);
  return started;
}

/** The first message a socket gets, connecting from `address` as a proxy in front of the Worker would say. */
async function firstMessage(
  server: LocalWorker,
  room: string,
  address: string,
  token?: string,
): Promise<ServerMessage> {
  const url = new URL(`/parties/room/${room}`, server.url.replace(/^http/, 'ws'));
  url.searchParams.set('v', String(PROTOCOL_VERSION));
  if (token) url.searchParams.set('token', token);
  const socket = new WebSocket(url, { headers: { 'CF-Connecting-IP': address } });
  sockets.push(socket);
  const frame = await new Promise<string>((resolve, reject) => {
    socket.once('message', (data: Buffer) => resolve(data.toString()));
    socket.once('error', reject);
  });
  const parsed = parseServerMessage(frame);
  if (!parsed.ok) throw new Error(`not a server message: ${frame}`);
  return parsed.message;
}

describe('what the Worker forwards to the room', () => {
  it('limits connections per client address', async () => {
    const server = await worker({ MAX_CONNECTIONS_PER_ADDRESS: '2' });
    const room = randomRoom();
    expect(await firstMessage(server, room, '203.0.113.9')).toMatchObject({ type: 'snapshot' });
    expect(await firstMessage(server, room, '203.0.113.9')).toMatchObject({ type: 'snapshot' });
    expect(await firstMessage(server, room, '203.0.113.9')).toMatchObject({
      type: 'error',
      code: 'too-many-connections',
    });
    expect(await firstMessage(server, room, '203.0.113.10')).toMatchObject({ type: 'snapshot' });
  });

  it('limits connections per join token', async () => {
    const server = await worker({ JOIN_SECRET: SECRET, MAX_CONNECTIONS_PER_TOKEN: '2' });
    const room = randomRoom();
    const ann = await signJoinToken({ room, name: 'Ann', role: 'host' }, SECRET, 600);
    const bob = await signJoinToken({ room, name: 'Bob', role: 'guest' }, SECRET, 600);
    // Different addresses: only the token is shared.
    expect(await firstMessage(server, room, '203.0.113.1', ann)).toMatchObject({ type: 'snapshot' });
    expect(await firstMessage(server, room, '203.0.113.2', ann)).toMatchObject({ type: 'snapshot' });
    expect(await firstMessage(server, room, '203.0.113.3', ann)).toMatchObject({
      type: 'error',
      code: 'too-many-connections',
    });
    expect(await firstMessage(server, room, '203.0.113.4', bob)).toMatchObject({ type: 'snapshot' });
  });

  it('stores nothing for a visitor who only waited in the lobby', async () => {
    const server = await worker();
    const visitor = await RoomSocket.open(server.url, randomRoom(), { heartbeatMs: 0 });
    await visitor.next('snapshot');
    await visitor.close(1001);
    expect(storedRooms(server)).toBe(0);
  });
});
