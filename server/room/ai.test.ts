/**
 * Issue 8: the AI agent in the room, through the real Worker (wrangler dev)
 * with the local SFU and the local OpenAI Realtime stand-in, werift peers
 * standing in for browsers' microphones: who may invite it, everyone seeing
 * and pulling it, push-to-talk held by one at a time, captions for all, and
 * nothing left anywhere once it is gone.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localOpenAiVars, LOCAL_OPENAI_API_KEY } from '../local/realtime/local-key.js';
import { startLocalRealtime, type LocalRealtime } from '../local/realtime/server.js';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import { localCallsVars, LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET } from '../local/sfu/local-app.js';
import { createPeer } from '../local/sfu/peer.js';
import type { RoomSocket } from '../local/dev/room-socket.js';
import { startLocalWorker, type LocalWorker } from '../local/dev/worker.js';
import { freshRoom, joined } from '../test-support.js';

const POLL = { timeout: 5_000, interval: 25 };
/** Short, so that the test of the longest hold does not wait a minute. */
const MAX_TALK_SECONDS = 1.5;

let sfu: LocalSfu;
let realtime: LocalRealtime;
let worker: LocalWorker;
let bare: LocalWorker;
const peers: RTCPeerConnection[] = [];
const timers: ReturnType<typeof setInterval>[] = [];

beforeAll(async () => {
  [sfu, realtime] = await Promise.all([
    startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET }),
    startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY }),
  ]);
  const calls = localCallsVars(sfu.callsApiUrl);
  [worker, bare] = await Promise.all([
    startLocalWorker({
      vars: {
        ...calls,
        ...localOpenAiVars(realtime.url),
        AI_NAME: 'Robo',
        AI_MAX_TALK_SECONDS: String(MAX_TALK_SECONDS),
      },
    }),
    // Calls but no OpenAI key: no AI here.
    startLocalWorker({ vars: calls }),
  ]);
});
afterEach(async () => {
  timers.splice(0).forEach(clearInterval);
  await Promise.all(peers.splice(0).map((pc) => pc.close()));
});
afterAll(async () => {
  await Promise.all([worker?.stop(), bare?.stop()]);
  await Promise.all([sfu?.close(), realtime?.close()]);
});

interface Member {
  socket: RoomSocket;
  id: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many shapes; the tests assert them
  call(op: string, body?: unknown): Promise<{ status: number; body: any }>;
}

async function member(room: string, name: string, server = () => worker): Promise<Member> {
  const { socket, participant } = await joined(server, room, name);
  const snapshot = socket.received.find((m) => m.type === 'snapshot');
  const key = snapshot?.type === 'snapshot' ? snapshot.mediaKey! : '';
  return {
    socket,
    id: participant.id,
    async call(op, body = {}) {
      const response = await fetch(`${server().url}/api/rooms/${room}/media/${op}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${participant.id}.${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}

/** Publishes an Opus-like microphone through the media API and announces it, as a browser does. */
async function publishMicrophone(m: Member): Promise<string> {
  const { body: session } = await m.call('session');
  const pc = createPeer();
  peers.push(pc);
  const track = new MediaStreamTrack({ kind: 'audio' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const published = await m.call('publish', {
    sessionId: session.sessionId,
    offer: { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp },
    tracks: [{ mid: transceiver.mid, trackName: 'microphone' }],
  });
  expect(published.status).toBe(200);
  await pc.setRemoteDescription(published.body.answer);
  let seq = 0;
  timers.push(
    setInterval(() => {
      seq += 1;
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 480, ssrc: 7 });
      track.writeRtp(new RtpPacket(header, Buffer.from([0xa1, 0xfc, 0xff, 0xfe])));
    }, 10),
  );
  const ref = `${session.sessionId}/microphone`;
  m.socket.send({ type: 'update', changes: { tracks: { microphone: ref } } });
  await m.socket.next('participant-updated', (u) => u.id === m.id && !!u.changes.tracks);
  return ref;
}

/** Invites the AI as `host` and waits until `watchers` see its voice; returns its id and track. */
async function invite(host: Member, watchers: Member[]) {
  host.socket.send({ type: 'ai-invite' });
  const joinedAs = await Promise.all(
    watchers.map((w) => w.socket.next('participant-joined', (m) => m.participant.role === 'agent')),
  );
  const id = joinedAs[0]!.participant.id;
  const ready = await Promise.all(
    watchers.map((w) =>
      w.socket.next('participant-updated', (u) => u.id === id && !!u.changes.tracks?.microphone, 10_000),
    ),
  );
  for (const update of ready) expect(update.changes.aiState).toBe('listening');
  return { id, participant: joinedAs[0]!.participant, track: ready[0]!.changes.tracks!.microphone! };
}

/** Open tracks of third-party sessions: the agents' voices and what is pulled into them. */
function agentTracksOnSfu(): number {
  return [...sfu.sessions.values()]
    .filter((session) => session.thirdParty)
    .reduce(
      (n, session) =>
        n +
        [...session.published.values(), ...session.pulled.values(), ...session.feeds.values()].filter(
          (track) => track.active,
        ).length,
      0,
    );
}

async function expectNothingLeft() {
  await expect.poll(() => realtime.stats(), POLL).toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
  await expect.poll(agentTracksOnSfu, POLL).toBe(0);
}

describe('the AI agent in the room', () => {
  it('is invited by a host and appears for everyone, its voice pulled like anyone’s', async () => {
    const room = freshRoom('ai-invite');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    expect(ann.socket.received.find((m) => m.type === 'snapshot')).toMatchObject({
      ai: { available: true, talker: null },
    });

    const agent = await invite(ann, [ann, bob]);
    expect(agent.participant).toMatchObject({ name: 'Robo', role: 'agent', aiState: 'connecting' });
    expect(agent.track).toMatch(/^[0-9a-f]+\/ai-generated-voice$/);
    expect(realtime.stats()).toMatchObject({ callsOpen: 1, sidebandsOpen: 1 });

    // Someone who comes later sees it in the snapshot, and anyone pulls its voice.
    const cy = await member(room, 'Cy');
    const snapshot = cy.socket.received.find((m) => m.type === 'snapshot');
    expect(
      snapshot?.type === 'snapshot' && snapshot.participants.find((p) => p.role === 'agent'),
    ).toMatchObject({ id: agent.id, aiState: 'listening', tracks: { microphone: agent.track } });
    const { body: session } = await bob.call('session');
    const pulled = await bob.call('pull', { sessionId: session.sessionId, tracks: [agent.track] });
    expect(pulled.status).toBe(200);
    expect(pulled.body.tracks).toEqual([{ ref: agent.track, mid: expect.any(String) }]);

    // Inviting again changes nothing.
    ann.socket.send({ type: 'ai-invite' });
    ann.socket.send({ type: 'ai-remove' });
    await Promise.all(
      [ann, bob, cy].map((m) =>
        m.socket.next('participant-left', (l) => l.id === agent.id && l.reason === 'left'),
      ),
    );
    expect(
      [ann, bob, cy]
        .flatMap((m) => m.socket.received)
        .filter((m) => m.type === 'participant-joined' && m.participant.role === 'agent'),
    ).toHaveLength(2);
    await expectNothingLeft();
  });

  it('is not for a guest to invite or remove under the host policy', async () => {
    const room = freshRoom('ai-policy');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    bob.socket.send({ type: 'ai-invite' });
    expect(await bob.socket.next('error')).toMatchObject({ code: 'forbidden', cause: 'ai-invite' });
    const agent = await invite(ann, [ann, bob]);
    bob.socket.send({ type: 'ai-remove' });
    expect(await bob.socket.next('error')).toMatchObject({ code: 'forbidden', cause: 'ai-remove' });
    ann.socket.send({ type: 'end-meeting' });
    await bob.socket.next('meeting-ended');
    expect(bob.socket.received.some((m) => m.type === 'participant-left' && m.id === agent.id)).toBe(false);
    await expectNothingLeft();
  });

  it('lets one hold push-to-talk at a time: the second gets ai-busy; leaving or holding too long releases', async () => {
    const room = freshRoom('ai-talk');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    await Promise.all([publishMicrophone(ann), publishMicrophone(bob)]);
    await invite(ann, [ann, bob]);

    ann.socket.send({ type: 'ai-talk', on: true });
    await Promise.all([ann, bob].map((m) => m.socket.next('ai-talker', (t) => t.id === ann.id)));
    bob.socket.send({ type: 'ai-talk', on: true });
    expect(await bob.socket.next('error')).toMatchObject({
      code: 'ai-busy',
      holder: ann.id,
      cause: 'ai-talk',
    });

    // The holder leaves: released for the others.
    ann.socket.send({ type: 'leave' });
    await bob.socket.next('ai-talker', (t) => t.id === null);

    // Held too long: the room ends the turn on its own.
    bob.socket.send({ type: 'ai-talk', on: true });
    await bob.socket.next('ai-talker', (t) => t.id === bob.id);
    const heldAt = Date.now();
    await bob.socket.next('ai-talker', (t) => t.id === null, MAX_TALK_SECONDS * 1_000 + 3_000);
    expect(
      bob.socket.received.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.message),
    ).toEqual(['Someone else is talking to the AI']);

    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(MAX_TALK_SECONDS * 1_000 - 100);
    // The last human leaves: the agent goes with them.
    bob.socket.send({ type: 'leave' });
    await expectNothingLeft();
  });

  it('answers a turn: after the release everyone gets its captions, ending with a final one', async () => {
    const room = freshRoom('ai-captions');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    await publishMicrophone(bob);
    const agent = await invite(ann, [ann, bob]);

    const heardBefore = realtime.stats().audioPacketsReceived;
    bob.socket.send({ type: 'ai-talk', on: true });
    await bob.socket.next('ai-talker', (t) => t.id === bob.id);
    await expect.poll(() => realtime.stats().audioPacketsReceived - heardBefore, POLL).toBeGreaterThan(30);
    bob.socket.send({ type: 'ai-talk', on: false });

    for (const m of [ann, bob]) {
      const final = await m.socket.next('ai-caption', (c) => c.final);
      expect(final).toMatchObject({ id: agent.id, text: expect.stringMatching(/^I heard you for/) });
      const pieces = m.socket.received.filter((c) => c.type === 'ai-caption' && !c.final);
      expect(pieces.length).toBeGreaterThan(0);
    }
    await expect
      .poll(
        () =>
          ann.socket.received.some(
            (m) => m.type === 'participant-updated' && m.id === agent.id && m.changes.aiState === 'speaking',
          ),
        POLL,
      )
      .toBe(true);

    ann.socket.send({ type: 'end-meeting' });
    await bob.socket.next('meeting-ended');
    await expectNothingLeft();
  });

  it('refuses a turn to someone with no microphone, and anything when the AI is not there', async () => {
    const room = freshRoom('ai-refusals');
    const ann = await member(room, 'Ann');
    ann.socket.send({ type: 'ai-talk', on: true });
    expect(await ann.socket.next('error')).toMatchObject({ code: 'ai-unavailable', cause: 'ai-talk' });
    await invite(ann, [ann]);
    ann.socket.send({ type: 'ai-talk', on: true });
    expect(await ann.socket.next('error')).toMatchObject({ code: 'ai-failed', cause: 'ai-talk' });
    ann.socket.send({ type: 'leave' });
    await expectNothingLeft();
  });

  it('is not available on a server without an OpenAI key', async () => {
    const room = freshRoom('ai-none');
    const ann = await member(room, 'Ann', () => bare);
    expect(ann.socket.received.find((m) => m.type === 'snapshot')).toMatchObject({
      ai: { available: false, talker: null },
    });
    ann.socket.send({ type: 'ai-invite' });
    expect(await ann.socket.next('error')).toMatchObject({ code: 'ai-unavailable', cause: 'ai-invite' });
  });
});
