/**
 * Issue 8: the AI agent's lifecycle against the local SFU and the local
 * OpenAI Realtime stand-in, with werift participants: invited, pulled and
 * heard; push-to-talk answered with audio and captions; removed with
 * nothing left; failures (bad key, 5xx, a dropped sideband, removal halfway)
 * cleaned up; a snapshot restored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createCallsClient, type CallsClient } from '../calls/client.js';
import { LOCAL_OPENAI_API_KEY } from '../local/realtime/local-key.js';
import { startLocalRealtime, type LocalRealtime } from '../local/realtime/server.js';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import { TEST_APP } from '../local/sfu/test-browser.js';
import { WeriftPeer } from '../local/sfu/test-werift.js';
import {
  Agent,
  AGENT_TRACK_NAME,
  AgentError,
  SidebandOpenError,
  type AgentCaption,
  type AgentOptions,
  type AgentState,
  type OpenSideband,
} from './agent.js';

/** Who sent a packet: the first byte of its payload. */
const ALICE = 0xa1;
const POLL = { timeout: 5_000, interval: 20 };
/** A call created by a request whose answer was lost never connects; the stand-in ends it after this. */
const CONNECT_WINDOW_MS = 3_000;

/**
 * A Calls session whose offer OpenAI never answered (the call failed) cannot
 * be changed, its track not closed: it never connects and the SFU ends it
 * after this (30 s on Calls).
 */
const SFU_CONNECT_WINDOW_MS = 1_000;

let sfu: LocalSfu;
let realtime: LocalRealtime;
let calls: CallsClient;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [sfu, realtime] = await Promise.all([
    startLocalSfu({ ...TEST_APP, connectWindowMs: SFU_CONNECT_WINDOW_MS }),
    startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY, connectWindowMs: CONNECT_WINDOW_MS }),
  ]);
  calls = createCallsClient({
    ...TEST_APP,
    baseUrl: sfu.callsApiUrl,
    retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
  });
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  // Whatever a test did, nothing of any agent is left.
  await expect.poll(() => realtime.stats(), POLL).toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
  await expect.poll(agentTracksOnSfu, POLL).toBe(0);
});
afterAll(async () => {
  await Promise.all([sfu.close(), realtime.close()]);
});

/** The sideband in Node: the `ws` package, the key in the upgrade request. */
const nodeSideband: OpenSideband = ({ url, request }, handlers) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: request.headers.authorization! } });
    socket.on('unexpected-response', (_request, response) => {
      reject(new SidebandOpenError(response.statusCode ?? 0, `sideband: ${response.statusCode}`));
      socket.terminate();
    });
    socket.once('open', () =>
      resolve({ send: (frame) => socket.send(frame), close: () => socket.close(1000) }),
    );
    socket.on('message', (data: Buffer) => handlers.message(data.toString('utf8')));
    socket.on('close', (code) => handlers.closed(`closed ${code}`));
    socket.on('error', (error) => reject(error));
  });

/** Open tracks of third-party sessions (the agents' own and what is pulled into them). */
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

const urlOf = (input: RequestInfo | URL) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/** Open pulls of one session (a participant's). */
function activePulls(sessionId: string): number {
  const session = sfu.sessions.get(sessionId);
  return session ? [...session.pulled.values()].filter((track) => track.active).length : 0;
}

/** An agent whose states, captions and warnings are recorded; removed after the test. */
function newAgent(options: Partial<AgentOptions> = {}) {
  const states: AgentState[] = [];
  const reasons: string[] = [];
  const captions: AgentCaption[] = [];
  const warnings: string[] = [];
  const agent = new Agent({
    calls,
    openai: {
      apiKey: LOCAL_OPENAI_API_KEY,
      baseUrl: realtime.url,
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    },
    session: { instructions: 'Be brief.', voice: 'marin' },
    openSideband: nodeSideband,
    correlationId: 'room-1',
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    onState: (state, reason) => {
      states.push(state);
      if (reason) reasons.push(reason);
    },
    onCaption: (caption) => captions.push(caption),
    onWarning: (message) => warnings.push(message),
    ...options,
  });
  cleanups.push(() => agent.remove());
  return { agent, states, reasons, captions, warnings };
}

/** A participant publishing a microphone (packets stamped `ALICE`) and pulling the agent's voice. */
async function participant(agentSessionId: string) {
  const peer = await WeriftPeer.open(sfu);
  cleanups.push(() => peer.close());
  await peer.publishMicrophone(ALICE);
  await peer.pull([{ sessionId: agentSessionId, trackName: AGENT_TRACK_NAME }]);
  return { peer, microphone: { sessionId: peer.sessionId, trackName: 'microphone' } };
}

/**
 * A fetch for the OpenAI client whose first `createCall` requests get these
 * statuses; with `forward`, each failed one reached the stand-in first (a
 * call made whose answer was lost).
 */
function failingCreateCall(statuses: number[], { forward = false } = {}) {
  let createCalls = 0;
  const fetchFor: typeof fetch = async (input, init) => {
    if (!urlOf(input).endsWith('/realtime/calls')) return fetch(input, init);
    const status = statuses[createCalls++];
    if (status === undefined) return fetch(input, init);
    if (forward) await (await fetch(input, init)).text();
    return Response.json({ error: { message: 'The server had an error', type: 'server_error' } }, { status });
  };
  return { fetch: fetchFor, createCalls: () => createCalls };
}

async function agentError(promise: Promise<unknown>): Promise<AgentError> {
  const error = await promise.then(
    () => new Error('expected an AgentError'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentError);
  return error as AgentError;
}

describe('invite', () => {
  it('brings the agent in: a third-party Calls session whose voice a participant pulls', async () => {
    const { agent, states } = newAgent();
    const track = await agent.invite();
    expect(track).toEqual({
      sessionId: expect.stringMatching(/^[0-9a-f]{32}$/),
      trackName: AGENT_TRACK_NAME,
    });
    expect(states).toEqual(['connecting', 'listening']);
    expect(agent.track).toEqual(track);
    expect(sfu.sessions.get(track.sessionId)).toMatchObject({ thirdParty: true, correlationId: 'room-1' });
    expect(realtime.stats()).toMatchObject({ callsOpen: 1, sidebandsOpen: 1 });
    const snapshot = agent.snapshot()!;
    expect(snapshot).toEqual({
      sessionId: track.sessionId,
      mid: expect.any(String),
      callId: expect.stringMatching(/^rtc_/),
      track,
      state: 'listening',
    });
    // The model was asked for push-to-talk: no turn detection.
    expect(realtime.calls.get(snapshot.callId)!.session).toMatchObject({
      model: 'gpt-realtime',
      instructions: 'Be brief.',
      audio: { input: { turn_detection: null }, output: { voice: 'marin' } },
    });

    const alice = await participant(track.sessionId);
    expect(activePulls(alice.peer.sessionId)).toBe(1);
    expect(alice.peer.pc.connectionState).toBe('connected');
  });
});

describe('push-to-talk', () => {
  it('the holder’s microphone is heard; on release the agent answers with audio and captions', async () => {
    const { agent, states, captions } = newAgent();
    const track = await agent.invite();
    const alice = await participant(track.sessionId);
    expect(alice.peer.count(ALICE)).toBe(0);

    const heardBefore = realtime.stats().audioPacketsReceived;
    await agent.startTalking(alice.microphone);
    await expect.poll(() => realtime.stats().audioPacketsReceived - heardBefore, POLL).toBeGreaterThan(30);
    agent.stopTalking();

    // Alice's own words come back to her on the agent's track: the answer.
    await expect.poll(() => alice.peer.count(ALICE), POLL).toBeGreaterThan(20);
    await expect
      .poll(() => captions.at(-1), POLL)
      .toEqual({
        text: expect.stringMatching(/^I heard you for \d\.\d seconds\.$/),
        final: true,
      });
    const pieces = captions.slice(0, -1);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((caption) => !caption.final)).toBe(true);
    expect(pieces.map((caption) => caption.text).join('')).toBe(captions.at(-1)!.text);
    await expect.poll(() => agent.state, POLL).toBe('listening');
    expect(states).toEqual(['connecting', 'listening', 'thinking', 'speaking', 'listening']);
  });

  it('a source that is not publishing is a typed failure; the agent goes on', async () => {
    const { agent } = newAgent();
    const track = await agent.invite();
    const error = await agentError(agent.startTalking({ sessionId: track.sessionId, trackName: 'nobody' }));
    expect(error.code).toBe('not-found');
    expect(agent.state).toBe('listening');
  });

  it('is refused before the agent is in the meeting', async () => {
    const { agent } = newAgent();
    expect(() => agent.stopTalking()).toThrow(AgentError);
    expect((await agentError(agent.startTalking({ sessionId: 'x', trackName: 'y' }))).code).toBe('not-ready');
  });
});

describe('remove', () => {
  it('leaves nothing on the SFU or in the stand-in, and is safe to repeat', async () => {
    const { agent, states, warnings } = newAgent();
    const track = await agent.invite();
    const alice = await participant(track.sessionId);
    expect(agentTracksOnSfu()).toBe(1);
    const { callsHungUp } = realtime.stats();

    await Promise.all([agent.remove(), agent.remove()]);
    await agent.remove();
    expect(realtime.stats()).toMatchObject({ callsOpen: 0, sidebandsOpen: 0, callsHungUp: callsHungUp + 1 });
    expect(agentTracksOnSfu()).toBe(0);
    // The participant's pull of the agent's voice ended with it; her microphone stays.
    expect(activePulls(alice.peer.sessionId)).toBe(0);
    expect(sfu.sessions.get(alice.peer.sessionId)?.published.get('microphone')?.active).toBe(true);
    expect(states).toEqual(['connecting', 'listening', 'ended']);
    expect(warnings).toEqual([]);
    expect(agent.track).toBeNull();
    expect(agent.snapshot()).toBeNull();
    expect((await agentError(agent.invite())).code).toBe('not-ready');
  });

  it('during invite, at any step, leaves nothing (the call made after removal is hung up)', async () => {
    // Removed before the Calls session was even made.
    const early = newAgent();
    const earlyInvite = early.agent.invite();
    await early.agent.remove();
    expect((await agentError(earlyInvite)).code).toBe('ended');

    // Removed while OpenAI was creating the call.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached = false;
    const { callsCreated, callsHungUp } = realtime.stats();
    const late = newAgent({
      openai: {
        apiKey: LOCAL_OPENAI_API_KEY,
        baseUrl: realtime.url,
        fetch: async (input, init) => {
          if (urlOf(input).endsWith('/realtime/calls')) {
            reached = true;
            await gate;
          }
          return fetch(input, init);
        },
      },
    });
    const lateInvite = late.agent.invite();
    await expect.poll(() => reached, POLL).toBe(true);
    const removed = late.agent.remove();
    release();
    await removed;
    expect((await agentError(lateInvite)).code).toBe('ended');
    expect(late.states).toEqual(['connecting', 'ended']);
    expect([...early.warnings, ...late.warnings]).toEqual([]);
    expect(realtime.stats()).toMatchObject({
      callsOpen: 0,
      callsCreated: callsCreated + 1,
      callsHungUp: callsHungUp + 1,
    });
    expect(agentTracksOnSfu()).toBe(0);
  });
});

describe('failures', () => {
  it('a bad API key: error with a clear message, no retry, nothing left', async () => {
    const { callsCreated } = realtime.stats();
    const newSessions = sfu.stats().newSessionRequests;
    const { agent, states, reasons } = newAgent({
      openai: { apiKey: 'sk-wrong', baseUrl: realtime.url },
    });
    const error = await agentError(agent.invite());
    expect(error.code).toBe('auth');
    expect(error.message).toMatch(/OpenAI refused the server's API key \(401\)/);
    expect(states).toEqual(['connecting', 'error']);
    expect(reasons).toEqual([error.message]);
    expect(sfu.stats().newSessionRequests).toBe(newSessions + 1);
    // The session with the unanswered offer ends unconnected.
    await expect.poll(agentTracksOnSfu, POLL).toBe(0);
    expect(realtime.stats()).toMatchObject({ callsOpen: 0, callsCreated });
  });

  it('503 then success: the OpenAI client’s own retry; one Calls session', async () => {
    const openAi = failingCreateCall([503]);
    const newSessions = sfu.stats().newSessionRequests;
    const { agent, states } = newAgent({
      openai: {
        apiKey: LOCAL_OPENAI_API_KEY,
        baseUrl: realtime.url,
        fetch: openAi.fetch,
        retry: { baseDelayMs: 10 },
      },
    });
    await agent.invite();
    expect(states).toEqual(['connecting', 'listening']);
    expect(openAi.createCalls()).toBe(2);
    expect(sfu.stats().newSessionRequests).toBe(newSessions + 1);
  });

  it('a 500 whose call may exist: starts over with a new Calls session; the first one ends unconnected', async () => {
    const openAi = failingCreateCall([500], { forward: true });
    const newSessions = sfu.stats().newSessionRequests;
    const { agent, states } = newAgent({
      openai: { apiKey: LOCAL_OPENAI_API_KEY, baseUrl: realtime.url, fetch: openAi.fetch },
    });
    const track = await agent.invite();
    expect(states).toEqual(['connecting', 'listening']);
    expect(openAi.createCalls()).toBe(2);
    expect(sfu.stats().newSessionRequests).toBe(newSessions + 2);
    // Only the second session's track is open; the lost call never connects and ends.
    await expect.poll(agentTracksOnSfu, POLL).toBe(1);
    await expect.poll(() => realtime.stats().callsOpen, { timeout: CONNECT_WINDOW_MS + 3_000 }).toBe(1);
    expect(agent.snapshot()).toMatchObject({ sessionId: track.sessionId });
  });

  it('500s every time: bounded tries, then error, nothing left', async () => {
    const openAi = failingCreateCall([500, 500, 500, 500]);
    const newSessions = sfu.stats().newSessionRequests;
    const { agent, states, reasons } = newAgent({
      openai: { apiKey: LOCAL_OPENAI_API_KEY, baseUrl: realtime.url, fetch: openAi.fetch },
    });
    expect((await agentError(agent.invite())).code).toBe('unavailable');
    expect(openAi.createCalls()).toBe(3);
    expect(sfu.stats().newSessionRequests).toBe(newSessions + 3);
    expect(states).toEqual(['connecting', 'error']);
    expect(reasons[0]).toMatch(/500/);
    // The session with the unanswered offer ends unconnected.
    await expect.poll(agentTracksOnSfu, POLL).toBe(0);

    // Retry: an invite after the error works.
    await agent.invite();
    expect(agent.state).toBe('listening');
  });

  it('a dropped sideband is reopened once; a second drop ends the agent with error, nothing left', async () => {
    let opened = 0;
    const { agent, states, reasons, captions, warnings } = newAgent({
      openSideband: async (target, handlers) => {
        const sideband = await nodeSideband(target, handlers);
        opened++;
        return sideband;
      },
    });
    await agent.invite();
    const call = realtime.calls.get(agent.snapshot()!.callId)!;
    const drop = () => [...call.sidebands].forEach((socket) => socket.terminate());

    drop();
    await expect.poll(() => opened, POLL).toBe(2);
    expect(call.sidebands.size).toBe(1);
    expect(agent.state).toBe('listening');
    // The control path works again: the stand-in answers an empty turn with words only.
    agent.stopTalking();
    await expect.poll(() => captions.at(-1), POLL).toEqual({ text: 'I heard nothing.', final: true });
    expect(warnings).toEqual([expect.stringMatching(/input_audio_buffer_commit_empty/)]);

    drop();
    await expect.poll(() => agent.state, POLL).toBe('error');
    expect(reasons).toEqual([expect.stringMatching(/dropped again/)]);
    expect(states.at(-1)).toBe('error');
    expect(realtime.stats()).toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
    expect(agentTracksOnSfu()).toBe(0);
  });
});

describe('persisting', () => {
  it('a snapshot restored by a new agent (the room evicted) reopens the sideband and goes on', async () => {
    // The first agent's socket is cut without a word, as an evicted object's would be.
    const sockets: (() => void)[] = [];
    const silentSideband: OpenSideband = async (target, handlers) => {
      let live = true;
      const sideband = await nodeSideband(target, {
        message: (frame) => live && handlers.message(frame),
        closed: (reason) => live && handlers.closed(reason),
      });
      sockets.push(() => {
        live = false;
        sideband.close();
      });
      return sideband;
    };
    const first = newAgent({ openSideband: silentSideband });
    const track = await first.agent.invite();
    const snapshot = JSON.parse(JSON.stringify(first.agent.snapshot())) as ReturnType<Agent['snapshot']>;
    sockets.forEach((cut) => cut());
    await expect.poll(() => realtime.stats().sidebandsOpen, POLL).toBe(0);
    cleanups.splice(0); // the first agent is gone with its object

    const second = newAgent();
    expect(await second.agent.restore(snapshot!)).toEqual(track);
    expect(second.states).toEqual(['connecting', 'listening']);
    expect(realtime.stats()).toMatchObject({ callsOpen: 1, sidebandsOpen: 1 });
    const alice = await participant(track.sessionId);
    await second.agent.startTalking(alice.microphone);
    await expect.poll(() => realtime.stats().audioPacketsReceived, POLL).toBeGreaterThan(30);
    second.agent.stopTalking();
    await expect.poll(() => second.captions.at(-1)?.final, POLL).toBe(true);
  });

  it('a snapshot whose call is gone: error, and the track is closed', async () => {
    const first = newAgent();
    await first.agent.invite();
    const snapshot = first.agent.snapshot()!;
    await first.agent.remove();

    const second = newAgent();
    expect((await agentError(second.agent.restore(snapshot))).code).toBe('unavailable');
    expect(second.states).toEqual(['connecting', 'error']);
    expect(second.reasons[0]).toMatch(/could not be taken back/);
  });
});
