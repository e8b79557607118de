import { DurableObject } from 'cloudflare:workers';
import {
  displayName,
  HEARTBEAT_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  parseClientMessage,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ClientMessageOf,
  type ErrorCode,
  type LeaveReason,
  type Participant,
  type ParticipantState,
  type ServerMessage,
  type media,
} from '../../src/protocol/index.js';
import { verifyJoinToken } from '../auth/join-token.js';
import type { Env } from '../env.js';
import {
  newMediaKey,
  newParticipantId,
  readState,
  writeState,
  type ConnectionState,
} from './connection-state.js';
import {
  callsClientFor,
  closeAll,
  handleMediaOperation,
  MediaApiError,
  mediaErrorReply,
  type MediaReply,
} from './media-gateway.js';
import { MeetingStore, type MeetingRecord } from './meeting-store.js';
import { TokenBucket } from './rate-limit.js';

/** The Worker names the room in this header; the object has no other way to know it. */
export const ROOM_NAME_HEADER = 'X-Meet-Room';

const SWEEP_INTERVAL_MS = 10_000;
const RATE_BURST = 60;
const RATE_PER_SECOND = 30;
/** A flood this long (dropped messages) closes the connection. */
const MAX_DROPPED = 200;
const MAX_OVERSIZED = 3;
const MAX_INVALID = 50;
/** Close codes: 1008 policy violation, 1009 too big, 4408 heartbeat timeout. */
const CLOSE_POLICY = 1008;
const CLOSE_TOO_BIG = 1009;
const CLOSE_TIMED_OUT = 4408;

interface Session {
  ws: WebSocket;
  state: ConnectionState;
}

/** Per-connection abuse counters; in memory, reset on hibernation like the rate limit. */
interface Abuse {
  bucket: TokenBucket;
  dropped: number;
  oversized: number;
  invalid: number;
  lastRateErrorAt: number;
}

/** One meeting room: presence, roles, state deltas and the meeting record. */
export class Room extends DurableObject<Env> {
  readonly #meetings: MeetingStore;
  #meeting: MeetingRecord | null;
  /** Live connections by participant id, rebuilt from socket attachments after hibernation. */
  readonly #sessions = new Map<string, Session>();
  readonly #abuse = new Map<string, Abuse>();
  /** When this instance was built: after hibernation or a restart it is a new one. */
  readonly #awakeSince = Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    this.#meetings = new MeetingStore(ctx.storage.sql);
    for (const ws of ctx.getWebSockets()) {
      const state = readState(ws);
      if (state && !state.gone) this.#sessions.set(state.id, { ws, state });
    }
    this.#meeting = this.#meetings.current();
    // A meeting left open with nobody connected means the room was restarted
    // (deploy, eviction after a crash): close the record rather than resume it.
    if (this.#meeting && this.#joined().length === 0) {
      this.#meetings.end(this.#meeting, Date.now());
      this.#meeting = null;
    }
  }

  /** A WebSocket upgrade for this room, already checked by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    const room = request.headers.get(ROOM_NAME_HEADER) ?? '';
    const url = new URL(request.url);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];

    if (url.searchParams.get('v') !== String(PROTOCOL_VERSION)) {
      return refuse(client, server, 'protocol-version', 'Meetkit on this page is out of date: please reload');
    }
    let identity: ConnectionState['identity'] = null;
    if (this.env.JOIN_SECRET) {
      const check = await verifyJoinToken(url.searchParams.get('token'), this.env.JOIN_SECRET, room);
      if (!check.ok) return refuse(client, server, 'unauthorized', check.reason);
      identity = { name: check.claims.name, role: check.claims.role };
    }

    const now = Date.now();
    const state: ConnectionState = {
      id: newParticipantId(),
      room,
      connectedAt: now,
      lastMessageAt: now,
      identity,
      participant: null,
      gone: false,
      mediaKey: newMediaKey(),
      calls: null,
    };
    this.ctx.acceptWebSocket(server);
    writeState(server, state);
    this.#sessions.set(state.id, { ws: server, state });
    server.send(this.#snapshotFrame(state.id, room));
    this.#broadcast({ type: 'lobby-count', count: this.#lobbyCount() }, state.id);
    await this.#ensureSweep();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Who is here, for `GET /api/rooms/<name>`. */
  summary(room: string) {
    const latest = this.#meetings.latest();
    return {
      room,
      participants: this.#joined().length,
      lobby: this.#lobbyCount(),
      meeting: this.#meeting ? { id: this.#meeting.id, startedAt: this.#meeting.startedAt } : null,
      lastMeeting: latest,
      awakeSince: this.#awakeSince,
    };
  }

  /**
   * A media API request (`src/protocol/media.ts`), already routed by the
   * Worker. Only a joined participant holding its connection's media key may
   * act, and only on its own Calls session.
   */
  async media(
    operation: media.MediaOperation,
    participantId: string,
    key: string,
    body: unknown,
  ): Promise<MediaReply> {
    const calls = callsClientFor(this.env);
    if (!calls) {
      return mediaErrorReply(
        new MediaApiError(
          503,
          'media-unavailable',
          'Video is not set up on this server (CALLS_APP_ID, CALLS_APP_SECRET).',
        ),
      );
    }
    const session = this.#sessions.get(participantId);
    if (!session || !constantTimeEqual(session.state.mediaKey, key)) {
      return mediaErrorReply(
        new MediaApiError(401, 'unauthorized', 'Not connected to this room: reconnect and try again'),
      );
    }
    const self = session.state.participant;
    if (!self) return mediaErrorReply(new MediaApiError(403, 'not-joined', 'Join the meeting first'));
    try {
      return await handleMediaOperation(operation, body, {
        env: this.env,
        calls,
        self,
        binding: session.state.calls,
        participants: this.#joined(),
        bind: (binding) => {
          session.state.calls = binding;
          writeState(session.ws, session.state);
        },
      });
    } catch (error) {
      return mediaErrorReply(error);
    }
  }

  override webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): void {
    const session = this.#sessionOf(ws);
    if (!session) return;
    const { state } = session;
    const now = Date.now();
    const abuse = this.#abuseOf(state.id, now);

    if (!abuse.bucket.take(now)) {
      abuse.dropped += 1;
      if (abuse.dropped >= MAX_DROPPED) return this.#expel(session, CLOSE_POLICY, 'Too many messages');
      if (now - abuse.lastRateErrorAt >= 1_000) {
        abuse.lastRateErrorAt = now;
        this.#sendError(ws, 'rate-limited', 'Too many messages: slow down');
      }
      return;
    }
    if (typeof frame !== 'string') {
      if (++abuse.invalid >= MAX_INVALID)
        return this.#expel(session, CLOSE_POLICY, 'Too many invalid messages');
      return this.#sendError(ws, 'binary-not-supported', 'Binary frames are not supported: send JSON text');
    }
    // Length in UTF-16 units is at most the UTF-8 size, so only count bytes when close.
    if (
      frame.length > MAX_FRAME_BYTES ||
      (frame.length * 3 > MAX_FRAME_BYTES && byteLength(frame) > MAX_FRAME_BYTES)
    ) {
      if (++abuse.oversized >= MAX_OVERSIZED)
        return this.#expel(session, CLOSE_TOO_BIG, 'Messages too large');
      return this.#sendError(ws, 'too-large', `Messages must be at most ${MAX_FRAME_BYTES} bytes`);
    }

    state.lastMessageAt = now;
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) {
      if (++abuse.invalid >= MAX_INVALID)
        return this.#expel(session, CLOSE_POLICY, 'Too many invalid messages');
      return this.#sendError(ws, 'invalid-message', parsed.reason, parsed.type);
    }
    try {
      this.#handle(session, parsed.message, now);
    } catch (error) {
      console.error('room: message handler failed', error);
      this.#sendError(
        ws,
        'internal',
        'Something went wrong in the room; please try again',
        parsed.message.type,
      );
    }
    // Handlers that close this socket (end-meeting, expel) have written its last state.
    if (!state.gone) writeState(ws, state);
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    const session = this.#sessionOf(ws);
    // Sockets the room closed itself (end, expel) are already gone from it.
    if (!session) return;
    this.#depart(session, 'disconnected');
    // Complete the closing handshake. 1005 (no code) and 1006 (no close frame)
    // may not be sent back, so those get a plain 1000.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, 'Goodbye');
    } catch {
      // Already closed by the runtime.
    }
  }

  override webSocketError(ws: WebSocket): void {
    const session = this.#sessionOf(ws);
    if (session) this.#depart(session, 'disconnected');
  }

  /** Removes connections that went quiet (half-open TCP, a suspended laptop). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const timeout = numberVar(this.env.HEARTBEAT_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS);
    for (const session of [...this.#sessions.values()]) {
      const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(session.ws)?.getTime() ?? 0;
      const lastHeard = Math.max(session.state.lastMessageAt, pingedAt);
      if (now - lastHeard > timeout) this.#expel(session, CLOSE_TIMED_OUT, 'No heartbeat', 'timed-out');
    }
    if (this.#sessions.size > 0) {
      await this.ctx.storage.setAlarm(now + numberVar(this.env.SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS));
    }
  }

  #handle(session: Session, message: ClientMessage, now: number): void {
    const { ws, state } = session;
    switch (message.type) {
      case 'ping':
        // A ping that did not match the auto-response byte for byte.
        ws.send(PONG_FRAME);
        return;
      case 'join':
        return this.#join(session, message, now);
      case 'direct-message':
        return this.#directMessage(session, message);
    }
    const self = state.participant;
    if (!self) return this.#sendError(ws, 'not-joined', 'Join the meeting first', message.type);
    switch (message.type) {
      case 'update':
        return this.#update(session, self, message.changes);
      case 'leave':
        return this.#depart(session, 'left');
      case 'mute-participant': {
        if (self.role !== 'host')
          return this.#sendError(ws, 'forbidden', 'Only a host can mute others', message.type);
        const target = this.#sessions.get(message.id)?.state.participant;
        if (!target) return this.#sendError(ws, 'unknown-participant', 'No such participant', message.type);
        target.microphone = false;
        writeState(this.#sessions.get(message.id)!.ws, this.#sessions.get(message.id)!.state);
        return this.#broadcastChange({ type: 'participant-muted', id: target.id, by: self.id });
      }
      case 'end-meeting':
        if (self.role !== 'host') {
          return this.#sendError(ws, 'forbidden', 'Only a host can end the meeting', message.type);
        }
        return this.#endMeeting(self.id);
    }
  }

  #join(session: Session, message: ClientMessageOf<'join'>, now: number): void {
    const { ws, state } = session;
    if (state.participant) return this.#sendError(ws, 'already-joined', 'Already in the meeting', 'join');
    let name = state.identity?.name;
    if (name === undefined) {
      const checked = displayName.safeParse(message.name);
      if (!checked.success) {
        return this.#sendError(
          ws,
          'invalid-name',
          checked.error.issues[0]?.message ?? 'Invalid name',
          'join',
        );
      }
      name = checked.data;
    }
    const role = state.identity?.role ?? (this.#joined().some((p) => p.role === 'host') ? 'guest' : 'host');
    const participant: Participant = {
      id: state.id,
      name,
      role,
      joinedAt: now,
      microphone: message.state?.microphone ?? false,
      camera: message.state?.camera ?? false,
      handRaised: message.state?.handRaised ?? false,
      // Tracks announced at join must already be in this connection's own session.
      tracks: ownTracks(message.state?.tracks, state) ? (message.state?.tracks ?? {}) : {},
    };
    state.participant = participant;
    writeState(ws, state);

    const count = this.#joined().length;
    if (!this.#meeting) {
      this.#meeting = this.#meetings.start(crypto.randomUUID(), now, count);
      this.#broadcast({ type: 'meeting-started', meeting: { id: this.#meeting.id, startedAt: now } });
    } else {
      this.#meetings.raisePeak(this.#meeting, count);
    }
    this.#broadcastChange({ type: 'participant-joined', participant });
    this.#broadcast({ type: 'lobby-count', count: this.#lobbyCount() });
  }

  #update(session: Session, self: Participant, changes: Partial<ParticipantState>): void {
    const changed: Partial<ParticipantState> = {};
    for (const key of ['microphone', 'camera', 'handRaised'] as const) {
      const value = changes[key];
      if (value !== undefined && value !== self[key]) changed[key] = self[key] = value;
    }
    if (changes.tracks && !ownTracks(changes.tracks, session.state)) {
      return this.#sendError(
        session.ws,
        'invalid-tracks',
        'Tracks must be in your own media session',
        'update',
      );
    }
    if (changes.tracks && JSON.stringify(changes.tracks) !== JSON.stringify(self.tracks)) {
      changed.tracks = self.tracks = changes.tracks;
    }
    if (Object.keys(changed).length === 0) return;
    writeState(session.ws, session.state);
    this.#broadcastChange({ type: 'participant-updated', id: self.id, changes: changed });
  }

  #directMessage(session: Session, message: ClientMessageOf<'direct-message'>): void {
    const target = this.#sessions.get(message.to);
    if (!target || target.state.gone) {
      return this.#sendError(session.ws, 'unknown-participant', 'No such participant', message.type);
    }
    target.ws.send(
      JSON.stringify({
        type: 'direct-message',
        from: session.state.id,
        message: message.message,
      } satisfies ServerMessage),
    );
  }

  /** A participant leaves (to the lobby, or with their connection). */
  #depart(session: Session, reason: LeaveReason): void {
    const { state } = session;
    const participant = state.participant;
    state.participant = null;
    // What they published goes with them, even if their browser vanished.
    const calls = state.calls && callsClientFor(this.env);
    if (calls && state.calls) this.ctx.waitUntil(closeAll(calls, state.calls));
    state.calls = null;
    if (reason !== 'left') {
      state.gone = true;
      this.#sessions.delete(state.id);
      this.#abuse.delete(state.id);
    }
    try {
      writeState(session.ws, state);
    } catch {
      // The socket is already gone; its attachment no longer matters.
    }
    if (participant) {
      this.#broadcastChange({ type: 'participant-left', id: participant.id, reason });
      const joined = this.#joined();
      if (joined.length === 0) {
        this.#finishMeeting();
      } else if (
        participant.role === 'host' &&
        !this.env.JOIN_SECRET &&
        !joined.some((p) => p.role === 'host')
      ) {
        this.#handOverHost(joined);
      }
    }
    this.#broadcast({ type: 'lobby-count', count: this.#lobbyCount() });
  }

  /** Open rooms always have a host: the longest-present participant takes over. */
  #handOverHost(joined: Participant[]): void {
    const next = joined.reduce((a, b) => (b.joinedAt < a.joinedAt ? b : a));
    next.role = 'host';
    const session = this.#sessions.get(next.id)!;
    writeState(session.ws, session.state);
    this.#broadcastChange({ type: 'participant-updated', id: next.id, changes: { role: 'host' } });
  }

  #finishMeeting(by?: string): void {
    if (!this.#meeting) return;
    const { id } = this.#meeting;
    this.#meetings.end(this.#meeting, Date.now());
    this.#meeting = null;
    this.#broadcast(by ? { type: 'meeting-ended', id, by } : { type: 'meeting-ended', id });
  }

  /** A host ended the meeting for everyone: say so, then close every connection. */
  #endMeeting(by: string): void {
    this.#finishMeeting(by);
    for (const session of [...this.#sessions.values()]) {
      session.state.participant = null;
      session.state.gone = true;
      this.#sessions.delete(session.state.id);
      try {
        writeState(session.ws, session.state);
        session.ws.close(1000, 'Meeting ended');
      } catch {
        // Already closing.
      }
    }
    this.#abuse.clear();
  }

  /** Closes a connection on the room's initiative (abuse, silence). */
  #expel(session: Session, code: number, reason: string, leaveReason: LeaveReason = 'disconnected'): void {
    this.#depart(session, leaveReason);
    try {
      session.ws.close(code, reason);
    } catch {
      // Already closed.
    }
  }

  /**
   * Sends a change to everyone. The delta is serialized once. In the
   * benchmark-only `snapshot` mode everyone gets the whole room instead,
   * which is what Orange does and what our deltas are measured against.
   */
  #broadcastChange(delta: ServerMessage): void {
    if (this.env.BROADCAST_MODE !== 'snapshot') return this.#broadcast(delta);
    const room = this.#sessions.values().next().value?.state.room ?? '';
    for (const { ws, state } of this.#sessions.values()) ws.send(this.#snapshotFrame(state.id, room));
  }

  #broadcast(message: ServerMessage, exceptId?: string): void {
    const frame = JSON.stringify(message);
    for (const { ws, state } of this.#sessions.values()) {
      if (state.id === exceptId) continue;
      try {
        ws.send(frame);
      } catch {
        // A socket closing right now; its close handler tidies up.
      }
    }
  }

  #snapshotFrame(selfId: string, room: string): string {
    const mediaKey = this.#sessions.get(selfId)?.state.mediaKey;
    return JSON.stringify({
      type: 'snapshot',
      protocol: PROTOCOL_VERSION,
      selfId,
      room,
      participants: this.#joined(),
      lobby: this.#lobbyCount(),
      meeting: this.#meeting ? { id: this.#meeting.id, startedAt: this.#meeting.startedAt } : null,
      ...(mediaKey ? { mediaKey } : {}),
    } satisfies ServerMessage);
  }

  #sendError(ws: WebSocket, code: ErrorCode, message: string, cause?: string): void {
    ws.send(
      JSON.stringify({ type: 'error', code, message, ...(cause ? { cause } : {}) } satisfies ServerMessage),
    );
  }

  #sessionOf(ws: WebSocket): Session | undefined {
    const id = readState(ws)?.id;
    return id === undefined ? undefined : this.#sessions.get(id);
  }

  #abuseOf(id: string, now: number): Abuse {
    let abuse = this.#abuse.get(id);
    if (!abuse) {
      abuse = {
        bucket: new TokenBucket(RATE_BURST, RATE_PER_SECOND, now),
        dropped: 0,
        oversized: 0,
        invalid: 0,
        lastRateErrorAt: 0,
      };
      this.#abuse.set(id, abuse);
    }
    return abuse;
  }

  /** Joined participants, in join order. */
  #joined(): Participant[] {
    const joined: Participant[] = [];
    for (const { state } of this.#sessions.values()) if (state.participant) joined.push(state.participant);
    return joined.sort((a, b) => a.joinedAt - b.joinedAt);
  }

  #lobbyCount(): number {
    let count = 0;
    for (const { state } of this.#sessions.values()) if (!state.participant) count += 1;
    return count;
  }

  async #ensureSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + numberVar(this.env.SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS));
    }
  }
}

/** Accepts the socket only to say why it cannot stay, then closes it (1008). */
function refuse(client: WebSocket, server: WebSocket, code: ErrorCode, message: string): Response {
  server.accept();
  server.send(JSON.stringify({ type: 'error', code, message } satisfies ServerMessage));
  server.close(CLOSE_POLICY, message.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}

/** True when every announced track is in this connection's own Calls session. */
function ownTracks(tracks: ParticipantState['tracks'] | undefined, state: ConnectionState): boolean {
  const refs = Object.values(tracks ?? {});
  if (refs.length === 0) return true;
  const own = state.calls ? `${state.calls.sessionId}/` : null;
  return own !== null && refs.every((ref) => ref.startsWith(own));
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;

function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}
