/**
 * The local realtime stand-in, driven by the Worker's own OpenAI client and
 * a werift peer playing Calls (one sendrecv audio m-line, no data channel):
 * a call is answered, the caller's audio is heard, a committed turn is
 * answered with audio and a transcript on the sideband; requests are checked
 * like OpenAI checks them; hangup leaves nothing behind.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { WebSocket } from 'ws';
import {
  createOpenAiRealtimeClient,
  OpenAiError,
  realtimeSession,
  type OpenAiRealtimeClient,
} from '../../ai/openai-realtime.js';
import { createPeer, keepLoopbackCandidates } from '../sfu/peer.js';
import { startLocalRealtime, type LocalRealtime } from './server.js';

const KEY = 'test-openai-key';
const SESSION = realtimeSession({ model: 'gpt-realtime', instructions: 'Be brief.', voice: 'marin' });
/** 0.6 s of speech in 20 ms Opus frames. */
const FRAMES = 30;

/** Events and error bodies as parsed JSON, read loosely. */
type JsonValue = ReturnType<typeof JSON.parse>;

let realtime: LocalRealtime;
let openai: OpenAiRealtimeClient;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  realtime = await startLocalRealtime({ apiKey: KEY });
  openai = createOpenAiRealtimeClient({ apiKey: KEY, baseUrl: realtime.url, retry: { attempts: 1 } });
});
afterEach(async () => {
  realtime.faults.set({});
  await Promise.all(cleanups.splice(0).map((cleanup) => Promise.resolve(cleanup())));
});
afterAll(() => realtime.close());

/** A peer like the one Calls makes for the agent: it offers one sendrecv audio m-line. */
async function callsPeer() {
  const pc: RTCPeerConnection = createPeer();
  cleanups.push(() => pc.close());
  const audio: RTCRtpTransceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
  const received: RtpPacket[] = [];
  audio.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => received.push(rtp)));
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, audio, received, offer: keepLoopbackCandidates(pc.localDescription!.sdp) };
}

/** A connected call: the peer's offer sent with the client, OpenAI's answer applied. */
async function connectedCall() {
  const peer = await callsPeer();
  const { callId, sdp } = await openai.createCall({ sdp: peer.offer, session: SESSION });
  cleanups.push(() => openai.hangup(callId));
  await peer.pc.setRemoteDescription({ type: 'answer', sdp });
  await expect.poll(() => peer.pc.connectionState, { timeout: 5_000 }).toBe('connected');
  return { ...peer, callId };
}

/** The sideband WebSocket, every event it receives kept in order. */
async function sideband(callId: string) {
  const socket = new WebSocket(openai.sidebandUrl(callId), { headers: { authorization: `Bearer ${KEY}` } });
  cleanups.push(() => socket.close());
  const events: JsonValue[] = [];
  socket.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8'))));
  const closed = new Promise<number>((resolve) => socket.on('close', resolve));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const send = (event: object) => socket.send(JSON.stringify(event));
  const types = () => events.map((event) => event.type as string);
  return { socket, events, types, send, closed };
}

/** Fake Opus frames, each one telling its index: what comes back can be matched to what went out. */
function speak(audio: RTCRtpTransceiver, frames = FRAMES) {
  for (let i = 0; i < frames; i++) {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: 1000 + i, timestamp: 5000 + i * 960 });
    void audio.sender.sendRtp(new RtpPacket(header, Buffer.from([0x78, i, 0xaa, 0xbb, 0xcc])));
  }
}

/** Why a WebSocket upgrade was refused: the status and OpenAI's error body. */
function refusedUpgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; body: JsonValue }>((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('open', () => reject(new Error('the upgrade was accepted')));
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    socket.on('error', () => undefined);
  });
}

async function createCallError(promise: Promise<unknown>): Promise<OpenAiError> {
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAiError);
  return error as OpenAiError;
}

describe('a push-to-talk turn', () => {
  it('hears the caller and answers with its audio and a transcript', async () => {
    const call = await connectedCall();
    const events = await sideband(call.callId);
    await expect.poll(events.types).toEqual(['session.created']);
    expect(events.events[0]).toMatchObject({
      session: { model: 'gpt-realtime', audio: { input: { turn_detection: null } } },
    });

    events.send({ type: 'input_audio_buffer.clear' });
    speak(call.audio);
    await expect.poll(() => realtime.stats().audioPacketsReceived).toBeGreaterThanOrEqual(FRAMES);
    events.send({ type: 'input_audio_buffer.commit' });
    events.send({ type: 'response.create' });

    await expect.poll(events.types, { timeout: 5_000 }).toContain('output_audio_buffer.stopped');
    expect(events.types()).toEqual([
      'session.created',
      'input_audio_buffer.cleared',
      'input_audio_buffer.committed',
      'response.created',
      'output_audio_buffer.started',
      ...Array<string>(6).fill('response.output_audio_transcript.delta'),
      'response.output_audio_transcript.done',
      'response.done',
      'output_audio_buffer.stopped',
    ]);
    const deltas = events.events.filter((e) => e.type === 'response.output_audio_transcript.delta');
    expect(deltas.map((e) => e.delta as string).join('')).toBe('I heard you for 0.6 seconds.');
    expect(events.events.find((e) => e.type === 'response.output_audio_transcript.done')).toMatchObject({
      transcript: 'I heard you for 0.6 seconds.',
    });
    expect(events.events.find((e) => e.type === 'response.done')).toMatchObject({
      response: { status: 'completed' },
    });

    // The caller's frames come back, in order, on the stand-in's own stream.
    await expect.poll(() => call.received.length).toBe(FRAMES);
    expect(call.received.map((rtp) => rtp.payload[1])).toEqual([...Array(FRAMES).keys()]);
    const sequence = call.received.map((rtp) => rtp.header.sequenceNumber);
    expect(sequence.every((n, i) => i === 0 || n === ((sequence[i - 1]! + 1) & 0xffff))).toBe(true);
    const timestamps = call.received.map((rtp) => rtp.header.timestamp);
    expect(timestamps.every((t, i) => i === 0 || t === (timestamps[i - 1]! + 960) >>> 0)).toBe(true);
    expect(realtime.stats()).toMatchObject({ audioPacketsSent: FRAMES });
  });

  it('refuses to commit silence, answers an empty turn with words only, and survives bad events', async () => {
    const call = await connectedCall();
    const events = await sideband(call.callId);
    events.send({ type: 'input_audio_buffer.commit', event_id: 'commit_1' });
    events.send({ type: 'no.such.event', event_id: 'bad_1' });
    events.send({
      type: 'session.update',
      session: { type: 'realtime', audio: { output: { voice: 'cedar' } } },
    });
    events.send({ type: 'response.create' });

    await expect.poll(events.types).toContain('response.done');
    const errors = events.events.filter((e) => e.type === 'error');
    expect(errors.map((e): unknown[] => [e.error.code, e.error.event_id])).toEqual([
      ['input_audio_buffer_commit_empty', 'commit_1'],
      ['invalid_event', 'bad_1'],
    ]);
    expect(events.events.find((e) => e.type === 'session.updated')).toMatchObject({
      session: {
        model: 'gpt-realtime',
        audio: { input: { turn_detection: null }, output: { voice: 'cedar' } },
      },
    });
    expect(events.events.find((e) => e.type === 'response.output_audio_transcript.done')).toMatchObject({
      transcript: 'I heard nothing.',
    });
    expect(events.types()).not.toContain('output_audio_buffer.started');
    expect(events.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('hangup', () => {
  it('closes the peer and the sideband, and leaves nothing', async () => {
    const call = await connectedCall();
    const events = await sideband(call.callId);
    const standIn = realtime.calls.get(call.callId)!;
    expect(realtime.stats()).toMatchObject({ callsOpen: 1, sidebandsOpen: 1 });

    expect(await openai.hangup(call.callId)).toBe('ended');
    expect(await events.closed).toBe(1000);
    await expect.poll(() => standIn.media.pc.connectionState).toBe('closed');
    expect(realtime.stats()).toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
    // A second hangup finds no call.
    expect(await openai.hangup(call.callId)).toBe('not-found');
  });
});

describe('checks like OpenAI', () => {
  it('answers 401 invalid_api_key for a wrong or missing key', async () => {
    const { offer } = await callsPeer();
    const wrongKey = createOpenAiRealtimeClient({ apiKey: 'sk-wrong', baseUrl: realtime.url });
    expect(await createCallError(wrongKey.createCall({ sdp: offer, session: SESSION }))).toMatchObject({
      kind: 'auth',
      status: 401,
      code: 'invalid_api_key',
    });
    const noKey = await fetch(`${realtime.url}/realtime/calls`, { method: 'POST', body: new FormData() });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_api_key', message: expect.any(String) },
    });
  });

  it('answers 400 for a session without a model, or no sdp', async () => {
    const { offer } = await callsPeer();
    const post = (form: FormData) =>
      fetch(`${realtime.url}/realtime/calls`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}` },
        body: form,
      });
    const noModel = new FormData();
    noModel.set('sdp', offer);
    noModel.set('session', JSON.stringify({ type: 'realtime', instructions: 'Hi' }));
    const refused = await post(noModel);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'missing_required_parameter', param: 'session.model' },
    });

    const noSdp = new FormData();
    noSdp.set('session', JSON.stringify(SESSION));
    const missing = await post(noSdp);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { param: 'sdp' } });
    expect(realtime.stats().callsOpen).toBe(0);
  });

  it('refuses a sideband without the key (401) or for an unknown call (404)', async () => {
    const call = await connectedCall();
    expect(await refusedUpgrade(openai.sidebandUrl(call.callId), {})).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_api_key' } },
    });
    expect(
      await refusedUpgrade(openai.sidebandUrl('rtc_unknown'), { authorization: `Bearer ${KEY}` }),
    ).toMatchObject({ status: 404, body: { error: { code: 'call_id_not_found' } } });
    expect(await openai.hangup('rtc_unknown')).toBe('not-found');
  });
});

describe('injected faults', () => {
  it('fail the next N requests of a route as OpenAI would, then serve again', async () => {
    const { offer } = await callsPeer();
    const patient = createOpenAiRealtimeClient({
      apiKey: KEY,
      baseUrl: realtime.url,
      retry: { attempts: 3 },
      sleep: () => Promise.resolve(),
    });
    const before = realtime.stats();
    realtime.faults.set({ route: 'create-call', status: 503, failNext: 2 });
    const { callId } = await patient.createCall({ sdp: offer, session: SESSION });
    cleanups.push(() => openai.hangup(callId));
    expect(realtime.stats().callRequests - before.callRequests).toBe(3);
    expect(realtime.stats().faultsInjected - before.faultsInjected).toBe(2);

    realtime.faults.set({ status: 401, failNext: 1 });
    const { offer: second } = await callsPeer();
    expect(await createCallError(patient.createCall({ sdp: second, session: SESSION }))).toMatchObject({
      kind: 'auth',
      status: 401,
      code: 'invalid_api_key',
    });
    expect(realtime.stats().callRequests - before.callRequests).toBe(4);
  });

  it('hang a request until the caller gives up, and refuse or hang a sideband', async () => {
    const { offer } = await callsPeer();
    const hasty = createOpenAiRealtimeClient({ apiKey: KEY, baseUrl: realtime.url, timeoutMs: 200 });
    realtime.faults.set({ route: 'create-call', hangNext: 1 });
    expect(await createCallError(hasty.createCall({ sdp: offer, session: SESSION }))).toMatchObject({
      kind: 'unavailable',
      code: 'timeout',
    });
    expect(realtime.stats().callsOpen).toBe(0);

    const call = await connectedCall();
    const auth = { authorization: `Bearer ${KEY}` };
    realtime.faults.set({ route: 'sideband', status: 503, failNext: 1 });
    expect(await refusedUpgrade(openai.sidebandUrl(call.callId), auth)).toMatchObject({
      status: 503,
      body: { error: { type: 'server_error' } },
    });
    realtime.faults.set({ route: 'sideband', hangNext: 1 });
    const held = new WebSocket(openai.sidebandUrl(call.callId), { headers: auth, handshakeTimeout: 200 });
    expect(await new Promise((resolve) => held.once('error', resolve))).toMatchObject({
      message: 'Opening handshake has timed out',
    });
    // The fault is spent: the next one opens.
    const events = await sideband(call.callId);
    await expect.poll(events.types).toEqual(['session.created']);
  });

  it('are set over HTTP too, checked like the SFU checks its own', async () => {
    const put = (body: string) =>
      fetch(`${realtime.url.replace(/\/v1$/, '')}/__local/faults`, { method: 'PUT', body });
    const set = await put(JSON.stringify({ route: 'hangup', status: 429, failNext: 1 }));
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ route: 'hangup', status: 429, failNext: 1, hangNext: 0 });
    expect(realtime.faults.settings).toMatchObject({ route: 'hangup', failNext: 1 });
    const refused = await put(JSON.stringify({ status: 418 }));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_value' } });
    expect(realtime.faults.settings).toMatchObject({ route: 'hangup', failNext: 1 });
  });
});

describe('at the end', () => {
  it('holds no call and no sideband', async () => {
    await expect
      .poll(() => realtime.stats(), { timeout: 5_000 })
      .toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
  });
});
