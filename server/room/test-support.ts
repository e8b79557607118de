/**
 * Shared set-up for the room tests that carry media (media.test.ts) and the
 * AI agent (ai.test.ts, ai-resilience.test.ts) through the real Worker, the
 * local SFU and the local OpenAI Realtime stand-in: members with their media
 * key, werift peers publishing a microphone as a browser does, the agent
 * invited and watched, and what it leaves behind.
 *
 * Everything here that starts something is stopped by its owner: `usePeers`
 * after each test of the file that calls it, `startAiStack` by `close()`.
 */
import { MediaStreamTrack, RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { afterEach, expect } from 'vitest';
import type { Participant } from '../../src/protocol/index.js';
import type { RoomSocketOptions } from '../local/dev/room-socket.js';
import type { LocalWorker } from '../local/dev/worker.js';
import { localOpenAiVars, LOCAL_OPENAI_API_KEY } from '../local/realtime/local-key.js';
import { startLocalRealtime, type LocalRealtime } from '../local/realtime/server.js';
import { startLocalSfu, type LocalSfu } from '../local/sfu/calls-server.js';
import type { SfuSession } from '../local/sfu/session.js';
import { localCallsVars, LOCAL_CALLS_APP_ID, LOCAL_CALLS_APP_SECRET } from '../local/sfu/local-app.js';
import { createPeer } from '../local/sfu/peer.js';
import type { RoomSocket } from '../local/dev/room-socket.js';
import { connect, joined } from '../test-support.js';

export const POLL = { timeout: 5_000, interval: 25 };

/** A participant with what a browser holds: its room socket and the key for the media API. */
export interface Member {
  socket: RoomSocket;
  id: string;
  /** This connection's media key (a resumed connection gets a new one). */
  key: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many shapes; the tests assert them
  call(op: string, body?: unknown): Promise<{ status: number; body: any; retryAfter?: string }>;
}

/** Joins `room` as `name` on `worker` (a getter: the Worker may be restarted). */
export async function member(
  worker: () => LocalWorker,
  room: string,
  name: string,
  options?: RoomSocketOptions,
): Promise<Member> {
  const { socket, participant } = await joined(worker, room, name, options);
  return withMedia(worker, room, socket, participant.id);
}

/**
 * A visitor in the lobby of `room`, not joined, with what its page holds: the
 * socket and the connection's media key (`id` is the participant id it will
 * have once it joins).
 */
export async function lobbyVisitor(
  worker: () => LocalWorker,
  room: string,
  options?: RoomSocketOptions,
): Promise<Member> {
  const socket = await connect(worker, room, options);
  const snapshot = await socket.next('snapshot');
  return withMedia(worker, room, socket, snapshot.selfId);
}

/** Comes back as the participant of an earlier connection (its `socket.resume`), as a browser does. */
export async function memberBack(
  worker: () => LocalWorker,
  room: string,
  resume: NonNullable<RoomSocketOptions['resume']>,
): Promise<Member> {
  const socket = await connect(worker, room, { resume });
  const snapshot = await socket.next('snapshot');
  expect(snapshot).toMatchObject({ selfId: resume.id, resumed: true });
  return withMedia(worker, room, socket, resume.id);
}

function withMedia(worker: () => LocalWorker, room: string, socket: RoomSocket, id: string): Member {
  const key = socket.snapshot.mediaKey ?? '';
  return {
    socket,
    id,
    key,
    async call(op, body = {}) {
      const response = await fetch(`${worker().url}/api/rooms/${room}/media/${op}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${id}.${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const retryAfter = response.headers.get('retry-after');
      return { status: response.status, body: await response.json(), ...(retryAfter ? { retryAfter } : {}) };
    },
  };
}

/** Werift peers standing in for browsers, and the timers feeding them RTP. */
export class Peers {
  readonly #peers: RTCPeerConnection[] = [];
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  create(): RTCPeerConnection {
    const pc = createPeer();
    this.#peers.push(pc);
    return pc;
  }

  /** Runs `send` every `ms` until `stop()`. */
  every(ms: number, send: () => void): void {
    this.#timers.push(setInterval(send, ms));
  }

  async stop(): Promise<void> {
    this.#timers.splice(0).forEach(clearInterval);
    await Promise.all(this.#peers.splice(0).map((pc) => pc.close()));
  }
}

/** Peers for one test file, all stopped after each of its tests. */
export function usePeers(): Peers {
  const peers = new Peers();
  afterEach(() => peers.stop());
  return peers;
}

/** Publishes an Opus-like microphone through the media API and announces it, as a browser does. */
export async function publishMicrophone(peers: Peers, m: Member): Promise<string> {
  const { ref } = await sendMicrophone(peers, m);
  m.socket.send({ type: 'update', changes: { tracks: { microphone: ref } } });
  await m.socket.next('participant-updated', (u) => u.id === m.id && !!u.changes.tracks);
  return ref;
}

/**
 * A new Calls session for `m` that publishes an Opus-like microphone, as a
 * browser does (in the lobby too); announcing it is the caller's.
 */
export async function sendMicrophone(
  peers: Peers,
  m: Member,
): Promise<{ sessionId: string; ref: string; mid: string; pc: RTCPeerConnection }> {
  const { body: session } = await m.call('session');
  const pc = peers.create();
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
  peers.every(10, () => {
    seq += 1;
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 480, ssrc: 7 });
    track.writeRtp(new RtpPacket(header, Buffer.from([0xa1, 0xfc, 0xff, 0xfe])));
  });
  return { sessionId: session.sessionId, ref: `${session.sessionId}/microphone`, mid: transceiver.mid!, pc };
}

/** The local SFU and OpenAI stand-in, and the Worker variables that point a Worker at them. */
export interface AiStack {
  sfu: LocalSfu;
  realtime: LocalRealtime;
  /** Calls only: a Worker without AI. */
  callsVars: Record<string, string>;
  /** Calls and OpenAI. */
  vars: Record<string, string>;
  close(): Promise<void>;
}

export async function startAiStack(): Promise<AiStack> {
  const [sfu, realtime] = await Promise.all([
    startLocalSfu({ appId: LOCAL_CALLS_APP_ID, appSecret: LOCAL_CALLS_APP_SECRET }),
    startLocalRealtime({ apiKey: LOCAL_OPENAI_API_KEY }),
  ]);
  const callsVars = localCallsVars(sfu.callsApiUrl);
  return {
    sfu,
    realtime,
    callsVars,
    vars: { ...callsVars, ...localOpenAiVars(realtime.url) },
    close: async () => void (await Promise.all([sfu.close(), realtime.close()])),
  };
}

/** Invites the AI as `host` and waits until `watchers` see its voice; returns its id and track. */
export async function invite(host: Member, watchers: Member[]) {
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

/** The agent as `m`'s connection knows it now: its snapshot, then joins, changes and leaves, in order. */
export function agentSeenBy(m: Member): Participant | null {
  let agent: Participant | null = null;
  for (const message of m.socket.received) {
    if (message.type === 'snapshot') agent = message.participants.find((p) => p.role === 'agent') ?? null;
    if (message.type === 'participant-joined' && message.participant.role === 'agent')
      agent = message.participant;
    if (!agent) continue;
    if (message.type === 'participant-updated' && message.id === agent.id)
      agent = { ...agent, ...message.changes };
    if (message.type === 'participant-left' && message.id === agent.id) agent = null;
  }
  return agent;
}

/** The agent's Calls sessions (third-party ones): all, or those of `room` (their correlation id). */
export function agentSessions(sfu: LocalSfu, room?: string): SfuSession[] {
  return [...sfu.sessions.values()].filter(
    (session) => session.thirdParty && (room === undefined || session.correlationId === room),
  );
}

/** Open tracks of these sessions: an agent's voice and what is pulled into it. */
export function openTracks(sessions: SfuSession[]): number {
  return sessions.reduce(
    (n, session) =>
      n +
      [...session.published.values(), ...session.pulled.values(), ...session.feeds.values()].filter(
        (track) => track.active,
      ).length,
    0,
  );
}

/**
 * No call or sideband open at the stand-in, and no open agent track on the
 * SFU (of `room`, if given). With `exceptUnanswered`, sessions whose offer
 * OpenAI never answered (after a failed invite) are left out: Calls refuses
 * any change to a session while its offer waits, so nobody can close them;
 * they carry nothing, and Calls ends them after its connect window.
 */
export async function expectNothingLeft(
  { sfu, realtime }: AiStack,
  room?: string,
  { exceptUnanswered = false } = {},
): Promise<void> {
  await expect.poll(() => realtime.stats(), POLL).toMatchObject({ callsOpen: 0, sidebandsOpen: 0 });
  const sessions = () => agentSessions(sfu, room).filter((s) => !exceptUnanswered || s.negotiated);
  await expect.poll(() => openTracks(sessions()), POLL).toBe(0);
}
