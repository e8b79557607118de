/**
 * Resume, not rejoin: a participant whose connection drops keeps their place
 * (id, role, hand, microphone, camera) for the grace period, the others see
 * them as reconnecting rather than a leave and a join, and coming back with
 * their resume key continues where they were.
 */
import { describe, expect, it } from 'vitest';
import { RoomSocket } from '../local/dev/room-socket.js';
import type { RoomSocketOptions } from '../local/dev/room-socket.js';
import * as support from '../test-support.js';
import { freshRoom, roomSummary, useWorker } from '../test-support.js';

const GRACE_MS = 3_000;
const worker = useWorker({
  vars: { RESUME_GRACE_MS: String(GRACE_MS), HEARTBEAT_TIMEOUT_MS: '1500', SWEEP_INTERVAL_MS: '500' },
});
/** Heartbeats well within this Worker's short timeout. */
const HEARTBEAT_MS = 400;
const connect = (room: string, options: RoomSocketOptions = {}) =>
  support.connect(worker, room, { heartbeatMs: HEARTBEAT_MS, ...options });
const joined = (room: string, name: string) =>
  support.joined(worker, room, name, { heartbeatMs: HEARTBEAT_MS });

/** A participant who joined, raised a hand and turned the microphone on. */
async function busyParticipant(room: string, name: string) {
  const member = await joined(room, name);
  member.socket.send({ type: 'update', changes: { handRaised: true, microphone: true } });
  await member.socket.next('participant-updated', (m) => m.id === member.participant.id);
  return member;
}

describe('resume', () => {
  it('a dropped connection is "reconnecting" for the others, and comes back as the same participant', async () => {
    const room = freshRoom('resume');
    const { socket: ann, participant: annParticipant } = await busyParticipant(room, 'Ann');
    const { socket: bob } = await joined(room, 'Bob');
    const resume = ann.resume;

    ann.terminate(); // No close frame: the network went away.
    expect(await bob.next('participant-updated')).toEqual({
      type: 'participant-updated',
      id: annParticipant.id,
      changes: { reconnecting: true },
    });
    const waiting = await connect(room);
    expect((await waiting.next('snapshot')).participants).toContainEqual(
      expect.objectContaining({ id: annParticipant.id, reconnecting: true, role: 'host' }),
    );

    const back = await connect(room, { resume });
    const snapshot = await back.next('snapshot');
    expect(snapshot).toMatchObject({ selfId: annParticipant.id, resumed: true });
    expect(snapshot.resumeKey).toMatch(/^[0-9a-f]{32}$/);
    expect(snapshot.resumeKey).not.toBe(resume.key);
    expect(snapshot.participants.find((p) => p.id === annParticipant.id)).toEqual({
      ...annParticipant,
      handRaised: true,
      microphone: true,
    });
    expect(await bob.next('participant-updated')).toEqual({
      type: 'participant-updated',
      id: annParticipant.id,
      changes: { reconnecting: false },
    });
    // Still the host, acting as before, and nobody saw a leave or a join.
    back.send({ type: 'update', changes: { camera: true } });
    expect(await bob.next('participant-updated')).toMatchObject({
      id: annParticipant.id,
      changes: { camera: true },
    });
    const seen = bob.received.map((m) => m.type);
    expect(seen).not.toContain('participant-left');
    expect(seen.filter((t) => t === 'participant-joined')).toHaveLength(1); // Bob's own.
    // The old key was for the old connection only.
    const replay = await connect(room, { resume });
    expect((await replay.next('snapshot')).resumed).toBeUndefined();
  });

  it('takes over from a half-open connection that the room still thinks is alive', async () => {
    const room = freshRoom('takeover');
    const { socket: ann, participant: annParticipant } = await joined(room, 'Ann');
    const { socket: bob } = await joined(room, 'Bob');
    ann.stopHeartbeat();

    const back = await connect(room, { resume: ann.resume });
    expect(await back.next('snapshot')).toMatchObject({ selfId: annParticipant.id, resumed: true });
    expect((await ann.closed).code).toBe(4409);
    back.send({ type: 'update', changes: { handRaised: true } });
    expect(await bob.next('participant-updated')).toMatchObject({
      id: annParticipant.id,
      changes: { handRaised: true },
    });
    expect(bob.received.some((m) => m.type === 'participant-left')).toBe(false);
  });

  it('leaves for good once the grace period is over, and only then hands the host role on', async () => {
    const room = freshRoom('grace');
    const { socket: ann, participant: annParticipant } = await joined(room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(room, 'Bob');
    const droppedAt = Date.now();
    ann.terminate();
    await bob.next('participant-updated', (m) => m.changes.reconnecting === true);
    expect(await bob.next('participant-left', () => true, GRACE_MS + 5_000)).toEqual({
      type: 'participant-left',
      id: annParticipant.id,
      reason: 'disconnected',
    });
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(GRACE_MS - 500);
    expect(await bob.next('participant-updated')).toEqual({
      type: 'participant-updated',
      id: bobParticipant.id,
      changes: { role: 'host' },
    });
    // Too late: the key resumes nobody now.
    const late = await connect(room, { resume: ann.resume });
    expect((await late.next('snapshot')).resumed).toBeUndefined();
  });

  it('treats a silent connection as dropped, and says "timed-out" if it never comes back', async () => {
    const room = freshRoom('silent');
    const { participant: bobParticipant } = await joined(room, 'Bob');
    const silent = await connect(room, { heartbeatMs: 0 });
    const silentParticipant = await silent.join('Sid');
    const { socket: ann } = await joined(room, 'Ann');
    expect(await ann.next('participant-updated', (m) => m.id === silentParticipant.id, 5_000)).toEqual({
      type: 'participant-updated',
      id: silentParticipant.id,
      changes: { reconnecting: true },
    });
    expect((await silent.closed).code).toBe(4408);
    expect(
      await ann.next('participant-left', (m) => m.id === silentParticipant.id, GRACE_MS + 5_000),
    ).toMatchObject({ reason: 'timed-out' });
    // The pinging ones stayed.
    expect(ann.received.some((m) => m.type === 'participant-left' && m.id === bobParticipant.id)).toBe(false);
  });

  it('a goodbye (close frame) or a leave ends the participant at once, and its key resumes nobody', async () => {
    const room = freshRoom('goodbye');
    const { socket: ann } = await joined(room, 'Ann');
    const { socket: bob, participant: bobParticipant } = await joined(room, 'Bob');
    const { socket: cy, participant: cyParticipant } = await joined(room, 'Cy');
    const bobResume = bob.resume;
    bob.send({ type: 'leave' });
    expect(await ann.next('participant-left')).toMatchObject({ id: bobParticipant.id, reason: 'left' });
    await cy.close(1000);
    expect(await ann.next('participant-left')).toMatchObject({
      id: cyParticipant.id,
      reason: 'disconnected',
    });
    const again = await connect(room, { resume: bobResume });
    expect((await again.next('snapshot')).resumed).toBeUndefined();
  });
});

describe('all-or-nothing updates', () => {
  it('applies nothing of an update that announces tracks outside the own session', async () => {
    const room = freshRoom('atomic');
    const { socket: ann, participant: annParticipant } = await joined(room, 'Ann');
    ann.send({ type: 'update', changes: { microphone: true, tracks: { camera: 'abcdef/cam' } } });
    expect(await ann.next('error')).toMatchObject({ code: 'invalid-tracks', cause: 'update' });
    const later = await connect(room);
    const snapshot = await later.next('snapshot');
    expect(snapshot.participants.find((p) => p.id === annParticipant.id)).toMatchObject({
      microphone: false,
      tracks: {},
    });
    expect(ann.received.some((m) => m.type === 'participant-updated')).toBe(false);
  });
});

describe('names', () => {
  it.each([
    ['a right-to-left override', 'Ann\u202Etxt.exe'],
    ['only zero-width characters', '\u200b\u200c\u200d'],
  ])('refuses a name with %s', async (_label, name) => {
    const socket = await connect(freshRoom('names'));
    await socket.next('snapshot');
    socket.send({ type: 'join', name });
    expect(await socket.next('error')).toMatchObject({ code: 'invalid-name', cause: 'join' });
  });
});

describe('meeting record', () => {
  it('a drop and a resume continue the same meeting', async () => {
    const room = freshRoom('continue');
    const { socket: ann } = await joined(room, 'Ann');
    const before = await roomSummary(worker, room);
    ann.terminate();
    const back = await RoomSocket.open(worker().url, room, { resume: ann.resume, heartbeatMs: HEARTBEAT_MS });
    await back.next('snapshot');
    const after = await roomSummary(worker, room);
    expect(after.meeting).toEqual(before.meeting);
    back.terminate();
  });
});
