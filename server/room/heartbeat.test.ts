import { describe, expect, it } from 'vitest';
import { connect, freshRoom, joined, useWorker } from '../test-support.js';

// Short timeouts so a ghost goes in about a second; production uses 15 s
// (swept every 10 s, so within 25 s).
const worker = useWorker({ vars: { HEARTBEAT_TIMEOUT_MS: '800', SWEEP_INTERVAL_MS: '200' } });

describe('heartbeat', () => {
  it('removes a half-open connection and keeps the ones that ping', async () => {
    const room = freshRoom('ghost');
    const { socket: ann } = await joined(worker, room, 'Ann', { heartbeatMs: 200 });
    const { socket: ghost, participant: ghostParticipant } = await joined(worker, room, 'Ghost', {
      heartbeatMs: 200,
    });
    ghost.stopHeartbeat(); // silent from now on, and never closes

    const left = await ann.next('participant-left', (m) => m.id === ghostParticipant.id, 5_000);
    expect(left.reason).toBe('timed-out');
    expect((await ghost.closed).code).toBe(4408);

    // Ann, who kept pinging, is still there and still hears the room.
    const bob = await connect(worker, room, { heartbeatMs: 200 });
    const snapshot = await bob.next('snapshot');
    expect(snapshot.participants.map((p) => p.name)).toEqual(['Ann']);
  });
});
