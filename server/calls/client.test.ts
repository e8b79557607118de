/**
 * The Calls client against the local SFU, with werift peers standing in for
 * browsers: publish, pull by several subscribers, RTP really forwarded,
 * per-item errors, one negotiation at a time; then the retry rules of
 * CALLS-API.md under injected faults, counted with the SFU's request counters.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import type { FaultSettingsInput } from '../local/sfu/faults.js';
import { createPeer } from '../local/sfu/peer.js';
import { createCallsClient, type CallsClient } from './client.js';
import { CallsError } from './errors.js';
import type { SessionDescription } from './schema.js';

const APP = { appId: 'test-app', appSecret: 'test-secret' };
const ATTEMPTS = 4;
let sfu: LocalSfu;
let calls: CallsClient;
const peers: RTCPeerConnection[] = [];

beforeAll(async () => {
  sfu = await startLocalSfu(APP);
  calls = createCallsClient({
    ...APP,
    baseUrl: sfu.callsApiUrl,
    retry: { attempts: ATTEMPTS, baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(async () => {
  sfu.faults.set({});
  await Promise.all(peers.splice(0).map((pc) => pc.close()));
});
afterAll(() => sfu.close());

function peer(): RTCPeerConnection {
  const pc = createPeer();
  peers.push(pc);
  return pc;
}

const description = (pc: RTCPeerConnection): SessionDescription => ({
  type: pc.localDescription!.type as 'offer' | 'answer',
  sdp: pc.localDescription!.sdp,
});

/** A "browser" offer with one send-only video transceiver per track name. */
async function publishOffer(trackNames: string[]) {
  const pc = peer();
  const sources = trackNames.map((trackName) => {
    const track = new MediaStreamTrack({ kind: 'video' });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
    return { trackName, track, transceiver };
  });
  await pc.setLocalDescription(await pc.createOffer());
  return {
    pc,
    offer: description(pc),
    tracks: sources.map((s) => ({ mid: s.transceiver.mid!, trackName: s.trackName })),
    sources,
  };
}

/** A "browser" that publishes synthetic VP8 tracks and keeps sending packets. */
async function publisher(trackNames = ['camera']) {
  const { pc, offer, tracks, sources } = await publishOffer(trackNames);
  const sessionId = await calls.newSession();
  const result = await calls.publish(sessionId, offer, tracks);
  await pc.setRemoteDescription(result.answer);
  let sequenceNumber = 0;
  const timer = setInterval(() => {
    sequenceNumber++;
    sources.forEach(({ track }, i) => {
      const header = new RtpHeader({
        payloadType: 96,
        sequenceNumber: sequenceNumber & 0xffff,
        timestamp: sequenceNumber * 3000,
        ssrc: 1234 + i,
        marker: true,
      });
      track.writeRtp(new RtpPacket(header, Buffer.from([0x10, 0, 0, 0, 1, 2, 3])));
    });
  }, 10);
  peers.push({ close: () => Promise.resolve(clearInterval(timer)) } as unknown as RTCPeerConnection);
  return { pc, sessionId, result, mids: tracks.map((t) => t.mid), mid: tracks[0]!.mid };
}

/** A "browser" that pulls tracks and counts the packets that reach it. */
async function subscriber(sources: { sessionId: string; trackName: string }[]) {
  const pc = peer();
  const sessionId = await calls.newSession();
  const result = await calls.pull(sessionId, sources);
  let received = 0;
  pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => received++));
  if (result.offer) {
    await pc.setRemoteDescription(result.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await calls.renegotiate(sessionId, description(pc));
  }
  return { pc, sessionId, result, received: () => received };
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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
const openMids = async (sessionId: string) =>
  ((await calls.getSession(sessionId)).tracks ?? []).filter((t) => t.status === 'active').map((t) => t.mid);

describe('Calls client against the local SFU', () => {
  it('creates sessions with 32-hex ids', async () => {
    expect(await calls.newSession()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('publishes a track and forwards its packets to several subscribers', async () => {
    const pub = await publisher();
    expect(pub.result.tracks).toEqual([{ mid: pub.mid, trackName: 'camera' }]);
    const source = { sessionId: pub.sessionId, trackName: 'camera' };
    const [a, b] = await Promise.all([subscriber([source]), subscriber([source])]);
    expect(a.result.tracks[0]).toMatchObject({ ...source, mid: expect.any(String) });
    await eventually(() => a.received() > 20 && b.received() > 20);

    const state = await calls.getSession(a.sessionId);
    expect(state.tracks).toEqual([
      expect.objectContaining({ location: 'remote', trackName: 'camera', status: 'active' }),
    ]);
  });

  it('gives not_found_track_error per item and still pulls the rest of the batch', async () => {
    const pub = await publisher(['screen']);
    const sub = await subscriber([
      { sessionId: pub.sessionId, trackName: 'nope' },
      { sessionId: pub.sessionId, trackName: 'screen' },
    ]);
    expect(sub.result.tracks[0]).toMatchObject({ trackName: 'nope', errorCode: 'not_found_track_error' });
    expect(sub.result.tracks[1]).toMatchObject({ trackName: 'screen', mid: expect.any(String) });
    await eventually(() => sub.received() > 5);
  });

  it('answers a pull of a track not published yet at once, leaving the session free', async () => {
    const pubSession = await calls.newSession();
    const subSession = await calls.newSession();
    const result = await calls.pull(subSession, [{ sessionId: pubSession, trackName: 'later' }]);
    expect(result).toEqual({
      offer: null,
      tracks: [
        {
          sessionId: pubSession,
          trackName: 'later',
          errorCode: 'not_found_track_error',
          errorDescription: expect.any(String),
        },
      ],
    });
    expect(sfu.requests(subSession)).toMatchObject({ tracksNew: 1, total: 1 });

    // The visitor's own publish on that session goes through right after.
    const own = await publishOffer(['camera']);
    const published = await calls.publish(subSession, own.offer, own.tracks);
    expect(published.tracks).toEqual(own.tracks);
  });

  it('refuses a second negotiation while an offer is outstanding: busy, asked once', async () => {
    const pub = await publisher();
    const session = await calls.newSession();
    await calls.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]);
    const error = await failure(calls.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]));
    expect(error).toMatchObject({ status: 406, kind: 'busy' });
    expect(sfu.requests(session).tracksNew).toBe(2);
  });

  it('rejects a stale answer at once', async () => {
    const session = await calls.newSession();
    const error = await failure(calls.renegotiate(session, { type: 'answer', sdp: 'v=0\r\n' }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_session_description', kind: 'rejected' });
    expect(sfu.requests(session)).toMatchObject({ renegotiate: 1, total: 1 });
  });

  it('closes published tracks: subscribers see them inactive, a mid not open counts as closed', async () => {
    const pub = await publisher();
    const sub = await subscriber([{ sessionId: pub.sessionId, trackName: 'camera' }]);
    await eventually(() => sub.received() > 5);
    const { answer, tracks } = await calls.closeTracks(pub.sessionId, [pub.mid, '99']);
    expect(answer).toBeNull();
    expect(tracks).toEqual([
      { mid: pub.mid, closed: true },
      { mid: '99', closed: true },
    ]);
    const state = await calls.getSession(sub.sessionId);
    expect(state.tracks?.[0]?.status).toBe('inactive');
    expect((await calls.getSession(pub.sessionId)).tracks).toEqual([]);
  });

  it('closes with the browser’s offer and returns the answer', async () => {
    const pub = await publisher();
    pub.pc.getTransceivers()[0]!.stop();
    await pub.pc.setLocalDescription(await pub.pc.createOffer());
    const result = await calls.closeTracks(pub.sessionId, [pub.mid], { offer: description(pub.pc) });
    expect(result.answer?.type).toBe('answer');
    expect(result.tracks).toEqual([{ mid: pub.mid, closed: true }]);
    expect(await openMids(pub.sessionId)).toEqual([]);
  });

  it('updates pulled tracks and reports the ones it could not update, without renegotiating', async () => {
    const pub = await publisher();
    const sub = await subscriber([{ sessionId: pub.sessionId, trackName: 'camera' }]);
    const mid = sub.result.tracks[0]!.mid!;
    const before = sfu.requests(sub.sessionId);
    const result = await calls.updateTracks(sub.sessionId, [
      {
        location: 'remote',
        sessionId: pub.sessionId,
        trackName: 'camera',
        mid,
        simulcast: { preferredRid: 'h' },
      },
      { location: 'remote', sessionId: pub.sessionId, trackName: 'camera', mid: '77' },
    ]);
    expect(result.requiresImmediateRenegotiation).toBe(false);
    expect(result.tracks[0]).toMatchObject({ mid });
    expect(result.tracks[0]!.errorCode).toBeUndefined();
    expect(result.tracks[1]).toMatchObject({ mid: '77', errorCode: 'update_track_error' });
    const after = sfu.requests(sub.sessionId);
    expect(after.tracksUpdate - before.tracksUpdate).toBe(1);
    expect(after.renegotiate).toBe(before.renegotiate);
  });

  it('collects a published track that sends nothing, as Calls does after 30 s', async () => {
    const quiet = await startLocalSfu({ ...APP, silentTrackMs: 200 });
    try {
      const client = createCallsClient({ ...APP, baseUrl: quiet.callsApiUrl });
      const { offer, tracks } = await publishOffer(['silent']);
      const session = await client.newSession();
      await client.publish(session, offer, tracks);
      expect((await client.getSession(session)).tracks).toHaveLength(1);
      await eventually(() => quiet.stats().publishedTracks === 0);
      expect((await client.getSession(session)).tracks).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it('throws 425 for a negotiated session that never connects as busy', async () => {
    // An offer answered by the SFU, but the "browser" never applies the answer: no connection.
    const { offer, tracks } = await publishOffer(['camera']);
    const stuck = await calls.newSession();
    await calls.publish(stuck, offer, tracks);
    const error = await failure(calls.pull(stuck, [{ sessionId: stuck, trackName: 'camera' }]));
    expect(error).toMatchObject({ status: 425, kind: 'busy' });
    expect(sfu.requests(stuck).tracksNew).toBe(2);
  }, 12_000);

  describe('final answers are thrown at once', () => {
    it('410 for a closed session, and an unknown one, is gone after one request', async () => {
      const closed = await calls.newSession();
      sfu.sessions.get(closed)!.close();
      const { offer, tracks } = await publishOffer(['camera']);
      expect(await failure(calls.publish(closed, offer, tracks))).toMatchObject({
        status: 410,
        kind: 'gone',
      });
      expect(sfu.requests(closed)).toMatchObject({ tracksNew: 1, total: 1 });

      const unknown = 'e'.repeat(32);
      expect(await failure(calls.closeTracks(unknown, ['0']))).toMatchObject({ status: 404, kind: 'gone' });
      expect(sfu.requests(unknown)).toMatchObject({ tracksClose: 1, total: 1 });
    });

    it('invalid_params is rejected after one request', async () => {
      const session = await calls.newSession();
      const { offer } = await publishOffer(['camera']);
      const error = await failure(calls.publish(session, offer, []));
      expect(error).toMatchObject({ status: 400, code: 'invalid_params', kind: 'rejected' });
      expect(sfu.requests(session)).toMatchObject({ tracksNew: 1, total: 1 });
    });

    it('a wrong app secret is rejected after one request', async () => {
      const wrong = createCallsClient({ ...APP, appSecret: 'wrong', baseUrl: sfu.callsApiUrl });
      const before = sfu.stats().newSessionRequests;
      expect(await failure(wrong.newSession())).toMatchObject({ status: 401, kind: 'rejected' });
      expect(sfu.stats().newSessionRequests - before).toBe(1);
    });
  });

  describe('under injected faults', () => {
    it('sends a mutation again after 429 and retryable_transient_error, and succeeds', async () => {
      const before = sfu.stats().newSessionRequests;
      faults({ status: 429, failNext: 2, pathIncludes: '/sessions/new' });
      expect(await calls.newSession()).toMatch(/^[0-9a-f]{32}$/);
      expect(sfu.stats().newSessionRequests - before).toBe(3);

      const session = await calls.newSession();
      const { pc, offer, tracks } = await publishOffer(['camera']);
      faults({ status: 503, errorCode: 'retryable_transient_error', failNext: 2, pathIncludes: session });
      const { answer } = await calls.publish(session, offer, tracks);
      await pc.setRemoteDescription(answer);
      expect(sfu.requests(session)).toMatchObject({ tracksNew: 3, get: 0 });
    });

    it('stops after the policy’s attempts with busy', async () => {
      const session = await calls.newSession();
      const { offer, tracks } = await publishOffer(['camera']);
      faults({ status: 429, failNext: 10, pathIncludes: session });
      const error = await failure(calls.publish(session, offer, tracks));
      expect(error).toMatchObject({ status: 429, kind: 'busy' });
      expect(sfu.requests(session)).toMatchObject({ tracksNew: ATTEMPTS, total: ATTEMPTS });
    });

    it('does not ask for a second session when the first answer fails: uncertain', async () => {
      const before = sfu.stats().newSessionRequests;
      faults({ status: 503, failNext: 1, pathIncludes: '/sessions/new' });
      expect(await failure(calls.newSession())).toMatchObject({ status: 503, kind: 'uncertain' });
      expect(sfu.stats().newSessionRequests - before).toBe(1);
    });

    it('does not ask for a second session after a timeout either', async () => {
      const impatient = createCallsClient({ ...APP, baseUrl: sfu.callsApiUrl, timeoutMs: 100 });
      const before = sfu.stats().newSessionRequests;
      faults({ delayMs: 400, pathIncludes: '/sessions/new' });
      expect(await failure(impatient.newSession())).toMatchObject({ code: 'timeout', kind: 'uncertain' });
      expect(sfu.stats().newSessionRequests - before).toBe(1);
    });

    it('reconciles a failed publish: not applied, so the same offer goes again (Calls never took it)', async () => {
      const session = await calls.newSession();
      const first = await publishOffer(['camera']);
      faults({ status: 503, failNext: 1, pathIncludes: `${session}/tracks/new` });
      const { answer } = await calls.publish(session, first.offer, first.tracks);
      await first.pc.setRemoteDescription(answer);
      expect(sfu.requests(session)).toMatchObject({ tracksNew: 2, get: 1 });
    });

    it('a publish that keeps failing and is never applied ends busy, within the budget', async () => {
      const session = await calls.newSession();
      const first = await publishOffer(['camera']);
      faults({ status: 503, failNext: 10, pathIncludes: `${session}/tracks/new` });
      const error = await failure(calls.publish(session, first.offer, first.tracks));
      expect(error).toMatchObject({ status: 503, kind: 'busy' });
      expect(sfu.requests(session).total).toBeLessThanOrEqual(4);
      faults({});
      const fresh = await publishOffer(['camera']);
      const { answer } = await calls.publish(session, fresh.offer, fresh.tracks);
      await fresh.pc.setRemoteDescription(answer);
    });

    it('reconciles a dropped publish answer with GET instead of replaying the offer', async () => {
      const session = await calls.newSession();
      const { offer, tracks } = await publishOffer(['camera']);
      faults({ dropResponseNext: 1, pathIncludes: `${session}/tracks/new` });
      const error = await failure(calls.publish(session, offer, tracks));
      expect(error).toMatchObject({ status: 0, code: 'network_error', kind: 'uncertain' });
      expect(sfu.requests(session)).toMatchObject({ tracksNew: 1, get: 1, total: 2 });
      expect(await openMids(session)).toEqual([tracks[0]!.mid]);
    });

    it('reconciles a dropped pull answer: the tracks are there, the offer is lost', async () => {
      const pub = await publisher();
      const session = await calls.newSession();
      faults({ dropResponseNext: 1, pathIncludes: `${session}/tracks/new` });
      const error = await failure(calls.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]));
      expect(error).toMatchObject({ kind: 'uncertain' });
      expect(sfu.requests(session)).toMatchObject({ tracksNew: 1, get: 1 });
    });

    it('reconciles a dropped close answer and closes what is still open', async () => {
      const pub = await publisher(['camera', 'screen']);
      faults({ dropResponseNext: 1, failCloseItemNext: 1, pathIncludes: `${pub.sessionId}/tracks/close` });
      const { tracks } = await calls.closeTracks(pub.sessionId, pub.mids);
      expect(tracks).toEqual(pub.mids.map((mid) => ({ mid, closed: true })));
      // The first close left one mid open and its answer was lost; GET showed which; only it was closed again.
      expect(sfu.requests(pub.sessionId)).toMatchObject({ tracksClose: 2, get: 1 });
      expect(await openMids(pub.sessionId)).toEqual([]);
    });

    it('reconciles a dropped answer to a close with an offer: closed but the answer is lost', async () => {
      const pub = await publisher();
      pub.pc.getTransceivers()[0]!.stop();
      await pub.pc.setLocalDescription(await pub.pc.createOffer());
      faults({ dropResponseNext: 1, pathIncludes: `${pub.sessionId}/tracks/close` });
      const error = await failure(
        calls.closeTracks(pub.sessionId, [pub.mid], { offer: description(pub.pc) }),
      );
      expect(error).toMatchObject({ kind: 'uncertain' });
      expect(sfu.requests(pub.sessionId)).toMatchObject({ tracksClose: 1, get: 1 });
    });

    it('reports a close item that failed, so that it can be closed later', async () => {
      const pub = await publisher();
      faults({ failCloseItemNext: 1, pathIncludes: pub.sessionId });
      const first = await calls.closeTracks(pub.sessionId, [pub.mid]);
      expect(first.tracks).toEqual([
        { mid: pub.mid, closed: false, errorCode: 'close_track_error', errorDescription: 'injected fault' },
      ]);
      expect(await openMids(pub.sessionId)).toEqual([pub.mid]);

      const again = await calls.closeTracks(pub.sessionId, [pub.mid]);
      expect(again.tracks).toEqual([{ mid: pub.mid, closed: true }]);
    });

    it('keeps the items that succeeded when a top-level error comes with them', async () => {
      const session = await calls.newSession();
      const { pc, offer, tracks } = await publishOffer(['camera']);
      faults({ batchErrorNext: 1, batchErrorCode: 'internal_error', pathIncludes: session });
      const published = await calls.publish(session, offer, tracks);
      expect(published).toMatchObject({ errorCode: 'internal_error', tracks });
      await pc.setRemoteDescription(published.answer);

      const sub = await calls.newSession();
      faults({ batchErrorNext: 1, pathIncludes: sub });
      const pulled = await calls.pull(sub, [{ sessionId: session, trackName: 'camera' }]);
      expect(pulled.errorCode).toBe('internal_error');
      expect(pulled.offer?.type).toBe('offer');
      expect(pulled.tracks[0]).toMatchObject({ trackName: 'camera', mid: expect.any(String) });
      expect(sfu.requests(sub)).toMatchObject({ tracksNew: 1, total: 1 });
    });

    it('keeps every operation under a 503 storm within the policy’s attempts', async () => {
      const pub = await publisher();
      const source = { sessionId: pub.sessionId, trackName: 'camera' };
      const waiting = await calls.newSession(); // An SFU offer waits for its answer.
      const offered = await calls.pull(waiting, [source]);
      const answering = peer();
      await answering.setRemoteDescription(offered.offer!);
      await answering.setLocalDescription(await answering.createAnswer());
      const fresh = await calls.newSession();
      const { offer, tracks } = await publishOffer(['camera']);

      const operations = [
        {
          name: 'publish',
          session: fresh,
          run: () => calls.publish(fresh, offer, tracks),
          kind: 'uncertain',
        },
        { name: 'pull', session: fresh, run: () => calls.pull(fresh, [source]), kind: 'uncertain' },
        {
          name: 'renegotiate',
          session: waiting,
          run: () => calls.renegotiate(waiting, description(answering)),
          kind: 'uncertain',
        },
        {
          name: 'close',
          session: pub.sessionId,
          run: () => calls.closeTracks(pub.sessionId, [pub.mid]),
          kind: 'uncertain',
        },
        {
          name: 'update',
          session: waiting,
          run: () => calls.updateTracks(waiting, [{ ...source, location: 'remote', mid: '0' }]),
          kind: 'uncertain',
        },
        { name: 'get', session: fresh, run: () => calls.getSession(fresh), kind: 'busy' },
      ] as const;
      for (const operation of operations) {
        const before = sfu.requests(operation.session).total;
        faults({ status: 503, rate: 1, pathIncludes: operation.session });
        const error = await failure(operation.run());
        faults({});
        expect({ name: operation.name, kind: error.kind }).toEqual({
          name: operation.name,
          kind: operation.kind,
        });
        expect({ name: operation.name, requests: sfu.requests(operation.session).total - before }).toEqual({
          name: operation.name,
          requests: ATTEMPTS,
        });
      }
      // Nothing was applied under the storm: every mutation reached the SFU once, the rest were GETs.
      expect(sfu.requests(fresh)).toMatchObject({ tracksNew: 2 });
      expect(sfu.requests(waiting)).toMatchObject({ renegotiate: 1, tracksUpdate: 1 });
      expect(sfu.requests(pub.sessionId)).toMatchObject({ tracksClose: 1 });
    });

    it('sends a GET again after a timeout', async () => {
      const session = await calls.newSession();
      const impatient = createCallsClient({
        ...APP,
        baseUrl: sfu.callsApiUrl,
        timeoutMs: 100,
        retry: { baseDelayMs: 1 },
      });
      faults({ delayMs: 400, pathIncludes: session });
      const error = await failure(impatient.getSession(session));
      expect(error).toMatchObject({ code: 'timeout', kind: 'busy' });
      expect(sfu.requests(session).get).toBe(ATTEMPTS);
    });
  });
});
