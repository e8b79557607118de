/**
 * What rooms leave on disk: looking at a room stores nothing, a socket or
 * summary refused for its token never starts the room, a meeting is stored.
 *
 * Under `wrangler dev`, workerd opens a room's SQLite file
 * (`<persist>/v3/do/meetkit-Room/<id>.sqlite`, one empty 4 KiB page in WAL
 * mode) as soon as the object starts, whether or not it stores anything; in
 * production an object that never wrote leaves nothing. So a room "has a
 * database" here when its file holds more than that empty page or its
 * write-ahead log holds a write. The Workers run without wrangler's local
 * explorer, which writes into every object it starts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RoomSocket } from './local/dev/room-socket.js';
import { startLocalWorker, type LocalWorker } from './local/dev/worker.js';

/** workerd's SQLite page size: a database that was only opened is one page. */
const EMPTY_DATABASE_BYTES = 4096;

/** Every room's SQLite file, whether or not it holds anything. */
function roomFiles(worker: LocalWorker): string[] {
  const dir = join(worker.persistDir, 'v3/do/meetkit-Room');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sqlite') && name !== 'metadata.sqlite')
    .map((name) => join(dir, name));
}

const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);

/** Rooms whose database holds something: a table, a row or an alarm. */
function storedRooms(worker: LocalWorker): number {
  return roomFiles(worker).filter((file) => size(file) > EMPTY_DATABASE_BYTES || size(`${file}-wal`) > 0)
    .length;
}

const randomRoom = () => `r-${crypto.randomUUID()}`;

/** Runs `task` for 0..count-1, `parallel` at a time. */
async function inBatches(count: number, parallel: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

describe('stored rooms', () => {
  it('stores nothing for 1,000 rooms that were only looked at, and a meeting once someone joins', async () => {
    const worker = await startLocalWorker();
    const sockets: RoomSocket[] = [];
    try {
      await inBatches(1000, 16, async () => {
        const room = randomRoom();
        const response = await fetch(`${worker.url}/api/rooms/${room}`);
        expect(await response.json()).toMatchObject({ room, participants: 0, meeting: null });
      });
      // Every one of them was started (workerd opened its file), and none stored anything.
      expect(roomFiles(worker).length).toBe(1000);
      expect(storedRooms(worker)).toBe(0);

      const ann = await RoomSocket.open(worker.url, randomRoom());
      sockets.push(ann);
      await ann.join('Ann');
      expect(storedRooms(worker)).toBe(1);
    } finally {
      for (const socket of sockets) socket.terminate();
      await worker.stop();
    }
  }, 120_000);

  it('never starts a room for sockets or summaries refused for their token', async () => {
    const worker = await startLocalWorker({
      vars: { JOIN_SECRET: 'stored-rooms-secret-long-enough-for-hs256' },
    });
    try {
      await inBatches(100, 10, async (i) => {
        const socket = await RoomSocket.open(worker.url, randomRoom(), {
          token: i % 2 ? 'not.a.token' : undefined,
          heartbeatMs: 0,
        });
        expect(await socket.next('error')).toMatchObject({ code: 'unauthorized' });
        expect((await socket.closed).code).toBe(1008);
      });
      await inBatches(100, 10, async () => {
        expect((await fetch(`${worker.url}/api/rooms/${randomRoom()}`)).status).toBe(401);
      });
      expect(roomFiles(worker)).toEqual([]);
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
