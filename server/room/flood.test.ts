/**
 * A room under one client's flood: many connections, each under its own
 * rate limit, some sending changes as fast as they may. The legitimate
 * participants' changes all arrive, nobody pinging is timed out, the flood
 * reaches the others only at the room's pace, and a full room says so.
 * (How fast the legitimate changes arrive is measured by `npm run bench --
 * --suites flood`, not here.)
 */
import { describe, expect, it } from 'vitest';
import { RoomSocket } from '../local/dev/room-socket.js';
import { freshRoom, useWorker } from '../test-support.js';

const ROOM_CAPACITY = 40;
const worker = useWorker({
  vars: {
    MAX_CONNECTIONS_PER_ROOM: String(ROOM_CAPACITY),
    HEARTBEAT_TIMEOUT_MS: '3000',
    SWEEP_INTERVAL_MS: '500',
  },
});

/** A participant connecting from its own loopback address, pinging every 500 ms. */
async function member(room: string, name: string, index: number): Promise<RoomSocket> {
  const socket = await RoomSocket.open(worker().url, room, {
    heartbeatMs: 500,
    localAddress: `127.0.2.${(index % 250) + 1}`,
  });
  await socket.join(name);
  return socket;
}

describe('a flood', () => {
  it('does not stall the room: every legitimate change arrives, nobody pinging is timed out', async () => {
    const room = freshRoom('flood');
    const observer = await member(room, 'Observer', 0);
    const legit = await member(room, 'Legit', 1);
    const bots = await Promise.all(Array.from({ length: 30 }, (_, i) => member(room, `Bot ${i}`, i + 2)));
    const flooders = bots.slice(0, 10);
    const floodIds = new Set(flooders.map((bot) => bot.selfId));
    let raised = false;
    const flood = setInterval(() => {
      raised = !raised;
      for (const bot of flooders) bot.send({ type: 'update', changes: { handRaised: raised } });
    }, 1_000 / 15);
    const startedAt = Date.now();
    try {
      // Ten camera changes, two a second: about as often as a person clicks.
      for (let i = 0; i < 10; i++) {
        legit.send({ type: 'update', changes: { camera: i % 2 === 0 } });
        await observer.next(
          'participant-updated',
          (m) => m.id === legit.selfId && m.changes.camera === (i % 2 === 0),
          2_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      clearInterval(flood);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    // Each flooder reached the others with a burst, then about two merged changes a second.
    const fromFlood = observer.received.filter((m) => m.type === 'participant-updated' && floodIds.has(m.id));
    expect(fromFlood.length).toBeLessThanOrEqual(flooders.length * (8 + 2 * seconds + 1));
    expect(fromFlood.length).toBeGreaterThan(0);
    // Nobody was timed out or dropped: the observer saw no leave and no reconnecting.
    expect(observer.received.filter((m) => m.type === 'participant-left')).toEqual([]);
    expect(
      observer.received.filter((m) => m.type === 'participant-updated' && m.changes.reconnecting),
    ).toEqual([]);
    for (const socket of [observer, legit, ...bots]) socket.terminate();
  }, 60_000);

  it('tells a connection over the room capacity that the room is full', async () => {
    const room = freshRoom('full');
    const sockets = await Promise.all(
      Array.from({ length: ROOM_CAPACITY }, (_, i) =>
        RoomSocket.open(worker().url, room, { localAddress: `127.0.3.${i + 1}` }),
      ),
    );
    const late = await RoomSocket.open(worker().url, room, { heartbeatMs: 0 });
    expect(await late.next('error')).toMatchObject({ code: 'room-full' });
    expect((await late.closed).code).toBe(1008);
    // Someone leaves: there is room again.
    await sockets[0]!.close(1000);
    await expect
      .poll(async () => {
        const next = await RoomSocket.open(worker().url, room, { heartbeatMs: 0 });
        const first = await next.next('snapshot').then(
          () => 'snapshot',
          () => 'refused',
        );
        next.terminate();
        return first;
      })
      .toBe('snapshot');
    for (const socket of sockets) socket.terminate();
  }, 30_000);
});
