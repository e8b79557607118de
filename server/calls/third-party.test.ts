/**
 * Issue 8: the Calls client bridging the AI model the way Orange Meets does
 * (CALLS-API.md, "OpenAI Realtime over WebRTC"), against the local SFU with
 * werift peers: a third-party session answers the SFU's offer for its
 * bidirectional voice track, a participant's microphone is pulled into it
 * (`#ai-generated-voice`), item errors come back as results, and the retry
 * rules hold under injected faults, counted with the SFU's request counters.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import type { FaultSettingsInput } from '../local/sfu/faults.js';
import { createPeer } from '../local/sfu/peer.js';
import { TEST_APP } from '../local/sfu/test-browser.js';
import { WeriftPeer } from '../local/sfu/test-werift.js';
import { createCallsClient, type CallsClient } from './client.js';
import { CallsError } from './errors.js';
import type { SessionDescription } from './schema.js';

const AI_VOICE = 'ai-generated-voice';
const VOICE_TRACK = { trackName: AI_VOICE, kind: 'audio', bidirectionalMediaStream: true } as const;
/** Who sent a packet: the first byte of its payload. */
const MODEL = 0xa0;
const ALICE = 0xa1;
const ATTEMPTS = 4;
const POLL = { timeout: 5_000, interval: 20 };

let sfu: LocalSfu;
let calls: CallsClient;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  sfu = await startLocalSfu(TEST_APP);
  calls = createCallsClient({
    ...TEST_APP,
    baseUrl: sfu.callsApiUrl,
    retry: { attempts: ATTEMPTS, baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(async () => {
  sfu.faults.set({});
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});
afterAll(() => sfu.close());

const faults = (settings: FaultSettingsInput) => sfu.faults.set(settings);
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a CallsError');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CallsError);
      return error as CallsError;
    },
  );

/**
 * The AI model's end: a werift peer that answers the SFU's offer, sends Opus-like
 * packets stamped `MODEL` on the offered m-line and counts what it receives by stamp.
 */
function modelPeer() {
  const pc = createPeer();
  const received = new Map<number, number>();
  pc.onTrack.subscribe((track) =>
    track.onReceiveRtp.subscribe(({ payload }) =>
      received.set(payload[0] ?? -1, (received.get(payload[0] ?? -1) ?? 0) + 1),
    ),
  );
  let timer: ReturnType<typeof setInterval> | undefined;
  cleanups.push(async () => {
    clearInterval(timer);
    await pc.close();
  });
  return {
    pc,
    count: (from: number) => received.get(from) ?? 0,
    async answer(offer: SessionDescription): Promise<SessionDescription> {
      await pc.setRemoteDescription(offer);
      const track = new MediaStreamTrack({ kind: 'audio' });
      pc.addTrack(track);
      let sequenceNumber = 0;
      timer = setInterval(() => {
        sequenceNumber = (sequenceNumber + 1) & 0xffff;
        const header = new RtpHeader({
          payloadType: 111,
          sequenceNumber,
          timestamp: sequenceNumber * 480,
          ssrc: 0xa0a0,
        });
        track.writeRtp(new RtpPacket(header, Buffer.from([MODEL, 0xfc, 0xff, 0xfe])));
      }, 10);
      await pc.setLocalDescription(await pc.createAnswer());
      return { type: 'answer', sdp: pc.localDescription!.sdp };
    },
  };
}

/** The bridge as the room will make it: a third-party session, the SFU's offer answered by the model. */
async function agent() {
  const sessionId = await calls.newSession({ thirdparty: true, correlationId: 'meeting-1' });
  const offered = await calls.offerLocalTracks(sessionId, [VOICE_TRACK]);
  const model = modelPeer();
  await calls.renegotiate(sessionId, await model.answer(offered.offer!));
  await expect.poll(() => model.pc.connectionState, POLL).toBe('connected');
  return { sessionId, model, offered, mid: offered.tracks[0]!.mid! };
}

/** A participant publishing a microphone that stamps its packets with `from`. */
async function participant(from: number) {
  const peer = await WeriftPeer.open(sfu);
  cleanups.push(() => peer.close());
  await peer.publishMicrophone(from);
  return { peer, microphone: { sessionId: peer.sessionId, trackName: 'microphone' } };
}

describe('the AI agent’s third-party session', () => {
  it('gets the SFU’s offer for a bidirectional voice track; the model answers, connects and is heard', async () => {
    const { sessionId, model, offered, mid } = await agent();
    expect(sfu.sessions.get(sessionId)).toMatchObject({ thirdParty: true, correlationId: 'meeting-1' });
    expect(offered).toEqual({
      offer: { type: 'offer', sdp: expect.stringContaining('m=audio') },
      tracks: [{ trackName: AI_VOICE, mid: expect.any(String) }],
    });
    expect(offered.offer!.sdp).toContain('a=sendrecv');
    expect(sfu.requests(sessionId)).toMatchObject({ tracksNew: 1, renegotiate: 1, get: 0 });
    expect(model.pc.connectionState).toBe('connected');

    // Participants pull what the model says like any microphone.
    const alice = await participant(ALICE);
    const pulled = await calls.pull(alice.peer.sessionId, [{ sessionId, trackName: AI_VOICE }]);
    await calls.renegotiate(alice.peer.sessionId, await alice.peer.answer(pulled.offer!));
    await expect.poll(() => alice.peer.count(MODEL), POLL).toBeGreaterThan(10);
    expect((await calls.getSession(sessionId)).tracks).toEqual([
      { location: 'local', mid, trackName: AI_VOICE, status: 'active' },
    ]);
  });

  it('hears a participant pulled into #ai-generated-voice, with no renegotiation', async () => {
    const { sessionId, model, mid } = await agent();
    const alice = await participant(ALICE);
    const before = sfu.requests(sessionId);

    const result = await calls.pullInto(sessionId, alice.microphone, AI_VOICE);
    expect(result).toEqual({ track: { ...alice.microphone, mid } });
    await expect.poll(() => model.count(ALICE), POLL).toBeGreaterThan(10);
    const after = sfu.requests(sessionId);
    expect(after.tracksNew - before.tracksNew).toBe(1);
    expect(after.renegotiate).toBe(before.renegotiate);
    expect(after.get).toBe(0);
  });
});

describe('item errors come back as results', () => {
  it('a source that is not publishing, a local track that cannot take a pull, a name in use', async () => {
    const { sessionId, mid } = await agent();
    const alice = await participant(ALICE);
    const before = sfu.requests(sessionId).tracksNew;

    const notYet = { sessionId: alice.peer.sessionId, trackName: 'not-yet' };
    expect(await calls.pullInto(sessionId, notYet, AI_VOICE)).toEqual({
      track: { ...notYet, errorCode: 'not_found_track_error', errorDescription: expect.any(String) },
    });
    expect(await calls.pullInto(sessionId, alice.microphone, 'no-such-track')).toEqual({
      track: {
        ...alice.microphone,
        errorCode: 'invalid_params',
        errorDescription: expect.stringContaining('#no-such-track'),
      },
    });
    expect(
      await calls.offerLocalTracks(sessionId, [VOICE_TRACK, { trackName: 'recording', kind: 'audio' }]),
    ).toEqual({
      offer: { type: 'offer', sdp: expect.any(String) },
      tracks: [
        { trackName: AI_VOICE, errorCode: 'invalid_params', errorDescription: 'track name in use' },
        { trackName: 'recording', mid: expect.any(String) },
      ],
    });
    expect(sfu.requests(sessionId)).toMatchObject({ tracksNew: before + 3, get: 0 });
    expect((await calls.getSession(sessionId)).tracks).toContainEqual(
      expect.objectContaining({ location: 'local', mid, trackName: AI_VOICE, status: 'active' }),
    );
  });

  it('keeps the items that succeeded when a top-level error comes with them', async () => {
    const fresh = await calls.newSession({ thirdparty: true });
    faults({ batchErrorNext: 1, pathIncludes: fresh });
    const offered = await calls.offerLocalTracks(fresh, [VOICE_TRACK]);
    expect(offered).toMatchObject({
      errorCode: 'internal_error',
      offer: { type: 'offer' },
      tracks: [{ trackName: AI_VOICE, mid: expect.any(String) }],
    });
    expect(sfu.requests(fresh)).toMatchObject({ tracksNew: 1, total: 1 });
  });
});

describe('offerLocalTracks under injected faults: never replayed once it may have been applied', () => {
  it('is sent again after 429 and retryable_transient_error, with no GET', async () => {
    const session = await calls.newSession({ thirdparty: true });
    faults({ status: 429, failNext: 1, pathIncludes: session });
    expect((await calls.offerLocalTracks(session, [VOICE_TRACK])).offer?.type).toBe('offer');
    expect(sfu.requests(session)).toMatchObject({ tracksNew: 2, get: 0 });

    const other = await calls.newSession({ thirdparty: true });
    faults({ status: 503, errorCode: 'retryable_transient_error', failNext: 2, pathIncludes: other });
    expect((await calls.offerLocalTracks(other, [VOICE_TRACK])).offer?.type).toBe('offer');
    expect(sfu.requests(other)).toMatchObject({ tracksNew: 3, get: 0 });
  });

  it('a dropped answer after the offer was made: GET shows the track, offer_lost, start over', async () => {
    const session = await calls.newSession({ thirdparty: true });
    faults({ dropResponseNext: 1, pathIncludes: `${session}/tracks/new` });
    const error = await failure(calls.offerLocalTracks(session, [VOICE_TRACK]));
    expect(error).toMatchObject({ status: 0, code: 'offer_lost', kind: 'uncertain' });
    expect(sfu.requests(session)).toMatchObject({ tracksNew: 1, get: 1, total: 2 });
    // Why a new session: the lost offer blocks every other negotiation on this one.
    const again = await failure(calls.offerLocalTracks(session, [{ trackName: 'retry', kind: 'audio' }]));
    expect(again).toMatchObject({ status: 406, kind: 'busy' });
  });

  it('an error answer that GET shows was not applied: the same request goes again', async () => {
    const session = await calls.newSession({ thirdparty: true });
    faults({ status: 503, failNext: 1, pathIncludes: `${session}/tracks/new` });
    const { offer, tracks } = await calls.offerLocalTracks(session, [VOICE_TRACK]);
    expect(offer?.type).toBe('offer');
    expect(tracks).toEqual([{ trackName: AI_VOICE, mid: expect.any(String) }]);
    expect(sfu.requests(session)).toMatchObject({ tracksNew: 2, get: 1 });
  });

  it('a timeout that GET cannot settle yet: uncertain, not sent again', async () => {
    const impatient = createCallsClient({ ...TEST_APP, baseUrl: sfu.callsApiUrl, timeoutMs: 100 });
    const session = await calls.newSession({ thirdparty: true });
    faults({ delayMs: 300, pathIncludes: `${session}/tracks/new` });
    const error = await failure(impatient.offerLocalTracks(session, [VOICE_TRACK]));
    expect(error).toMatchObject({ code: 'timeout', kind: 'uncertain' });
    expect(sfu.requests(session)).toMatchObject({ tracksNew: 1, get: 1 });
    // The request was still on its way: it is applied after all.
    await expect
      .poll(async () => (await calls.getSession(session)).tracks, POLL)
      .toEqual([expect.objectContaining({ trackName: AI_VOICE })]);
  });
});

describe('pullInto under injected faults: idempotent, reconciled then sent again', () => {
  it('a dropped answer after the pull was applied: GET shows it, nothing is sent again', async () => {
    const { sessionId, model, mid } = await agent();
    const alice = await participant(ALICE);
    const before = sfu.requests(sessionId);
    faults({ dropResponseNext: 1, pathIncludes: `${sessionId}/tracks/new` });
    expect(await calls.pullInto(sessionId, alice.microphone, AI_VOICE)).toEqual({
      track: { ...alice.microphone, mid },
    });
    const after = sfu.requests(sessionId);
    expect({ tracksNew: after.tracksNew - before.tracksNew, get: after.get - before.get }).toEqual({
      tracksNew: 1,
      get: 1,
    });
    await expect.poll(() => model.count(ALICE), POLL).toBeGreaterThan(10);
  });

  it('an error answer that GET shows was not applied: sent again, and the model hears the participant', async () => {
    const { sessionId, model, mid } = await agent();
    const alice = await participant(ALICE);
    const before = sfu.requests(sessionId);
    faults({
      status: 502,
      errorCode: 'internal_error',
      failNext: 1,
      pathIncludes: `${sessionId}/tracks/new`,
    });
    expect(await calls.pullInto(sessionId, alice.microphone, AI_VOICE)).toEqual({
      track: { ...alice.microphone, mid },
    });
    const after = sfu.requests(sessionId);
    expect({ tracksNew: after.tracksNew - before.tracksNew, get: after.get - before.get }).toEqual({
      tracksNew: 2,
      get: 1,
    });
    await expect.poll(() => model.count(ALICE), POLL).toBeGreaterThan(10);
  });

  it('under a 503 storm, neither is sent again unread, and both stay within the policy’s attempts', async () => {
    const { sessionId } = await agent();
    const alice = await participant(ALICE);
    const fresh = await calls.newSession({ thirdparty: true });
    const operations = [
      { session: sessionId, run: () => calls.pullInto(sessionId, alice.microphone, AI_VOICE) },
      { session: fresh, run: () => calls.offerLocalTracks(fresh, [VOICE_TRACK]) },
    ];
    for (const operation of operations) {
      const before = sfu.requests(operation.session);
      faults({ status: 503, rate: 1, pathIncludes: operation.session });
      const error = await failure(operation.run());
      faults({});
      const after = sfu.requests(operation.session);
      // One POST, then GETs that fail: the session could not be read, so the outcome stays open.
      expect({
        kind: error.kind,
        status: error.status,
        tracksNew: after.tracksNew - before.tracksNew,
        get: after.get - before.get,
      }).toEqual({ kind: 'uncertain', status: 503, tracksNew: 1, get: ATTEMPTS - 1 });
    }
  });
});
