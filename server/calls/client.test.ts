/**
 * The Calls client against the local SFU, with werift peers standing in for
 * browsers: publish, pull by several subscribers, RTP really forwarded,
 * per-item errors, one negotiation at a time, and retries under injected
 * 429/503 and delays.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import { createPeer } from '../local/sfu/peer.js';
import { createCallsClient, type CallsClient } from './client.js';
import { CallsError } from './errors.js';
import type { SessionDescription } from './schema.js';

const APP = { appId: 'test-app', appSecret: 'test-secret' };
let sfu: LocalSfu;
let calls: CallsClient;
const peers: RTCPeerConnection[] = [];

beforeAll(async () => {
  sfu = await startLocalSfu(APP);
  calls = createCallsClient({ ...APP, baseUrl: sfu.callsApiUrl, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
});
afterEach(async () => {
  sfu.faults.set({ status: 503, rate: 0, failNext: 0, delayMs: 0 });
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

/** A "browser" that publishes one synthetic VP8 track and keeps sending packets. */
async function publisher(trackName = 'camera') {
  const pc = peer();
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const sessionId = await calls.newSession();
  const { answer, tracks } = await calls.publish(sessionId, description(pc), [
    { mid: transceiver.mid!, trackName },
  ]);
  await pc.setRemoteDescription(answer);
  let sequenceNumber = 0;
  const timer = setInterval(() => {
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: sequenceNumber++ & 0xffff,
      timestamp: sequenceNumber * 3000,
      ssrc: 1234,
      marker: true,
    });
    track.writeRtp(new RtpPacket(header, Buffer.from([0x10, 0, 0, 0, 1, 2, 3])));
  }, 10);
  peers.push({ close: () => Promise.resolve(clearInterval(timer)) } as unknown as RTCPeerConnection);
  return { pc, sessionId, tracks, mid: transceiver.mid! };
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

describe('Calls client against the local SFU', () => {
  it('creates sessions with 32-hex ids', async () => {
    expect(await calls.newSession()).toMatch(/^[0-9a-f]{32}$/);
  });

  it('publishes a track and forwards its packets to several subscribers', async () => {
    const pub = await publisher();
    expect(pub.tracks).toEqual([{ mid: pub.mid, trackName: 'camera' }]);
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
    const pub = await publisher('screen');
    const sub = await subscriber([
      { sessionId: pub.sessionId, trackName: 'nope' },
      { sessionId: pub.sessionId, trackName: 'screen' },
    ]);
    expect(sub.result.tracks[0]).toMatchObject({ trackName: 'nope', errorCode: 'not_found_track_error' });
    expect(sub.result.tracks[1]).toMatchObject({ trackName: 'screen', mid: expect.any(String) });
    await eventually(() => sub.received() > 5);
  });

  it('retries a pull until the publisher’s track appears', async () => {
    const pc = peer();
    const track = new MediaStreamTrack({ kind: 'video' });
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const pubSession = await calls.newSession();
    const late = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await calls.publish(pubSession, description(pc), [{ mid: transceiver.mid!, trackName: 'late' }]);
    })();
    const subSession = await calls.newSession();
    const result = await calls.pull(subSession, [{ sessionId: pubSession, trackName: 'late' }]);
    await late;
    expect(result.offer?.type).toBe('offer');
    expect(result.tracks[0]).toMatchObject({ trackName: 'late', mid: expect.any(String) });
  });

  it('gives up on a missing track after the pull deadline', async () => {
    const quick = createCallsClient({
      ...APP,
      baseUrl: sfu.callsApiUrl,
      pullDeadlineMs: 200,
      retry: { baseDelayMs: 20 },
    });
    const session = await quick.newSession();
    const result = await quick.pull(session, [{ sessionId: 'f'.repeat(32), trackName: 'ghost' }]);
    expect(result.offer).toBeNull();
    expect(result.tracks[0]!.errorCode).toBe('not_found_track_error');
  });

  it('refuses a second negotiation while an offer is outstanding (406)', async () => {
    const pub = await publisher();
    const session = await calls.newSession();
    await calls.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]);
    const second = calls.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]);
    await expect(second).rejects.toMatchObject({ name: 'CallsError', status: 406, retryable: false });
  });

  it('rejects a stale answer', async () => {
    const session = await calls.newSession();
    await expect(calls.renegotiate(session, { type: 'answer', sdp: 'v=0\r\n' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_session_description',
    });
  });

  it('closes published tracks: subscribers see them inactive, unknown mids fail per item', async () => {
    const pub = await publisher();
    const sub = await subscriber([{ sessionId: pub.sessionId, trackName: 'camera' }]);
    await eventually(() => sub.received() > 5);
    const { tracks } = await calls.closeTracks(pub.sessionId, [pub.mid, '99']);
    expect(tracks[0]).toEqual({ mid: pub.mid });
    expect(tracks[1]).toMatchObject({ mid: '99', errorCode: 'close_track_error' });
    const state = await calls.getSession(sub.sessionId);
    expect(state.tracks?.[0]?.status).toBe('inactive');
    expect((await calls.getSession(pub.sessionId)).tracks).toEqual([]);
  });

  it('collects a published track that sends nothing, as Calls does after 30 s', async () => {
    const quiet = await startLocalSfu({ ...APP, silentTrackMs: 200 });
    try {
      const client = createCallsClient({ ...APP, baseUrl: quiet.callsApiUrl });
      const pc = peer();
      const transceiver = pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), {
        direction: 'sendonly',
      });
      await pc.setLocalDescription(await pc.createOffer());
      const session = await client.newSession();
      await client.publish(session, description(pc), [{ mid: transceiver.mid!, trackName: 'silent' }]);
      expect((await client.getSession(session)).tracks).toHaveLength(1);
      await eventually(() => quiet.stats().publishedTracks === 0);
      expect((await client.getSession(session)).tracks).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it('answers 410 for a closed session, and 425 when a negotiated session never connects', async () => {
    const closed = await calls.newSession();
    sfu.sessions.get(closed)!.close();
    await expect(calls.getSession(closed)).rejects.toMatchObject({ status: 410, code: 'session_error' });

    // An offer answered by the SFU, but the "browser" never applies the answer: no connection.
    const pc = peer();
    const transceiver = pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const stuck = await calls.newSession();
    await calls.publish(stuck, description(pc), [{ mid: transceiver.mid!, trackName: 'camera' }]);
    await expect(calls.pull(stuck, [{ sessionId: stuck, trackName: 'camera' }])).rejects.toMatchObject({
      status: 425,
      retryable: false,
    });
  }, 12_000);

  it('rejects a wrong app secret without retrying', async () => {
    const wrong = createCallsClient({ ...APP, appSecret: 'wrong', baseUrl: sfu.callsApiUrl });
    await expect(wrong.newSession()).rejects.toMatchObject({ status: 401, retryable: false });
  });

  describe('under injected faults', () => {
    it.each([429, 503] as const)('retries %i with backoff and succeeds', async (status) => {
      const before = sfu.faults.injected;
      sfu.faults.set({ status, rate: 0, failNext: 2, delayMs: 0 });
      expect(await calls.newSession()).toMatch(/^[0-9a-f]{32}$/);
      expect(sfu.faults.injected - before).toBe(2);
    });

    it('stops after the bounded number of attempts with a typed, retryable error', async () => {
      sfu.faults.set({ status: 503, rate: 0, failNext: 10, delayMs: 0 });
      const error = await calls.newSession().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallsError);
      expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable_error', retryable: true });
      expect(sfu.faults.settings.failNext).toBe(6); // 4 attempts used
    });

    it('publishes and pulls with a third of the requests failing and slow answers', async () => {
      sfu.faults.set({ status: 503, rate: 0.33, failNext: 0, delayMs: 30 });
      const tolerant = createCallsClient({
        ...APP,
        baseUrl: sfu.callsApiUrl,
        retry: { attempts: 8, baseDelayMs: 10 },
      });
      const session = await tolerant.newSession();
      const pub = await publisher();
      const result = await tolerant.pull(session, [{ sessionId: pub.sessionId, trackName: 'camera' }]);
      expect(result.offer?.type).toBe('offer');
    });

    it('times out a request that takes too long', async () => {
      sfu.faults.set({ status: 503, rate: 0, failNext: 0, delayMs: 500 });
      const impatient = createCallsClient({
        ...APP,
        baseUrl: sfu.callsApiUrl,
        timeoutMs: 100,
        retry: { attempts: 2, baseDelayMs: 1 },
      });
      await expect(impatient.newSession()).rejects.toMatchObject({ code: 'timeout', retryable: true });
    });
  });
});
