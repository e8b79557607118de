/**
 * Host moderation (issue 9) through the real Worker: a host turns someone's
 * camera off, lowers their hand, makes them host or removes them, and
 * everyone sees it with who did it; a guest may do none of it; a removed
 * visitor's page, and with join tokens their token, cannot come straight
 * back in, a restart of the Worker included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signJoinToken } from '../auth/join-token.js';
import { RoomSocket } from '../local/dev/room-socket.js';
import { startLocalWorker } from '../local/dev/worker.js';
import { connect, freshRoom, joined, roomSummary, useWorker } from '../test-support.js';

const SECRET = 'moderation-test-secret-long-enough-for-hs256';
const open = useWorker();
const secured = useWorker({ vars: { JOIN_SECRET: SECRET } });
const token = (room: string, name: string, role: 'host' | 'guest', ttl = 600) =>
  signJoinToken({ room, name, role }, SECRET, ttl);

/** Ann (host), Bob (guest: microphone, camera and hand up) and Cy (guest) in a new open room. */
async function meeting(label: string) {
  const room = freshRoom(label);
  const ann = await joined(open, room, 'Ann');
  const bob = await joined(open, room, 'Bob');
  bob.socket.send({ type: 'update', changes: { microphone: true, camera: true, handRaised: true } });
  await ann.socket.next('participant-updated', (m) => m.id === bob.participant.id && !!m.changes.handRaised);
  const cy = await joined(open, room, 'Cy');
  return { room, ann, bob, cy };
}

/** What someone arriving now is told about `id`. */
async function asSeenByNewcomer(room: string, id: string) {
  const newcomer = await connect(open, room);
  const snapshot = await newcomer.next('snapshot');
  newcomer.terminate();
  return snapshot.participants.find((p) => p.id === id);
}

describe('host actions', () => {
  it('turn a camera off, lower a hand and make a host: everyone sees it, with who did it', async () => {
    const { room, ann, bob, cy } = await meeting('actions');
    const moderated = (action: string) => ({
      type: 'participant-moderated',
      id: bob.participant.id,
      by: ann.participant.id,
      action,
    });
    for (const [type, action] of [
      ['turn-camera-off', 'camera-off'],
      ['lower-hand', 'lower-hand'],
      ['mute-participant', 'mute'],
      ['make-host', 'make-host'],
    ] as const) {
      ann.socket.send({ type, id: bob.participant.id });
      for (const { socket } of [ann, bob, cy])
        expect(await socket.next('participant-moderated')).toEqual(moderated(action));
    }
    expect(await asSeenByNewcomer(room, bob.participant.id)).toMatchObject({
      microphone: false,
      camera: false,
      handRaised: false,
      role: 'host',
    });

    // Nothing left to change: nothing is announced. Bob is a host now, and Ann stays one.
    ann.socket.send({ type: 'lower-hand', id: bob.participant.id });
    ann.socket.send({ type: 'make-host', id: bob.participant.id });
    cy.socket.send({ type: 'update', changes: { handRaised: true } });
    await bob.socket.next('participant-updated', (m) => m.id === cy.participant.id);
    bob.socket.send({ type: 'lower-hand', id: cy.participant.id });
    expect(await ann.socket.next('participant-moderated')).toEqual({
      type: 'participant-moderated',
      id: cy.participant.id,
      by: bob.participant.id,
      action: 'lower-hand',
    });
    expect(await asSeenByNewcomer(room, ann.participant.id)).toMatchObject({ role: 'host' });
    expect(ann.socket.received.filter((m) => m.type === 'error')).toEqual([]);
  });

  it('are forbidden to a guest, and change nothing', async () => {
    const { room, ann, bob, cy } = await meeting('guest');
    for (const type of [
      'mute-participant',
      'turn-camera-off',
      'lower-hand',
      'make-host',
      'remove-participant',
    ] as const) {
      cy.socket.send({ type, id: bob.participant.id });
      expect(await cy.socket.next('error')).toMatchObject({ code: 'forbidden', cause: type });
    }
    // A stranger's id gets the same answer: a guest learns nothing about who is here.
    cy.socket.send({ type: 'remove-participant', id: 'nobody' });
    expect(await cy.socket.next('error')).toMatchObject({ code: 'forbidden' });

    ann.socket.send({ type: 'update', changes: { handRaised: true } });
    await bob.socket.next('participant-updated', (m) => m.id === ann.participant.id);
    expect(bob.socket.received.some((m) => m.type === 'participant-moderated')).toBe(false);
    expect(await asSeenByNewcomer(room, bob.participant.id)).toMatchObject({
      microphone: true,
      camera: true,
      handRaised: true,
      role: 'guest',
    });
    expect(await roomSummary(open, room)).toMatchObject({ participants: 3 });
  });

  it('refuse oneself, a stranger, and the microphone or camera of someone reconnecting', async () => {
    const { ann, bob, cy } = await meeting('targets');
    ann.socket.send({ type: 'remove-participant', id: ann.participant.id });
    expect(await ann.socket.next('error')).toMatchObject({
      code: 'invalid-target',
      cause: 'remove-participant',
    });
    ann.socket.send({ type: 'turn-camera-off', id: 'ghost' });
    expect(await ann.socket.next('error')).toMatchObject({ code: 'unknown-participant' });

    bob.socket.terminate();
    await cy.socket.next(
      'participant-updated',
      (m) => m.id === bob.participant.id && !!m.changes.reconnecting,
    );
    ann.socket.send({ type: 'mute-participant', id: bob.participant.id });
    const refused = await ann.socket.next('error');
    expect(refused).toMatchObject({ code: 'invalid-target', cause: 'mute-participant' });
    expect(refused.message).toContain('Bob is reconnecting');
    // Their hand needs no page: it comes down.
    ann.socket.send({ type: 'lower-hand', id: bob.participant.id });
    expect(await cy.socket.next('participant-moderated')).toMatchObject({ action: 'lower-hand' });
  });
});

describe('removing someone', () => {
  it('takes them out for everyone, tells them who did it, and their page cannot resume or join by itself', async () => {
    const { room, ann, bob, cy } = await meeting('remove');
    const resume = bob.socket.resume;
    ann.socket.send({ type: 'remove-participant', id: bob.participant.id });
    const left = {
      type: 'participant-left',
      id: bob.participant.id,
      reason: 'removed',
      by: ann.participant.id,
    };
    for (const { socket } of [ann, bob, cy]) expect(await socket.next('participant-left')).toEqual(left);
    expect((await bob.socket.closed).code).toBe(1008);
    expect(await roomSummary(open, room)).toMatchObject({ participants: 2, lobby: 0 });

    // The page comes back with its resume key, as it would after missing the news.
    const back = await connect(open, room, { resume, heartbeatMs: 0 });
    const error = await back.next('error');
    expect(error).toMatchObject({ code: 'removed', message: 'Ann removed you from this meeting.' });
    expect((await back.closed).code).toBe(1008);

    // Without join tokens nothing tells who someone is but their page: a new one gets in as anyone.
    const newVisitor = await joined(open, room, 'Bob');
    expect(newVisitor.participant.id).not.toBe(bob.participant.id);
  });

  it('whose connection dropped: their page is refused when it comes back', async () => {
    const { room, ann, bob, cy } = await meeting('remove-away');
    const resume = bob.socket.resume;
    bob.socket.terminate();
    await cy.socket.next(
      'participant-updated',
      (m) => m.id === bob.participant.id && !!m.changes.reconnecting,
    );
    ann.socket.send({ type: 'remove-participant', id: bob.participant.id });
    expect(await cy.socket.next('participant-left')).toMatchObject({
      reason: 'removed',
      by: ann.participant.id,
    });
    const back = await connect(open, room, { resume, heartbeatMs: 0 });
    expect(await back.next('error')).toMatchObject({ code: 'removed' });
    expect((await back.closed).code).toBe(1008);
    expect(back.received.some((m) => m.type === 'snapshot')).toBe(false);
  });
});

describe('removing someone with join tokens', () => {
  it('keeps their token out, takes its other tabs out too, and lets a new token in', async () => {
    const room = freshRoom('token-remove');
    const annToken = await token(room, 'Ann', 'host');
    const bobToken = await token(room, 'Bob', 'guest');
    const ann = await joined(secured, room, 'x', { token: annToken });
    const bob = await joined(secured, room, 'x', { token: bobToken });
    // Bob in a second tab, joined too, and a third one still in the lobby.
    const bobAgain = await joined(secured, room, 'x', { token: bobToken });
    const bobsOtherTab = await connect(secured, room, { token: bobToken });
    await bobsOtherTab.next('snapshot');

    ann.socket.send({ type: 'remove-participant', id: bob.participant.id });
    for (const { participant } of [bob, bobAgain])
      expect(await ann.socket.next('participant-left', (m) => m.id === participant.id)).toMatchObject({
        reason: 'removed',
        by: ann.participant.id,
      });
    expect((await bob.socket.closed).code).toBe(1008);
    expect((await bobAgain.socket.closed).code).toBe(1008);
    expect(await bobsOtherTab.next('error')).toEqual({
      type: 'error',
      code: 'removed',
      message: 'Ann removed you from this meeting: this invitation cannot be used to join it again.',
    });
    // (workerd completes the close of a socket that only ever pinged after ~20 s: not awaited here.)
    expect(await roomSummary(secured, room, annToken)).toMatchObject({ participants: 1, lobby: 0 });

    const again = await connect(secured, room, { token: bobToken, heartbeatMs: 0 });
    expect(await again.next('error')).toMatchObject({ code: 'removed' });
    expect((await again.closed).code).toBe(1008);

    // A backend that mints Bob a new token lets him in: tokens, not names, are who people are.
    // (Another expiry: the same claims signed in the same second are the same token.)
    const newToken = await joined(secured, room, 'x', { token: await token(room, 'Bob', 'guest', 900) });
    expect(newToken.participant).toMatchObject({ name: 'Bob', role: 'guest' });
  });

  it('lets a host make a guest host, with all a host may do, whatever their token said', async () => {
    const room = freshRoom('token-host');
    const ann = await joined(secured, room, 'x', { token: await token(room, 'Ann', 'host') });
    const bob = await joined(secured, room, 'x', { token: await token(room, 'Bob', 'guest') });
    ann.socket.send({ type: 'make-host', id: bob.participant.id });
    expect(await bob.socket.next('participant-moderated')).toMatchObject({ action: 'make-host' });
    bob.socket.send({ type: 'remove-participant', id: ann.participant.id });
    expect(await ann.socket.next('participant-left')).toMatchObject({
      id: ann.participant.id,
      reason: 'removed',
      by: bob.participant.id,
    });
  });
});

describe('removals across a restart', () => {
  const persistTo = mkdtempSync(join(tmpdir(), 'meetkit-removals-'));
  afterAll(() => rmSync(persistTo, { recursive: true, force: true }));

  it('still keep the removed token out', { timeout: 60_000 }, async () => {
    const vars = { JOIN_SECRET: SECRET };
    let worker = await startLocalWorker({ persistTo, vars });
    const sockets: RoomSocket[] = [];
    try {
      const room = 'removals-restart';
      const bobToken = await token(room, 'Bob', 'guest');
      const ann = await RoomSocket.open(worker.url, room, { token: await token(room, 'Ann', 'host') });
      const bob = await RoomSocket.open(worker.url, room, { token: bobToken });
      sockets.push(ann, bob);
      await ann.join('x');
      const bobParticipant = await bob.join('x');
      ann.send({ type: 'remove-participant', id: bobParticipant.id });
      await ann.next('participant-left', (m) => m.reason === 'removed');

      for (const socket of sockets.splice(0)) socket.terminate();
      await worker.stop();
      worker = await startLocalWorker({ persistTo, vars });

      const again = await RoomSocket.open(worker.url, room, { token: bobToken, heartbeatMs: 0 });
      sockets.push(again);
      expect(await again.next('error')).toMatchObject({
        code: 'removed',
        message: expect.stringContaining('Ann removed you'),
      });
      expect((await again.closed).code).toBe(1008);
      const cy = await RoomSocket.open(worker.url, room, { token: await token(room, 'Cy', 'guest') });
      sockets.push(cy);
      expect(await cy.next('snapshot')).toMatchObject({ room });
    } finally {
      for (const socket of sockets) socket.terminate();
      await worker.stop();
    }
  });
});
