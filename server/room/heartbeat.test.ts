import { describe, expect, it } from 'vitest';
import { connect, freshRoom, joined, useWorker } from '../test-support.js';

// Short timeouts so a ghost goes in about two seconds; production uses 15 s
// (swept every 10 s, so within 25 s), then a 30 s grace to come back.
const worker = useWorker({
  vars: { HEARTBEAT_TIMEOUT_MS: '800', SWEEP_INTERVAL_MS: '200', RESUME_GRACE_MS: '1000' },
});

describe('heartbeat', () => {
  it('removes a half-open connection and keeps the ones that ping', async () => {
    const room = freshRoom('ghost');
    const { socket: ann } = await joined(worker, room, 'Ann', { heartbeatMs: 200 });
    const { socket: ghost, participant: ghostParticipant } = await joined(worker, room, 'Ghost', {
      heartbeatMs: 200,
    });
    ghost.stopHeartbeat(); // silent from now on, and never closes

    // First "reconnecting" (it may come back), then gone once the grace is over.
    const dropped = await ann.next('participant-updated', (m) => m.id === ghostParticipant.id, 5_000);
    expect(dropped.changes).toEqual({ reconnecting: true });
    expect((await ghost.closed).code).toBe(4408);
    const left = await ann.next('participant-left', (m) => m.id === ghostParticipant.id, 5_000);
    expect(left.reason).toBe('timed-out');

    // Ann, who kept pinging, is still there and still hears the room.
    const bob = await connect(worker, room, { heartbeatMs: 200 });
    const snapshot = await bob.next('snapshot');
    expect(snapshot.participants.map((p) => p.name)).toEqual(['Ann']);
  });
});
