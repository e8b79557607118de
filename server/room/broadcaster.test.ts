/**
 * The room's fan-out budget, with fake sockets and a fake clock: what each
 * recipient receives when a participant floods, when the whole room is over
 * its budget, and when a quiet participant changes something meanwhile.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '../../src/protocol/index.js';
import { Broadcaster, type BroadcastTarget } from './broadcaster.js';

interface FakeSocket {
  id: string;
  frames: ServerMessage[];
  ws: WebSocket;
}

function room(people: number): { target: BroadcastTarget; sockets: FakeSocket[] } {
  const sockets = Array.from({ length: people }, (_, i) => {
    const socket: FakeSocket = { id: `p${i}`, frames: [], ws: undefined as unknown as WebSocket };
    socket.ws = {
      send: (frame: string) => socket.frames.push(JSON.parse(frame) as ServerMessage),
    } as unknown as WebSocket;
    return socket;
  });
  return {
    sockets,
    target: {
      recipients: () => sockets.map(({ id, ws }) => ({ id, ws })),
      recipientCount: () => sockets.length,
      lobbyCount: () => 0,
      snapshotFor: () => null,
    },
  };
}

const updatesOf = (socket: FakeSocket, id: string) =>
  socket.frames.filter((f) => f.type === 'participant-updated' && f.id === id);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

describe('Broadcaster', () => {
  it('sends a change to everyone at once while within budget', () => {
    const { target, sockets } = room(3);
    new Broadcaster(target, {
      participantChanges: { burst: 8, perSecond: 2 },
      roomSendsPerSecond: 1_000,
    }).participantChanged('p0', { handRaised: true });
    for (const socket of sockets)
      expect(socket.frames).toEqual([
        { type: 'participant-updated', id: 'p0', changes: { handRaised: true } },
      ]);
  });

  it("merges a flooder's changes beyond its burst, and the latest value of each field wins", () => {
    const { target, sockets } = room(3);
    const broadcaster = new Broadcaster(target, {
      participantChanges: { burst: 2, perSecond: 2 },
      roomSendsPerSecond: 1_000,
    });
    for (let i = 0; i < 30; i++)
      broadcaster.participantChanged('p0', { handRaised: i % 2 === 0, camera: i === 5 });
    expect(updatesOf(sockets[1]!, 'p0')).toHaveLength(2);
    vi.advanceTimersByTime(1_000);
    const received = updatesOf(sockets[1]!, 'p0');
    // Two at once, then the rest merged into one: 3 instead of 30, ending in the latest state.
    expect(received).toHaveLength(3);
    expect(received.at(-1)).toEqual({
      type: 'participant-updated',
      id: 'p0',
      changes: { handRaised: false, camera: false },
    });
  });

  it("over the room's budget, a quiet participant's change goes before the flooders'", () => {
    const people = 100;
    const { target, sockets } = room(people);
    // Room for 3 deltas a second to 100 people.
    const broadcaster = new Broadcaster(target, {
      participantChanges: { burst: 100, perSecond: 100 },
      roomSendsPerSecond: 300,
    });
    // Ten flooders use the budget up and keep asking.
    const flood = setInterval(() => {
      for (let f = 1; f <= 10; f++)
        broadcaster.participantChanged(`p${f}`, { handRaised: Date.now() % 2 === 0 });
    }, 20);
    vi.advanceTimersByTime(2_000);
    const observer = sockets[99]!;
    const before = observer.frames.length;
    broadcaster.participantChanged('p0', { camera: true });
    vi.advanceTimersByTime(400);
    clearInterval(flood);
    // It went out within the next turns of the budget, ahead of everyone who was waiting.
    expect(updatesOf(observer, 'p0')).toEqual([
      { type: 'participant-updated', id: 'p0', changes: { camera: true } },
    ]);
    const sentAfter = observer.frames.slice(before);
    expect(sentAfter.findIndex((f) => f.type === 'participant-updated' && f.id === 'p0')).toBeLessThanOrEqual(
      1,
    );
    // The room stayed within its budget: about 3 deltas a second reached this observer.
    expect(observer.frames.length).toBeLessThanOrEqual(Math.ceil(2.4 * 3) + 3);
  });

  it('sends urgent changes at once and drops what waits for someone who left', () => {
    const { target, sockets } = room(2);
    const broadcaster = new Broadcaster(target, {
      participantChanges: { burst: 1, perSecond: 1 },
      roomSendsPerSecond: 1_000,
    });
    broadcaster.participantChanged('p0', { handRaised: true });
    broadcaster.participantChanged('p0', { handRaised: false }); // Waits: over its burst.
    broadcaster.participantChanged('p0', { role: 'host' }, true); // Urgent: goes now, with what waited.
    expect(updatesOf(sockets[1]!, 'p0').map((f) => f.type === 'participant-updated' && f.changes)).toEqual([
      { handRaised: true },
      { handRaised: false, role: 'host' },
    ]);
    broadcaster.participantChanged('p0', { camera: true }); // Waits again.
    broadcaster.forget('p0');
    vi.advanceTimersByTime(5_000);
    expect(updatesOf(sockets[1]!, 'p0')).toHaveLength(2);
  });

  it('sends the lobby count at most once a second', () => {
    const { target, sockets } = room(2);
    const broadcaster = new Broadcaster(target, {
      participantChanges: { burst: 8, perSecond: 2 },
      roomSendsPerSecond: 1_000,
    });
    for (let i = 0; i < 50; i++) broadcaster.lobbyChanged();
    expect(sockets[0]!.frames.filter((f) => f.type === 'lobby-count')).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(sockets[0]!.frames.filter((f) => f.type === 'lobby-count')).toHaveLength(2);
  });
});
