/**
 * Issue 8: the AI agent when things go wrong, through the real Worker
 * (wrangler dev) with the local SFU and the local OpenAI Realtime stand-in:
 * the Worker restarts with the agent in the room, nobody talks to it for a
 * while, OpenAI refuses the key, is overloaded, or does not answer. The
 * meeting goes on in every case, and nothing of the agent is left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalWorker, type LocalWorker } from '../local/dev/worker.js';
import { freshRoom } from '../test-support.js';
import * as support from './test-support.js';
import {
  agentSeenBy,
  agentSessions,
  invite,
  memberBack,
  POLL,
  publishMicrophone,
  startAiStack,
  usePeers,
  type AiStack,
  type Member,
} from './test-support.js';

/** Each request to OpenAI (and opening its sideband) gives up after this long. */
const TIMEOUT_SECONDS = 1;
/** On the idle Worker: one timed-out request makes joining take longer than the idle time. */
const IDLE_WORKER_TIMEOUT_SECONDS = 2;
/** The agent's tries at joining (`Agent`'s default). */
const INVITE_ATTEMPTS = 3;
/** 1.2 s: the idle agent leaves within the test. */
const IDLE_MINUTES = 0.02;
const IDLE_MS = IDLE_MINUTES * 60_000;

let stack: AiStack;
/** Restarted over the same storage and port by the restart test. */
let worker: LocalWorker;
let idle: LocalWorker;
const persistTo = mkdtempSync(join(tmpdir(), 'meetkit-ai-restart-'));
const workerVars = () => ({ ...stack.vars, AI_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) });
const peers = usePeers();

beforeAll(async () => {
  stack = await startAiStack();
  [worker, idle] = await Promise.all([
    startLocalWorker({ persistTo, vars: workerVars() }),
    startLocalWorker({
      vars: {
        ...stack.vars,
        AI_IDLE_MINUTES: String(IDLE_MINUTES),
        AI_TIMEOUT_SECONDS: String(IDLE_WORKER_TIMEOUT_SECONDS),
      },
    }),
  ]);
});
afterEach(() => stack.realtime.faults.set({}));
afterAll(async () => {
  await Promise.all([worker?.stop(), idle?.stop()]);
  await stack?.close();
  rmSync(persistTo, { recursive: true, force: true });
});

const member = (room: string, name: string, server = () => worker) => support.member(server, room, name);

/** A change from one participant still reaches everyone: `from` raises or lowers a hand. */
async function expectMeetingGoesOn(from: Member, others: Member[]) {
  const handRaised = !ownHand(from);
  from.socket.send({ type: 'update', changes: { handRaised } });
  await Promise.all(
    [from, ...others].map((m) =>
      m.socket.next('participant-updated', (u) => u.id === from.id && u.changes.handRaised === handRaised),
    ),
  );
}

/** Whether `m`'s hand is up, as its own connection last heard. */
function ownHand(m: Member): boolean {
  let handRaised = false;
  for (const message of m.socket.received)
    if (message.type === 'participant-updated' && message.id === m.id)
      handRaised = message.changes.handRaised ?? handRaised;
  return handRaised;
}

/** The host ends the meeting: the agent goes with it, and nothing of it is left. */
async function endMeeting(host: Member, others: Member[], room: string) {
  host.socket.send({ type: 'end-meeting' });
  await Promise.all(others.map((m) => m.socket.next('meeting-ended')));
  await support.expectNothingLeft(stack, room, { exceptUnanswered: true });
}

/**
 * How many Calls sessions failed invites left in `room`, each checked to be
 * one whose offer OpenAI never answered (see `expectNothingLeft`).
 */
function unansweredSessions(room: string): number {
  const sessions = agentSessions(stack.sfu, room);
  expect(sessions.filter((s) => s.negotiated || s.connected).map((s) => s.id)).toEqual([]);
  return sessions.length;
}

describe('the AI agent when things go wrong', () => {
  it('survives a restart of the Worker: still in the room, still heard, still answering, and removed cleanly', async () => {
    const room = freshRoom('ai-restart');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    await publishMicrophone(peers, bob);
    const agent = await invite(ann, [ann, bob]);
    expect(stack.realtime.calls.size).toBe(1);
    const [callId] = [...stack.realtime.calls.keys()];
    const hungUp = stack.realtime.stats().callsHungUp;

    // The Worker dies: its sideband goes with it; the OpenAI call and the Calls track stay.
    const resumes = [ann.socket.resume, bob.socket.resume];
    const { port } = worker;
    await worker.stop();
    await expect.poll(() => stack.realtime.stats(), POLL).toMatchObject({ callsOpen: 1, sidebandsOpen: 0 });
    worker = await startLocalWorker({ persistTo, port, vars: workerVars() });

    const annBack = await memberBack(() => worker, room, resumes[0]!);
    const bobBack = await memberBack(() => worker, room, resumes[1]!);
    for (const m of [annBack, bobBack])
      await expect
        .poll(() => agentSeenBy(m), POLL)
        .toMatchObject({ id: agent.id, aiState: 'listening', tracks: { microphone: agent.track } });
    // The same call, with a new sideband opened by the new Worker.
    expect([...stack.realtime.calls.keys()]).toEqual([callId]);
    expect(stack.realtime.stats()).toMatchObject({ callsOpen: 1, sidebandsOpen: 1 });

    // Ann pulls its voice as anyone would, and hears it answer Bob's turn.
    const { body: session } = await annBack.call('session');
    const pulled = await annBack.call('pull', { sessionId: session.sessionId, tracks: [agent.track] });
    expect(pulled.status).toBe(200);
    expect(pulled.body.tracks).toEqual([{ ref: agent.track, mid: expect.any(String) }]);
    const pc = peers.create();
    let heard = 0;
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => heard++));
    await pc.setRemoteDescription(pulled.body.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    const answer = { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp };
    expect((await annBack.call('renegotiate', { sessionId: session.sessionId, answer })).status).toBe(200);

    const heardBefore = stack.realtime.stats().audioPacketsReceived;
    bobBack.socket.send({ type: 'ai-talk', on: true });
    await Promise.all([annBack, bobBack].map((m) => m.socket.next('ai-talker', (t) => t.id === bob.id)));
    await expect
      .poll(() => stack.realtime.stats().audioPacketsReceived - heardBefore, POLL)
      .toBeGreaterThan(30);
    bobBack.socket.send({ type: 'ai-talk', on: false });
    for (const m of [annBack, bobBack])
      expect(await m.socket.next('ai-caption', (c) => c.final)).toMatchObject({
        id: agent.id,
        text: expect.stringMatching(/^I heard you for/),
      });
    // The answer replays Bob's turn (at least 30 packets reached the agent, a few maybe before it listened).
    await expect.poll(() => heard, POLL).toBeGreaterThan(10);

    annBack.socket.send({ type: 'ai-remove' });
    for (const m of [annBack, bobBack])
      await m.socket.next('participant-left', (l) => l.id === agent.id && l.reason === 'left');
    await support.expectNothingLeft(stack, room);
    expect(stack.realtime.stats().callsHungUp).toBe(hungUp + 1);
    annBack.socket.send({ type: 'end-meeting' });
    await bobBack.socket.next('meeting-ended');
  }, 30_000);

  it('leaves on its own after AI_IDLE_MINUTES without a turn, counted from when it joined or the last turn ended', async () => {
    const room = freshRoom('ai-idle');
    const ann = await member(room, 'Ann', () => idle);
    const bob = await member(room, 'Bob', () => idle);
    await publishMicrophone(peers, bob);
    const hungUp = stack.realtime.stats().callsHungUp;

    // OpenAI keeps the first try waiting: joining takes longer than the idle time, which does not count yet.
    stack.realtime.faults.set({ route: 'create-call', hangNext: 1 });
    const invitedAt = Date.now();
    const agent = await invite(ann, [ann, bob]);
    expect(Date.now() - invitedAt).toBeGreaterThan(IDLE_MS);

    // A turn held longer than the idle time: the agent stays while someone talks to it.
    // Bob's microphone sends at most a packet every 10 ms: hearing this many takes longer than the idle time.
    const heardBefore = stack.realtime.stats().audioPacketsReceived;
    bob.socket.send({ type: 'ai-talk', on: true });
    await bob.socket.next('ai-talker', (t) => t.id === bob.id);
    await expect
      .poll(() => stack.realtime.stats().audioPacketsReceived - heardBefore, POLL)
      .toBeGreaterThan(IDLE_MS / 10 + 30);
    expect(agentSeenBy(ann)).toMatchObject({ id: agent.id });
    // Sent before the room ends the turn: the idle time counts from a moment after this.
    const releasedBy = Date.now();
    bob.socket.send({ type: 'ai-talk', on: false });
    await bob.socket.next('ai-talker', (t) => t.id === null);
    await bob.socket.next('ai-caption', (c) => c.final);

    for (const m of [ann, bob])
      await m.socket.next('participant-left', (l) => l.id === agent.id && l.reason === 'timed-out');
    expect(Date.now() - releasedBy).toBeGreaterThanOrEqual(IDLE_MS);
    await support.expectNothingLeft(stack, room, { exceptUnanswered: true });
    expect(stack.realtime.stats().callsHungUp).toBe(hungUp + 1);
    await expectMeetingGoesOn(bob, [ann]);
    await endMeeting(ann, [bob], room);
  });

  it('reopens its control socket once when OpenAI drops it, and leaves with error when it drops again', async () => {
    const room = freshRoom('ai-sideband-drop');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    await publishMicrophone(peers, bob);
    const agent = await invite(ann, [ann, bob]);
    expect(stack.realtime.calls.size).toBe(1);
    const [call] = [...stack.realtime.calls.values()];
    const [first] = [...call!.sidebands];
    const heardBefore = call!.media.packetsReceived;

    first!.close(1011, 'dropped by the test');
    await expect
      .poll(() => [...call!.sidebands].filter((s) => s !== first && s.readyState === s.OPEN).length, POLL)
      .toBe(1);
    bob.socket.send({ type: 'ai-talk', on: true });
    await bob.socket.next('ai-talker', (t) => t.id === bob.id);
    await expect.poll(() => call!.media.packetsReceived - heardBefore, POLL).toBeGreaterThan(30);
    bob.socket.send({ type: 'ai-talk', on: false });
    expect(await ann.socket.next('ai-caption', (c) => c.final)).toMatchObject({ id: agent.id });

    for (const socket of call!.sidebands) socket.close(1011, 'dropped by the test again');
    for (const m of [ann, bob])
      await expect
        .poll(() => agentSeenBy(m), POLL)
        .toMatchObject({ id: agent.id, aiState: 'error', tracks: {} });
    await support.expectNothingLeft(stack, room);
    expect(call!.closed).toBe(true);
    await expectMeetingGoesOn(bob, [ann]);
    await endMeeting(ann, [bob], room);
  });

  it('tells the inviter when OpenAI refuses its control socket, without retrying, and hangs up the call', async () => {
    const room = freshRoom('ai-sideband-refused');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const before = stack.realtime.stats();
    stack.realtime.faults.set({ route: 'sideband', status: 401, failNext: 10 });

    ann.socket.send({ type: 'ai-invite' });
    const failed = await ann.socket.next('error', (e) => e.code === 'ai-failed');
    expect(failed.message).toMatch(
      /^The AI could not join: OpenAI refused the server's API key on the sideband \(401\)/,
    );
    expect(stack.realtime.stats().faultsInjected - before.faultsInjected).toBe(1);
    expect(stack.realtime.stats().callRequests - before.callRequests).toBe(1);
    for (const m of [ann, bob])
      await expect.poll(() => agentSeenBy(m), POLL).toMatchObject({ aiState: 'error', tracks: {} });
    // The call OpenAI made and the track Calls answered for it are ended.
    await support.expectNothingLeft(stack, room);
    expect(stack.realtime.stats().callsHungUp - before.callsHungUp).toBe(1);
    await expectMeetingGoesOn(bob, [ann]);
    await endMeeting(ann, [bob], room);
  });

  it('tells the inviter once when OpenAI refuses the key, without retrying; the agent shows error and can be retried', async () => {
    const room = freshRoom('ai-bad-key');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const before = stack.realtime.stats();
    stack.realtime.faults.set({ route: 'create-call', status: 401, failNext: 10 });

    ann.socket.send({ type: 'ai-invite' });
    const failed = await ann.socket.next('error', (e) => e.code === 'ai-failed');
    expect(failed).toMatchObject({ cause: 'ai-invite' });
    expect(failed.message).toMatch(/^The AI could not join: OpenAI refused the server's API key \(401\)/);
    for (const m of [ann, bob])
      await expect.poll(() => agentSeenBy(m), POLL).toMatchObject({ aiState: 'error', tracks: {} });
    expect(stack.realtime.stats().callRequests - before.callRequests).toBe(1);
    expect(stack.realtime.stats().callsOpen).toBe(0);
    expect(unansweredSessions(room)).toBe(1);
    expect(bob.socket.received.filter((m) => m.type === 'error')).toEqual([]);
    await expectMeetingGoesOn(bob, [ann]);

    // The key is right again: Retry brings the same participant in.
    stack.realtime.faults.set({});
    const { id } = agentSeenBy(ann)!;
    ann.socket.send({ type: 'ai-invite' });
    for (const m of [ann, bob])
      await expect
        .poll(() => agentSeenBy(m), POLL)
        .toMatchObject({ id, aiState: 'listening', tracks: { microphone: expect.any(String) } });
    await endMeeting(ann, [bob], room);
  });

  it('tries again with backoff while OpenAI is unavailable (503), and joins once it answers', async () => {
    const room = freshRoom('ai-503');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const before = stack.realtime.stats();
    stack.realtime.faults.set({ route: 'create-call', status: 503, failNext: 2 });

    await invite(ann, [ann, bob]);
    expect(stack.realtime.stats().callRequests - before.callRequests).toBe(3);
    expect(stack.realtime.stats().faultsInjected - before.faultsInjected).toBe(2);
    expect([ann, bob].flatMap((m) => m.socket.received.filter((e) => e.type === 'error'))).toEqual([]);
    await expectMeetingGoesOn(bob, [ann]);
    await endMeeting(ann, [bob], room);
  });

  it('gives up on an OpenAI that does not answer after a bounded number of timed-out tries, then shows error', async () => {
    const room = freshRoom('ai-timeout');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const before = stack.realtime.stats();
    stack.realtime.faults.set({ route: 'create-call', hangNext: 10 });

    const invitedAt = Date.now();
    ann.socket.send({ type: 'ai-invite' });
    await expect.poll(() => stack.realtime.stats().callRequests - before.callRequests, POLL).toBe(1);
    // While OpenAI keeps the room's request waiting, the meeting goes on.
    await expectMeetingGoesOn(bob, [ann]);

    const failed = await ann.socket.next('error', (e) => e.code === 'ai-failed', 15_000);
    const tookMs = Date.now() - invitedAt;
    expect(failed.message).toMatch(/^The AI could not join: .*no answer within 1000 ms/);
    expect(stack.realtime.stats().callRequests - before.callRequests).toBe(INVITE_ATTEMPTS);
    expect(tookMs).toBeGreaterThanOrEqual(INVITE_ATTEMPTS * TIMEOUT_SECONDS * 1_000);
    // Each try: its timeout, then (generously, for a busy machine) its Calls requests and backoff.
    expect(tookMs).toBeLessThan(INVITE_ATTEMPTS * (TIMEOUT_SECONDS * 1_000 + 2_000));
    for (const m of [ann, bob])
      await expect.poll(() => agentSeenBy(m), POLL).toMatchObject({ aiState: 'error', tracks: {} });
    expect(stack.realtime.stats().callsOpen).toBe(0);
    expect(unansweredSessions(room)).toBe(INVITE_ATTEMPTS);
    await expectMeetingGoesOn(bob, [ann]);
    await endMeeting(ann, [bob], room);
  }, 25_000);
});
