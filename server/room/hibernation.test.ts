import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RoomSocket } from '../local/dev/room-socket.js';
import { startLocalWorker } from '../local/dev/worker.js';
import { roomSummary } from '../test-support.js';

/** workerd evicts an idle object with hibernatable sockets after about 10 s. */
const HIBERNATION_IDLE_MS = 12_000;

describe('hibernation and restart', () => {
  const persistTo = mkdtempSync(join(tmpdir(), 'meetkit-restart-'));
  afterAll(() => rmSync(persistTo, { recursive: true, force: true }));

  it(
    'keeps participants, roles and the meeting across hibernation, and resumes them after a restart',
    { timeout: 60_000 },
    async () => {
      // No sweep alarm during the test: an alarm would wake the object.
      let worker = await startLocalWorker({ persistTo, vars: { SWEEP_INTERVAL_MS: '600000' } });
      const sockets: RoomSocket[] = [];
      try {
        const ann = await RoomSocket.open(worker.url, 'hibernate');
        const bob = await RoomSocket.open(worker.url, 'hibernate');
        sockets.push(ann, bob);
        const annParticipant = await ann.join('Ann');
        const bobParticipant = await bob.join('Bob');
        bob.send({ type: 'update', changes: { handRaised: true } });
        await ann.next('participant-updated');
        const before = await roomSummary(() => worker, 'hibernate');

        // Nothing happens in the room (pings are answered without waking it): it hibernates.
        // There is no event for that, so this one test waits.
        await new Promise((resolve) => setTimeout(resolve, HIBERNATION_IDLE_MS));

        bob.send({ type: 'update', changes: { camera: true } });
        expect(await ann.next('participant-updated')).toEqual({
          type: 'participant-updated',
          id: bobParticipant.id,
          changes: { camera: true },
        });
        const after = await roomSummary(() => worker, 'hibernate');
        expect(after.awakeSince).toBeGreaterThan(before.awakeSince); // a new instance...
        expect(after.meeting).toEqual(before.meeting); // ...with the same meeting
        expect(after.participants).toBe(2);

        const carol = await RoomSocket.open(worker.url, 'hibernate');
        sockets.push(carol);
        const snapshot = await carol.next('snapshot');
        expect(snapshot.participants).toEqual([
          expect.objectContaining({ id: annParticipant.id, role: 'host', handRaised: false }),
          expect.objectContaining({ id: bobParticipant.id, role: 'guest', handRaised: true, camera: true }),
        ]);
        // A host's action after hibernation, kept across the restart below.
        ann.send({ type: 'turn-camera-off', id: bobParticipant.id });
        expect(await bob.next('participant-moderated')).toMatchObject({
          by: annParticipant.id,
          action: 'camera-off',
        });

        // A restart drops every socket; the participants keep their places for the
        // grace period, and resuming continues the same meeting as the same people.
        const annResume = ann.resume;
        for (const socket of sockets.splice(0)) socket.terminate();
        await worker.stop();
        worker = await startLocalWorker({
          persistTo,
          vars: { RESUME_GRACE_MS: '8000', SWEEP_INTERVAL_MS: '500' },
        });
        const restarted = await roomSummary(() => worker, 'hibernate');
        expect(restarted.meeting).toEqual(before.meeting);
        expect(restarted).toMatchObject({ participants: 2, reconnecting: 2 });

        const annBack = await RoomSocket.open(worker.url, 'hibernate', { resume: annResume });
        sockets.push(annBack);
        const resumed = await annBack.next('snapshot');
        expect(resumed).toMatchObject({ selfId: annParticipant.id, resumed: true });
        expect(resumed.participants).toEqual([
          expect.objectContaining({ id: annParticipant.id, role: 'host' }),
          expect.objectContaining({
            id: bobParticipant.id,
            reconnecting: true,
            handRaised: true,
            camera: false,
          }),
        ]);
        // Bob never comes back: he leaves once the grace is over, and the meeting goes on with Ann.
        expect(await annBack.next('participant-left', () => true, 15_000)).toMatchObject({
          id: bobParticipant.id,
          reason: 'disconnected',
        });
        annBack.send({ type: 'leave' });
        await annBack.next('meeting-ended');
        const ended = await roomSummary(() => worker, 'hibernate');
        expect(ended.meeting).toBeNull();
        expect(ended.lastMeeting).toMatchObject({
          id: before.meeting!.id,
          peakParticipants: 2,
          endedAt: expect.any(Number),
        });
      } finally {
        for (const socket of sockets) socket.terminate();
        await worker.stop();
      }
    },
  );
});
