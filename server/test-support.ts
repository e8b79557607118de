/** Shared set-up for the room server tests. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startLocalWorker, type LocalWorker, type LocalWorkerOptions } from './local/dev/worker.js';
import { RoomSocket, type RoomSocketOptions } from './local/dev/room-socket.js';

/** Starts one Worker for the test file; the returned getter is valid inside tests. */
export function useWorker(options: LocalWorkerOptions = {}): () => LocalWorker {
  let worker: LocalWorker | undefined;
  beforeAll(async () => {
    worker = await startLocalWorker(options);
  });
  afterAll(async () => {
    for (const socket of openSockets) socket.terminate();
    openSockets.clear();
    await worker?.stop();
  });
  return () => {
    if (!worker) throw new Error('worker not started');
    return worker;
  };
}

const openSockets = new Set<RoomSocket>();
let roomCounter = 0;
/** A room name no other test uses. */
export const freshRoom = (label: string) => `${label}-${process.pid}-${++roomCounter}`;

export async function connect(
  worker: () => LocalWorker,
  room: string,
  options?: RoomSocketOptions,
): Promise<RoomSocket> {
  const socket = new RoomSocket(worker().url, room, options);
  openSockets.add(socket);
  await socket.opened;
  return socket;
}

/** Connects and joins; returns the socket and the participant the room announced. */
export async function joined(
  worker: () => LocalWorker,
  room: string,
  name: string,
  options?: RoomSocketOptions,
) {
  const socket = await connect(worker, room, options);
  const participant = await socket.join(name);
  return { socket, participant };
}

/** `GET /api/rooms/<room>`; with join tokens, `token` is one for the room. */
export async function roomSummary(worker: () => LocalWorker, room: string, token?: string) {
  const response = await fetch(`${worker().url}/api/rooms/${room}${token ? `?token=${token}` : ''}`);
  const summary: unknown = await response.json();
  return summary as {
    room: string;
    participants: number;
    reconnecting: number;
    lobby: number;
    meeting: { id: string; startedAt: number } | null;
    lastMeeting: { id: string; startedAt: number; endedAt: number | null; peakParticipants: number } | null;
    awakeSince: number;
  };
}

/**
 * Rooms whose SQLite holds more than the empty page workerd opens for every
 * object: a table, a row or an alarm (see stored-rooms.test.ts).
 */
export function storedRooms(worker: LocalWorker): number {
  const dir = join(worker.persistDir, 'v3/do/meetkit-Room');
  if (!existsSync(dir)) return 0;
  const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sqlite') && name !== 'metadata.sqlite')
    .map((name) => join(dir, name))
    .filter((file) => size(file) > 4096 || size(`${file}-wal`) > 0).length;
}
