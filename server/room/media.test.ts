/**
 * The media API of a room, through the real Worker (wrangler dev) to the
 * local SFU, with werift peers standing in for browsers: who may do what,
 * and that media really flows.
 */
import { RtpHeader, RtpPacket, MediaStreamTrack, type RTCPeerConnection } from 'werift';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import { localCallsVars, LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET } from '../local/sfu/local-app.js';
import { startLocalWorker, type LocalWorker } from '../local/dev/worker.js';
import { freshRoom } from '../test-support.js';
import * as support from './test-support.js';
import { usePeers, type Member } from './test-support.js';

/** How long the room keeps a dropped participant (and their media) in these tests. */
const GRACE_MS = 2_000;
let sfu: LocalSfu;
let worker: LocalWorker;
let bare: LocalWorker;
const peers = usePeers();

beforeAll(async () => {
  sfu = await startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET });
  [worker, bare] = await Promise.all([
    startLocalWorker({ vars: { ...localCallsVars(sfu.callsApiUrl), RESUME_GRACE_MS: String(GRACE_MS) } }),
    startLocalWorker(),
  ]);
});
afterAll(async () => {
  await Promise.all([worker?.stop(), bare?.stop()]);
  await sfu?.close();
});

const member = (room: string, name: string, server = () => worker) => support.member(server, room, name);

const local = (pc: RTCPeerConnection) => ({ type: pc.localDescription!.type, sdp: pc.localDescription!.sdp });

/** Publishes one synthetic VP8 track named `camera` and announces it in the room. */
async function publishCamera(m: Member) {
  const { body: session } = await m.call('session');
  const pc = peers.create();
  const track = new MediaStreamTrack({ kind: 'video' });
  const transceiver = pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const published = await m.call('publish', {
    sessionId: session.sessionId,
    offer: local(pc),
    tracks: [{ mid: transceiver.mid, trackName: 'camera' }],
  });
  expect(published.status).toBe(200);
  await pc.setRemoteDescription(published.body.answer);
  let seq = 0;
  peers.every(10, () => {
    const header = new RtpHeader({
      payloadType: 96,
      sequenceNumber: seq++,
      timestamp: seq * 3000,
      ssrc: 42,
      marker: true,
    });
    track.writeRtp(new RtpPacket(header, Buffer.from([0x10, 0, 0, 0, 9])));
  });
  const ref = `${session.sessionId}/camera`;
  m.socket.send({ type: 'update', changes: { tracks: { camera: ref } } });
  return { sessionId: session.sessionId as string, ref, mid: transceiver.mid! };
}

describe('room media API', () => {
  it('gives a joined participant a Calls session and no ICE servers in local mode', async () => {
    const ann = await member(freshRoom('media-session'), 'Ann');
    expect(ann.key).toMatch(/^[0-9a-f]{32}$/);
    const { status, body } = await ann.call('session');
    expect(status).toBe(200);
    expect(body).toEqual({ sessionId: expect.stringMatching(/^[0-9a-f]{32}$/), iceServers: [] });
  });

  it('refuses a wrong key, a pull from the lobby, and a browser acting on someone else’s session', async () => {
    const room = freshRoom('media-auth');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const { body: annSession } = await ann.call('session');

    const forged = await fetch(`${worker.url}/api/rooms/${room}/media/session`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ann.id}.${'0'.repeat(32)}` },
    });
    expect(forged.status).toBe(401);

    // A visitor in the lobby may prepare a session (lobby-media.test.ts), but receive nothing.
    const lobby = await support.lobbyVisitor(() => worker, room);
    const { body: lobbySession } = await lobby.call('session');
    const fromLobby = await lobby.call('pull', {
      sessionId: lobbySession.sessionId,
      tracks: [`${annSession.sessionId}/camera`],
    });
    expect([fromLobby.status, fromLobby.body.error.code]).toEqual([403, 'not-joined']);

    await bob.call('session');
    const hijack = await bob.call('renegotiate', {
      sessionId: annSession.sessionId,
      answer: { type: 'answer', sdp: 'v=0' },
    });
    expect(hijack).toEqual({
      status: 403,
      body: { error: { code: 'not-your-session', message: expect.any(String) } },
    });

    bob.socket.send({ type: 'update', changes: { tracks: { camera: `${annSession.sessionId}/camera` } } });
    expect(await bob.socket.next('error')).toMatchObject({ code: 'invalid-tracks' });
  });

  it('answers malformed requests with a typed 400', async () => {
    const ann = await member(freshRoom('media-bad'), 'Ann');
    const { body: session } = await ann.call('session');
    const bad = await ann.call('publish', {
      sessionId: session.sessionId,
      offer: { type: 'offer' },
      tracks: [],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid-request');
  });

  it('forwards a published track to another participant of the room, and only of the room', async () => {
    const room = freshRoom('media-flow');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const outsider = await member(freshRoom('media-other'), 'Eve');
    const published = await publishCamera(ann);
    await bob.socket.next('participant-updated', (m) => m.id === ann.id);

    const { body: bobSession } = await bob.call('session');
    const { body: eveSession } = await outsider.call('session');
    const stolen = await outsider.call('pull', { sessionId: eveSession.sessionId, tracks: [published.ref] });
    expect(stolen.body).toEqual({ offer: null, tracks: [{ ref: published.ref, error: 'not-in-room' }] });

    const pulled = await bob.call('pull', { sessionId: bobSession.sessionId, tracks: [published.ref] });
    expect(pulled.status).toBe(200);
    expect(pulled.body.tracks).toEqual([{ ref: published.ref, mid: expect.any(String) }]);
    const pc = peers.create();
    let packets = 0;
    const arrived = new Promise<void>((resolve) =>
      pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(() => ++packets === 10 && resolve())),
    );
    await pc.setRemoteDescription(pulled.body.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    expect(
      (await bob.call('renegotiate', { sessionId: bobSession.sessionId, answer: local(pc) })).status,
    ).toBe(200);
    await arrived;
  });

  it('pulls a camera in the layer asked for and switches layers on its own pulled tracks only', async () => {
    const room = freshRoom('media-layers');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const published = await publishCamera(ann);
    await bob.socket.next('participant-updated', (m) => m.id === ann.id);
    const { body: session } = await bob.call('session');
    const pulled = await bob.call('pull', {
      sessionId: session.sessionId,
      tracks: [published.ref],
      layers: { [published.ref]: 'q' },
    });
    expect(pulled.status).toBe(200);
    const mid = pulled.body.tracks[0].mid as string;
    const pc = peers.create();
    await pc.setRemoteDescription(pulled.body.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await bob.call('renegotiate', { sessionId: session.sessionId, answer: local(pc) });
    const layerAt = () =>
      sfu.stats().pulledLayers.find((l) => l.subscriberSessionId === session.sessionId && l.mid === mid);
    expect(layerAt()?.preferredRid).toBe('q');

    const updatesBefore = sfu.requests(session.sessionId).tracksUpdate;
    const switched = await bob.call('layers', {
      sessionId: session.sessionId,
      tracks: [
        { mid, layer: 'f' },
        { mid: '99', layer: 'q' },
      ],
    });
    expect(switched.status).toBe(200);
    expect(switched.body).toEqual({ tracks: [{ mid }, { mid: '99', error: 'not-pulled' }] });
    expect(sfu.requests(session.sessionId).tracksUpdate - updatesBefore).toBe(1);
    expect(layerAt()?.preferredRid).toBe('f');

    // Only on its own session, and only real layers.
    const foreign = await ann.call('layers', { sessionId: session.sessionId, tracks: [{ mid, layer: 'q' }] });
    expect(foreign.status).toBe(403);
    const bad = await bob.call('layers', { sessionId: session.sessionId, tracks: [{ mid, layer: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid-request');
  });

  it('limits new Calls sessions per participant, closes a replaced one, and holds nothing after leaving', async () => {
    const room = freshRoom('media-sessions');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const published = await publishCamera(bob);
    await ann.socket.next('participant-updated', (m) => m.id === bob.id);

    // 50 at once: one at a time is allowed, the rest are told to wait.
    const before = sfu.stats().newSessionRequests;
    const answers = await Promise.all(Array.from({ length: 50 }, () => ann.call('session')));
    const made = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(made.length).toBeLessThanOrEqual(6);
    expect(refused.length).toBe(50 - made.length);
    expect(refused[0]!.body.error.code).toBe('media-rate-limited');
    expect(sfu.stats().newSessionRequests - before).toBe(made.length);

    // The bucket refills at 6 a minute: wait for the next session it allows, without a sleep-and-hope.
    // (Which of the 50 above came last is the server's order, not the array's, so a new one is taken.)
    const nextSession = async () => {
      let answer: { status: number; body: { sessionId?: string } } = { status: 0, body: {} };
      await expect
        .poll(
          async () => {
            answer = await ann.call('session');
            return answer.status;
          },
          { timeout: 20_000, interval: 1_000 },
        )
        .toBe(200);
      return answer.body.sessionId!;
    };

    // A session that pulls, then is replaced: what it pulled is closed on Calls.
    const firstId = await nextSession();
    const pulled = await ann.call('pull', { sessionId: firstId, tracks: [published.ref] });
    expect(pulled.body.tracks).toEqual([{ ref: published.ref, mid: expect.any(String) }]);
    const pc = peers.create();
    await pc.setRemoteDescription(pulled.body.offer);
    await pc.setLocalDescription(await pc.createAnswer());
    expect((await ann.call('renegotiate', { sessionId: firstId, answer: local(pc) })).status).toBe(200);
    expect(sfu.sessions.get(firstId)?.pulled.size).toBe(1);
    const secondId = await nextSession();
    expect(secondId).not.toBe(firstId);
    await expect.poll(() => sfu.sessions.get(firstId)?.pulled.size ?? 0).toBe(0);

    // Everyone leaves: nothing of theirs is published or pulled on the SFU.
    ann.socket.send({ type: 'leave' });
    bob.socket.send({ type: 'leave' });
    const mine = [published.sessionId, firstId, secondId];
    await expect
      .poll(() =>
        mine.map((id) => {
          const session = sfu.sessions.get(id);
          return (session?.published.size ?? 0) + (session?.pulled.size ?? 0);
        }),
      )
      .toEqual([0, 0, 0]);
  }, 60_000);

  it('limits how many media requests one participant makes, not anyone else’s', async () => {
    const room = freshRoom('media-flood');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const { body: session } = await ann.call('session');
    const before = sfu.requests(session.sessionId).get;
    // 150 at once, each a Calls request if let through.
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => ann.call('check', { sessionId: session.sessionId })),
    );
    const seconds = (Date.now() - started) / 1000;
    const refused = answers.filter((a) => a.status === 429);
    const done = answers.filter((a) => a.status === 200);
    expect(done.length + refused.length).toBe(150);
    // 60 at once (the session took one), then 10 a second.
    expect(done.length).toBeGreaterThanOrEqual(59);
    expect(done.length).toBeLessThanOrEqual(59 + Math.ceil(seconds * 10) + 1);
    expect(refused[0]!.body.error.code).toBe('media-rate-limited');
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(sfu.requests(session.sessionId).get - before).toBe(done.length);
    // Bob's requests go through meanwhile.
    const { status, body } = await bob.call('session');
    expect(status).toBe(200);
    expect((await bob.call('check', { sessionId: body.sessionId })).status).toBe(200);
  });

  it('keeps a dropped participant’s media for the grace period, then closes it', async () => {
    const room = freshRoom('media-drop');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const before = sfu.stats().publishedTracks;
    const published = await publishCamera(ann);
    expect(sfu.stats().publishedTracks).toBe(before + 1);
    ann.socket.terminate();
    // While Ann may come back, what she sends keeps flowing to the others.
    await bob.socket.next('participant-updated', (m) => m.changes.reconnecting === true);
    expect(sfu.sessions.get(published.sessionId)?.published.size).toBe(1);
    await bob.socket.next('participant-left', (m) => m.id === ann.id, GRACE_MS + 5_000);
    await expect
      .poll(() => sfu.sessions.get(published.sessionId)?.published.size ?? 0, { timeout: 5_000 })
      .toBe(0);
  });

  it('refuses unknown operations, other methods, missing keys and oversized bodies with typed errors', async () => {
    const room = freshRoom('media-http');
    const ann = await member(room, 'Ann');
    const base = `${worker.url}/api/rooms/${room}/media`;
    const auth = { authorization: `Bearer ${ann.id}.${ann.key}` };
    const cases: [string, RequestInit, number, string][] = [
      ['/teleport', { method: 'POST', headers: auth }, 404, 'not-found'],
      ['/session', { method: 'GET', headers: auth }, 405, 'method-not-allowed'],
      ['/session', { method: 'POST' }, 401, 'unauthorized'],
      ['/publish', { method: 'POST', headers: auth, body: 'x'.repeat(200_000) }, 413, 'too-large'],
      ['/publish', { method: 'POST', headers: auth, body: '{not json' }, 400, 'invalid-request'],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await fetch(`${base}${path}`, init);
      expect([path, response.status]).toEqual([path, status]);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it('tells a browser whether Calls still has its session', async () => {
    const room = freshRoom('media-check');
    const ann = await member(room, 'Ann');
    const bob = await member(room, 'Bob');
    const { body } = await ann.call('session');
    const { body: bobs } = await bob.call('session');
    expect(await ann.call('check', { sessionId: body.sessionId })).toMatchObject({ status: 200 });
    // Only about its own session.
    const other = await ann.call('check', { sessionId: bobs.sessionId });
    expect([other.status, other.body.error.code]).toEqual([403, 'not-your-session']);
    // Ended on Calls (the media path broke): the browser is told to build a new one.
    sfu.sessions.get(body.sessionId)!.close();
    const gone = await ann.call('check', { sessionId: body.sessionId });
    expect([gone.status, gone.body.error.code]).toEqual([410, 'media-session-gone']);
  });

  it('says clearly when the server has no Calls configured', async () => {
    const ann = await member(freshRoom('media-none'), 'Ann', () => bare);
    const { status, body } = await ann.call('session');
    expect(status).toBe(503);
    expect(body.error.code).toBe('media-unavailable');
  });

  it('tells the browser what a failing Calls means: busy (try later) or uncertain (start over), never retried twice', async () => {
    const ann = await member(freshRoom('media-fail'), 'Ann');
    try {
      // Throttled: not applied, retried by the Worker a few times, then "busy".
      sfu.faults.set({ status: 429, failNext: 50 });
      const before = sfu.stats().newSessionRequests;
      const busy = await ann.call('session');
      expect(busy.status).toBe(503);
      expect(busy.body.error.code).toBe('media-busy');
      expect(sfu.stats().newSessionRequests - before).toBe(4);

      // A 503 may have created a session: never asked again blindly.
      sfu.faults.set({ status: 503, failNext: 50 });
      const beforeUncertain = sfu.stats().newSessionRequests;
      const uncertain = await ann.call('session');
      expect(uncertain.status).toBe(504);
      expect(uncertain.body.error.code).toBe('media-uncertain');
      expect(sfu.stats().newSessionRequests - beforeUncertain).toBe(1);
    } finally {
      sfu.faults.set({});
    }
  });
});
