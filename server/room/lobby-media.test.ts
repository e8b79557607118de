/**
 * Media prepared in the lobby (issue 9, a faster join), through the real
 * Worker to the local SFU with werift peers standing in for browsers: a
 * visitor who has not joined may make a Calls session and publish what they
 * turned on, but receives nobody's media; joining carries the session and its
 * tracks into the meeting, announced with the join; going without joining,
 * or being removed, leaves nothing on the SFU, and a lobby stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJoinToken } from '../auth/join-token.js';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import { localCallsVars, LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET } from '../local/sfu/local-app.js';
import { startLocalWorker, type LocalWorker } from '../local/dev/worker.js';
import { freshRoom, storedRooms } from '../test-support.js';
import * as support from './test-support.js';
import { POLL, publishMicrophone, sendMicrophone, usePeers, type Member } from './test-support.js';

const SECRET = 'lobby-media-test-secret-long-enough-for-hs256';
let sfu: LocalSfu;
let open: LocalWorker;
let secured: LocalWorker;
const peers = usePeers();

beforeAll(async () => {
  sfu = await startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET });
  const vars = localCallsVars(sfu.callsApiUrl);
  // One after the other: two wrangler instances starting at once can stall each other.
  open = await startLocalWorker({ vars });
  secured = await startLocalWorker({ vars: { ...vars, JOIN_SECRET: SECRET } });
});
afterAll(async () => {
  await Promise.all([open?.stop(), secured?.stop()]);
  await sfu?.close();
});

const member = (room: string, name: string) => support.member(() => open, room, name);
const lobbyVisitor = (room: string) => support.lobbyVisitor(() => open, room);

/** Open tracks the SFU holds for a session: what it publishes and what it pulls. */
const heldBy = (sessionId: string) => {
  const session = sfu.sessions.get(sessionId);
  return (session?.published.size ?? 0) + (session?.pulled.size ?? 0);
};

/** Pulls `ref` into `m`'s own new session with a werift peer; resolves once its packets arrive. */
async function hear(m: Member, ref: string): Promise<void> {
  const { body: session } = await m.call('session');
  const pulled = await m.call('pull', { sessionId: session.sessionId, tracks: [ref] });
  expect(pulled.body.tracks).toEqual([{ ref, mid: expect.any(String) }]);
  const pc = peers.create();
  let packets = 0;
  const arrived = new Promise<void>((resolve) =>
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => ++packets === 10 && resolve())),
  );
  await pc.setRemoteDescription(pulled.body.offer);
  await pc.setLocalDescription(await pc.createAnswer());
  const answer = { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp };
  expect((await m.call('renegotiate', { sessionId: session.sessionId, answer })).status).toBe(200);
  await arrived;
}

describe('media from the lobby', () => {
  it('lets a visitor who has not joined prepare a session and publish, but not receive anyone (403)', async () => {
    const room = freshRoom('lobby-ops');
    const ann = await member(room, 'Ann');
    const annMicrophone = await publishMicrophone(peers, ann);
    const visitor = await lobbyVisitor(room);

    // session and publish: the visitor's microphone reaches the SFU before joining.
    const { sessionId, mid } = await sendMicrophone(peers, visitor);
    expect(sfu.sessions.get(sessionId)?.published.has('microphone')).toBe(true);
    expect(await visitor.call('check', { sessionId })).toEqual({ status: 200, body: {} });

    // Nobody's media before joining: refused by the room, never asked of Calls.
    const before = sfu.requests(sessionId);
    const pull = await visitor.call('pull', { sessionId, tracks: [annMicrophone] });
    expect(pull).toEqual({
      status: 403,
      body: { error: { code: 'not-joined', message: expect.any(String) } },
    });
    expect(sfu.requests(sessionId)).toEqual(before);
    expect(sfu.sessions.get(sessionId)?.pulled.size).toBe(0);

    // renegotiate goes through to Calls, which asked for no answer from this session.
    const stray = await visitor.call('renegotiate', {
      sessionId,
      answer: { type: 'answer', sdp: 'v=0\r\n' },
    });
    expect([stray.status, stray.body.error.code]).toEqual([502, 'media-rejected']);
    expect(sfu.requests(sessionId).renegotiate).toBe(before.renegotiate + 1);

    // close: the visitor turned the microphone off for good.
    expect(await visitor.call('close', { sessionId, mids: [mid] })).toEqual({
      status: 200,
      body: { answer: null },
    });
    expect(heldBy(sessionId)).toBe(0);

    // Only on its own session, like a member.
    const { body: annSession } = await ann.call('session');
    const hijack = await visitor.call('check', { sessionId: annSession.sessionId });
    expect([hijack.status, hijack.body.error.code]).toEqual([403, 'not-your-session']);
  });

  it('carries the session and its tracks into the meeting, announced with the join', async () => {
    const room = freshRoom('lobby-join');
    const bob = await member(room, 'Bob');
    const visitor = await lobbyVisitor(room);
    const { sessionId, ref, pc } = await sendMicrophone(peers, visitor);
    const sessionsBefore = sfu.stats().newSessionRequests;

    visitor.socket.send({
      type: 'join',
      name: 'Ann',
      state: { microphone: true, tracks: { microphone: ref } },
    });
    const joined = await bob.socket.next('participant-joined');
    expect(joined.participant).toMatchObject({
      id: visitor.id,
      microphone: true,
      tracks: { microphone: ref },
    });
    // Bob hears it from the session made in the lobby; Ann made no other one.
    await hear(bob, ref);
    expect(sfu.stats().newSessionRequests - sessionsBefore).toBe(1);
    // It is the member's now: the same key acts on it, pulling included.
    expect(await visitor.call('check', { sessionId })).toEqual({ status: 200, body: {} });
    const bobMicrophone = await publishMicrophone(peers, bob);
    const pulled = await visitor.call('pull', { sessionId, tracks: [bobMicrophone] });
    expect(pulled.body.tracks).toEqual([{ ref: bobMicrophone, mid: expect.any(String) }]);
    await pc.setRemoteDescription(pulled.body.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    const answer = { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp };
    expect((await visitor.call('renegotiate', { sessionId, answer })).status).toBe(200);
    expect(heldBy(sessionId)).toBe(2);

    // Leaving closes it like any member's session.
    visitor.socket.send({ type: 'leave' });
    await bob.socket.next('participant-left', (m) => m.id === visitor.id);
    await expect.poll(() => heldBy(sessionId), POLL).toBe(0);
  });

  it('gives a session still being made when its visitor joins to the member', async () => {
    const room = freshRoom('lobby-join-racing');
    const bob = await member(room, 'Bob');
    const visitor = await lobbyVisitor(room);
    sfu.faults.set({ delayMs: 500, pathIncludes: '/sessions/new' });
    let made: { status: number; body: { sessionId: string } };
    try {
      const making = visitor.call('session');
      await visitor.socket.join('Ann');
      made = await making;
    } finally {
      sfu.faults.set({});
    }
    expect(made.status).toBe(200);
    const { sessionId } = made.body;
    expect(await visitor.call('check', { sessionId })).toEqual({ status: 200, body: {} });
    // The room counts it as hers: she may announce its tracks.
    visitor.socket.send({ type: 'update', changes: { tracks: { camera: `${sessionId}/camera` } } });
    expect(await bob.socket.next('participant-updated', (m) => m.id === visitor.id)).toMatchObject({
      changes: { tracks: { camera: `${sessionId}/camera` } },
    });
  });

  it('announces no track of another session with a join', async () => {
    const room = freshRoom('lobby-join-foreign');
    const ann = await member(room, 'Ann');
    const annMicrophone = await publishMicrophone(peers, ann);
    // Without a session of its own, and with one: neither may announce Ann's track as theirs.
    const [bare, prepared] = await Promise.all([lobbyVisitor(room), lobbyVisitor(room)]);
    await sendMicrophone(peers, prepared);
    for (const [visitor, name] of [
      [bare, 'Bob'],
      [prepared, 'Cy'],
    ] as const) {
      visitor.socket.send({ type: 'join', name, state: { tracks: { microphone: annMicrophone } } });
      const joined = await ann.socket.next('participant-joined', (m) => m.participant.id === visitor.id);
      expect(joined.participant.tracks).toEqual({});
    }
  });

  it('closes what a visitor published when they go without joining, and stores nothing', async () => {
    const stored = storedRooms(open);
    const room = freshRoom('lobby-gone');
    const [closing, crashing, watcher] = await Promise.all([
      lobbyVisitor(room),
      lobbyVisitor(room),
      lobbyVisitor(room),
    ]);
    const published = await Promise.all([sendMicrophone(peers, closing), sendMicrophone(peers, crashing)]);
    expect(published.map(({ sessionId }) => heldBy(sessionId))).toEqual([1, 1]);

    // A closed tab says goodbye; a crashed one just goes (the room sees its socket drop).
    await closing.socket.close(1001);
    crashing.socket.terminate();
    await watcher.socket.next('lobby-count', (m) => m.count === 1);
    await expect.poll(() => published.map(({ sessionId }) => heldBy(sessionId)), POLL).toEqual([0, 0]);
    // A room with only a lobby stores nothing, media or not.
    expect(storedRooms(open)).toBe(stored);
  });

  it('limits new sessions per visitor across the lobby and the meeting', async () => {
    const room = freshRoom('lobby-quota');
    const visitor = await lobbyVisitor(room);
    const made: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { status, body } = await visitor.call('session');
      expect(status).toBe(200);
      made.push(body.sessionId);
    }
    const refused = await visitor.call('session');
    expect([refused.status, refused.body.error.code]).toEqual([429, 'media-rate-limited']);

    await visitor.socket.join('Ann');
    const again = await visitor.call('session');
    expect([again.status, again.body.error.code]).toEqual([429, 'media-rate-limited']);
    // The last one made in the lobby is the member's.
    expect((await visitor.call('check', { sessionId: made.at(-1) })).status).toBe(200);
    expect((await visitor.call('check', { sessionId: made[0] })).status).toBe(403);
  });

  it('gives a removed visitor nothing: their lobby tab is shut out, its session closed', async () => {
    const room = freshRoom('lobby-removed');
    const token = (name: string, role: 'host' | 'guest') => signJoinToken({ room, name, role }, SECRET, 600);
    const bobToken = await token('Bob', 'guest');
    const ann = await support.member(() => secured, room, 'Ann', { token: await token('Ann', 'host') });
    const bob = await support.member(() => secured, room, 'Bob', { token: bobToken });
    // Bob's second tab waits in the lobby with its microphone published.
    const tab = await support.lobbyVisitor(() => secured, room, { token: bobToken });
    const { sessionId } = await sendMicrophone(peers, tab);

    ann.socket.send({ type: 'remove-participant', id: bob.id });
    // (workerd completes the close of a socket that only ever pinged after ~20 s: not awaited here.)
    expect(await tab.socket.next('error')).toMatchObject({ code: 'removed' });
    await expect.poll(() => heldBy(sessionId), POLL).toBe(0);
    expect((await tab.call('session')).status).toBe(401);
  });
});
