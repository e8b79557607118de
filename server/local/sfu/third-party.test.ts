/**
 * Issue 8: what the AI agent needs from Calls, bridged like Orange Meets does
 * (CALLS-API.md, "OpenAI Realtime over WebRTC"). A third-party session gets
 * the SFU's offer for a bidirectional local track; participants pull what the
 * agent says; a `#ai-generated-voice` pull makes the agent hear one
 * participant at a time. werift peers play the model and the participants.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSfu, type LocalSfu } from './calls-server.js';
import { TEST_APP } from './test-browser.js';
import { WeriftPeer } from './test-werift.js';

const AI_VOICE = 'ai-generated-voice';
/** Who sent a packet: the first byte of its payload. */
const AGENT = 0xa0;
const ALICE = 0xa1;
const BOB = 0xb0;
const RECORDER = 0xc0;
/** Packets (10 ms each) to wait for as proof that media flows. */
const MORE = 20;
const POLL = { timeout: 5_000, interval: 20 };

let sfu: LocalSfu;
const peers: WeriftPeer[] = [];

beforeEach(async () => {
  sfu = await startLocalSfu(TEST_APP);
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await sfu.close();
});

async function open(query?: string): Promise<WeriftPeer> {
  const peer = await WeriftPeer.open(sfu, query);
  peers.push(peer);
  return peer;
}

/** The agent as Meetkit will bridge it: a third-party session, the SFU's offer answered by the model. */
async function agent() {
  const model = await open('?thirdparty=true&correlationId=meeting-1');
  const { body } = await model.request('POST', '/tracks/new', {
    tracks: [{ location: 'local', trackName: AI_VOICE, kind: 'audio', bidirectionalMediaStream: true }],
  });
  const answer = await model.answer(body.sessionDescription, AGENT);
  expect((await model.request('PUT', '/renegotiate', { sessionDescription: answer })).status).toBe(200);
  return { model, mid: body.tracks[0].mid as string };
}

/** A participant publishing a microphone that stamps its packets with `from`. */
async function participant(from: number) {
  const peer = await open();
  const mid = await peer.publishMicrophone(from);
  return { peer, mid, microphone: { sessionId: peer.sessionId, trackName: 'microphone' } };
}

/** Pulls `source` into the agent's own transceiver (`#ai-generated-voice`). */
function pullIntoAgent(model: WeriftPeer, source: { sessionId: string; trackName: string }) {
  return model.request('POST', '/tracks/new', {
    tracks: [{ location: 'remote', ...source, mid: `#${AI_VOICE}` }],
  });
}

/** Waits until `peer` has received `more` packets from `from` than now. */
async function keepsReceiving(peer: WeriftPeer, from: number, more = MORE): Promise<void> {
  const now = peer.count(from);
  await expect.poll(() => peer.count(from), POLL).toBeGreaterThanOrEqual(now + more);
}

/**
 * `peer` receives nothing more from `from`: once a packet that was on its way
 * has landed (while `meanwhile` shows that media still flows elsewhere), the
 * count stays put while `meanwhile` goes on.
 */
async function receivesNoMore(peer: WeriftPeer, from: number, meanwhile: () => Promise<void>): Promise<void> {
  await meanwhile();
  const settled = peer.count(from);
  await meanwhile();
  expect(peer.count(from)).toBe(settled);
}

describe('a third-party session (the AI agent)', () => {
  it('is made like any session, labelled', async () => {
    const model = await open('?thirdparty=true&correlationId=meeting-1');
    expect(model.sessionId).toMatch(/^[0-9a-f]{32}$/);
    expect(sfu.sessions.get(model.sessionId)).toMatchObject({ thirdParty: true, correlationId: 'meeting-1' });
    expect(sfu.stats()).toMatchObject({ sessions: 1, thirdPartySessions: 1 });
  });

  it('gets the SFU offer for a bidirectional local track, and connects on the answer', async () => {
    const model = await open('?thirdparty=true');
    const offered = await model.request('POST', '/tracks/new', {
      tracks: [{ location: 'local', trackName: AI_VOICE, kind: 'audio', bidirectionalMediaStream: true }],
    });
    expect(offered).toEqual({
      status: 200,
      body: {
        requiresImmediateRenegotiation: true,
        sessionDescription: { type: 'offer', sdp: expect.stringContaining('m=audio') },
        tracks: [{ trackName: AI_VOICE, mid: expect.any(String) }],
      },
    });
    const { mid } = offered.body.tracks[0];
    const section = offered.body.sessionDescription.sdp
      .split(/\r\n(?=m=)/)
      .find((s: string) => s.includes(`a=mid:${mid}\r\n`));
    expect(section).toContain('a=sendrecv'); // The SFU can send on it too.

    // One negotiation at a time: the offer waits for its answer.
    const meanwhile = await model.request('POST', '/tracks/new', {
      tracks: [{ location: 'local', trackName: 'other', kind: 'audio' }],
    });
    expect(meanwhile.status).toBe(406);

    const answer = await model.answer(offered.body.sessionDescription, AGENT);
    expect(await model.request('PUT', '/renegotiate', { sessionDescription: answer })).toEqual({
      status: 200,
      body: {},
    });
    await expect.poll(() => model.pc.connectionState, POLL).toBe('connected');
    expect((await model.request('GET', '')).body).toEqual({
      tracks: [{ location: 'local', mid, trackName: AI_VOICE, status: 'active' }],
    });
  });

  it('offers a receive-only m-line without bidirectionalMediaStream, and refuses local tracks it cannot offer', async () => {
    const model = await open('?thirdparty=true');
    const withoutKind = await model.request('POST', '/tracks/new', {
      tracks: [{ location: 'local', trackName: AI_VOICE }],
    });
    expect(withoutKind).toMatchObject({ status: 400, body: { errorCode: 'invalid_params' } });
    const offered = await model.request('POST', '/tracks/new', {
      tracks: [{ location: 'local', trackName: 'recording', kind: 'audio' }],
    });
    expect(offered.body.sessionDescription.sdp).toContain('a=recvonly');
  });
});

describe('what the agent says', () => {
  it('is a track participants pull like a microphone', async () => {
    const { model } = await agent();
    const [alice, bob] = await Promise.all([participant(ALICE), participant(BOB)]);
    const aiVoice = { sessionId: model.sessionId, trackName: AI_VOICE };
    await Promise.all([alice.peer.pull([aiVoice]), bob.peer.pull([aiVoice])]);
    await Promise.all([keepsReceiving(alice.peer, AGENT), keepsReceiving(bob.peer, AGENT)]);
    expect((await alice.peer.request('GET', '')).body.tracks).toContainEqual(
      expect.objectContaining({ location: 'remote', ...aiVoice, status: 'active' }),
    );
  });
});

describe('a pull into the agent transceiver (#ai-generated-voice)', () => {
  it('makes the agent hear one participant, then another in their place, with no renegotiation', async () => {
    const { model, mid } = await agent();
    const [alice, bob] = await Promise.all([participant(ALICE), participant(BOB)]);
    const requestsBefore = sfu.requests(model.sessionId).renegotiate;

    const intoAgent = await pullIntoAgent(model, alice.microphone);
    expect(intoAgent).toEqual({
      status: 200,
      body: { requiresImmediateRenegotiation: false, tracks: [{ ...alice.microphone, mid }] },
    });
    await keepsReceiving(model, ALICE);
    expect((await model.request('GET', '')).body.tracks).toEqual([
      { location: 'local', mid, trackName: AI_VOICE, status: 'active' },
      { location: 'remote', mid, ...alice.microphone, status: 'active' },
    ]);

    const switched = model.received.length;
    expect((await pullIntoAgent(model, bob.microphone)).body.tracks).toEqual([{ ...bob.microphone, mid }]);
    await keepsReceiving(model, BOB);
    await receivesNoMore(model, ALICE, () => keepsReceiving(model, BOB, 10));
    // The agent's stream goes on where Alice's left off: no jump its jitter buffer would take for loss.
    const firstFromBob = model.received.findIndex((p, i) => i >= switched && p.from === BOB);
    const [last, next] = [model.received[firstFromBob - 1]!, model.received[firstFromBob]!];
    expect(last.from).toBe(ALICE);
    expect((next.sequenceNumber - last.sequenceNumber) & 0xffff).toBe(1);
    expect((next.timestamp - last.timestamp) >>> 0).toBeLessThanOrEqual(960);
    expect(sfu.requests(model.sessionId).renegotiate).toBe(requestsBefore);

    // The source leaves: forwarding stops, and the pull is listed inactive.
    await bob.peer.request('PUT', '/tracks/close', { tracks: [{ mid: bob.mid }], force: true });
    await alice.peer.pull([{ sessionId: model.sessionId, trackName: AI_VOICE }]);
    await receivesNoMore(model, BOB, () => keepsReceiving(alice.peer, AGENT, 10));
    expect((await model.request('GET', '')).body.tracks).toContainEqual({
      location: 'remote',
      mid,
      ...bob.microphone,
      status: 'inactive',
    });
  });

  it('gives item errors, and still serves the rest of the batch', async () => {
    const { model, mid } = await agent();
    const alice = await participant(ALICE);
    // A third-party peer that only sends: its local track is receive-only for the SFU.
    const recorder = await open('?thirdparty=true');
    const offered = await recorder.request('POST', '/tracks/new', {
      tracks: [{ location: 'local', trackName: 'recording', kind: 'audio' }],
    });
    const answer = await recorder.answer(offered.body.sessionDescription, RECORDER);
    await recorder.request('PUT', '/renegotiate', { sessionDescription: answer });

    const batch = await model.request('POST', '/tracks/new', {
      tracks: [
        { location: 'remote', sessionId: alice.peer.sessionId, trackName: 'not-yet', mid: `#${AI_VOICE}` },
        { location: 'remote', ...alice.microphone, mid: '#no-such-track' },
        { location: 'remote', ...alice.microphone, mid: `#${AI_VOICE}` },
      ],
    });
    expect(batch).toEqual({
      status: 200,
      body: {
        requiresImmediateRenegotiation: false,
        tracks: [
          {
            sessionId: alice.peer.sessionId,
            trackName: 'not-yet',
            errorCode: 'not_found_track_error',
            errorDescription: expect.any(String),
          },
          {
            ...alice.microphone,
            errorCode: 'invalid_params',
            errorDescription: expect.stringContaining('#no-such-track'),
          },
          { ...alice.microphone, mid },
        ],
      },
    });
    await keepsReceiving(model, ALICE);

    // Only a bidirectional local track can take a pull: not a receive-only one, not a browser's own.
    const bob = await participant(BOB);
    const notBidirectional = [
      await recorder.request('POST', '/tracks/new', {
        tracks: [{ location: 'remote', ...alice.microphone, mid: '#recording' }],
      }),
      await bob.peer.request('POST', '/tracks/new', {
        tracks: [{ location: 'remote', ...alice.microphone, mid: '#microphone' }],
      }),
    ];
    for (const { status, body } of notBidirectional)
      expect({ status, code: body.tracks[0].errorCode }).toEqual({ status: 200, code: 'invalid_params' });
  });
});

describe('the agent leaving', () => {
  it('closing its track stops both directions', async () => {
    const { model, mid } = await agent();
    const [alice, bob] = await Promise.all([participant(ALICE), participant(BOB)]);
    await alice.peer.pull([{ sessionId: model.sessionId, trackName: AI_VOICE }]);
    await bob.peer.pull([alice.microphone]); // To see that Alice's microphone goes on.
    await pullIntoAgent(model, alice.microphone);
    await Promise.all([keepsReceiving(model, ALICE), keepsReceiving(alice.peer, AGENT)]);
    expect(sfu.stats()).toMatchObject({ publishedTracks: 3, pulledTracks: 3 });

    expect(await model.request('PUT', '/tracks/close', { tracks: [{ mid }], force: true })).toEqual({
      status: 200,
      body: { tracks: [{ mid }], requiresImmediateRenegotiation: false },
    });
    const aliceGoesOn = () => keepsReceiving(bob.peer, ALICE, 10);
    await receivesNoMore(model, ALICE, aliceGoesOn);
    await receivesNoMore(alice.peer, AGENT, aliceGoesOn);
    expect((await model.request('GET', '')).body).toEqual({ tracks: [] });
    expect((await alice.peer.request('GET', '')).body.tracks).toContainEqual(
      expect.objectContaining({ trackName: AI_VOICE, status: 'inactive' }),
    );
    expect(sfu.stats()).toMatchObject({ publishedTracks: 2, pulledTracks: 1 });
  });

  it('ends its session with everything it published and pulled', async () => {
    // werift sends no DTLS close alert (its `stop()` leaves it to do), so a werift peer that
    // leaves is noticed by its silence: a short reconnect window instead of Calls' 30 s.
    await sfu.close();
    sfu = await startLocalSfu({ ...TEST_APP, reconnectWindowMs: 1_000 });
    const { model } = await agent();
    const alice = await participant(ALICE);
    await alice.peer.pull([{ sessionId: model.sessionId, trackName: AI_VOICE }]);
    await pullIntoAgent(model, alice.microphone);
    await Promise.all([keepsReceiving(model, ALICE), keepsReceiving(alice.peer, AGENT)]);

    await model.close();
    await expect
      .poll(() => sfu.stats(), POLL)
      .toMatchObject({
        sessions: 1,
        thirdPartySessions: 0,
        publishedTracks: 1, // Alice's microphone.
        pulledTracks: 0,
      });
    expect((await model.request('GET', '')).status).toBe(410);
    expect(sfu.sessions.get(alice.peer.sessionId)?.published.get('microphone')?.subscribers.size).toBe(0);
    expect((await alice.peer.request('GET', '')).body.tracks).toContainEqual(
      expect.objectContaining({ trackName: AI_VOICE, status: 'inactive' }),
    );
  });
});
