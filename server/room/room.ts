import { DurableObject } from 'cloudflare:workers';
import {
  displayName,
  MAX_FRAME_BYTES,
  MODERATION_CHANGES,
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
  type feedback,
  type media,
} from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import { aiConfig } from './ai-config.js';
import { AiSeat, type AiRefusal } from './ai-seat.js';
import { Broadcaster, type Broadcast, type BroadcastTarget } from './broadcaster.js';
import {
  Connections,
  constantTimeEqual,
  digestOf,
  newKey,
  newParticipantId,
  type Connection,
  type ConnectionState,
} from './connections.js';
import { ROOM_NAME_HEADER } from './forwarded.js';
import { checkHandshake, CLOSE_POLICY, refuse, removedMessage } from './handshake.js';
import {
  forbiddenMessage,
  mayModerate,
  nextHost,
  roleForJoin,
  TARGETED_ACTIONS,
  targetRefusal,
  type TargetedAction,
} from './host-rules.js';
import { roomLimits, type RoomLimits } from './limits.js';
import { MediaGate } from './media-gate.js';
import { callsClientFor, type MediaReply } from './media-gateway.js';
import { MeetingStore, type MeetingRecord } from './meeting-store.js';
import { Removals } from './removals.js';
import { Roster, type Member } from './roster.js';
import { RoomServices, type FeedbackReply, type MeetingHistory } from './services.js';
import type { Settlement } from '../services/deliveries.js';

export { ROOM_NAME_HEADER };

/** Close codes: 1009 too big, 4408 heartbeat timeout, 4409 replaced by a resumed connection. */
const CLOSE_TOO_BIG = 1009;
const CLOSE_TIMED_OUT = 4408;
const CLOSE_REPLACED = 4409;
/**
 * A socket closed with a close frame saying one of these said goodbye (a
 * closed tab sends 1001, `close()` 1000 or no code, 1005): its participant
 * leaves at once. A connection that just stops (1006, errors, silence) or a
 * client reconnecting on purpose (4000–4999) keeps its participant's place.
 */
const GOODBYE_CODES = new Set([1000, 1001, 1005]);
/** How long after a meeting ended someone whose connection closed may still rate it. */
const LATE_FEEDBACK_MS = 3600 * 1000;

/**
 * One meeting room: connections and their limits, the handshake (with
 * resume), host rules, the media gate, and the meeting record. Participants
 * whose connection drops keep their place for a grace period; a restart of
 * the Worker continues the same meeting.
 */
export class Room extends DurableObject<Env> {
  readonly #limits: RoomLimits;
  readonly #connections: Connections;
  readonly #roster: Roster;
  readonly #removals: Removals;
  readonly #meetings: MeetingStore;
  readonly #broadcast: Broadcast;
  readonly #media: MediaGate;
  readonly #ai: AiSeat;
  /** Webhook events, feedback and the meeting history. */
  readonly #services: RoomServices;
  /** Work the current event started (the AI's joining, say), awaited before the event ends. */
  readonly #started: Promise<unknown>[] = [];
  #meeting: MeetingRecord | null;
  #name: string;
  /** When the alarm is set for, as far as this instance knows (undefined: not read yet). */
  #alarmAt: number | null | undefined;
  /** When this instance was built: after hibernation or a restart it is a new one. */
  readonly #awakeSince = Date.now();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Heartbeats are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    this.#name = ctx.id.name ?? '';
    this.#limits = roomLimits(env);
    this.#connections = new Connections(ctx.getWebSockets());
    this.#roster = new Roster(ctx.storage);
    this.#roster.load();
    this.#removals = new Removals(ctx.storage.sql);
    this.#removals.load();
    this.#meetings = new MeetingStore(ctx.storage.sql);
    this.#name ||= this.#meetings.roomName() ?? '';
    this.#meeting = this.#meetings.current();
    this.#services = new RoomServices(
      env,
      ctx.storage.sql,
      this.#meetings,
      () => this.#name,
      (work) => ctx.waitUntil(work),
      () => void this.#scheduleAlarm(Date.now()),
    );
    this.#broadcast = this.createBroadcast(this.#broadcastTarget());
    this.#media = new MediaGate(
      env,
      this.#limits,
      this.#connections,
      this.#roster,
      (work) => ctx.waitUntil(work),
      () => this.#ai.participants(),
    );
    this.#ai = new AiSeat(
      aiConfig(env),
      callsClientFor(env),
      ctx.storage,
      {
        broadcast: this.#broadcast,
        tell: (id, code, message, cause) => {
          const connection = this.#connections.get(id);
          if (connection) sendError(connection.ws, code, message, cause);
        },
        background: (work) => {
          this.#started.push(work);
          ctx.waitUntil(work);
        },
        deadlineChanged: () => void this.#scheduleAlarm(Date.now()),
      },
      () => this.#name,
    );

    // Members with no socket lost it while the object was gone (a restart, a
    // crash): they are reconnecting from now, and the meeting goes on.
    const now = Date.now();
    for (const member of this.#roster.members()) {
      if (member.disconnectedAt !== null || this.#connections.get(member.participant.id)) continue;
      this.#markDropped(member, 'disconnected', now);
    }
    this.#ai.load(this.#roster.size);
    if (this.#meeting && this.#roster.size === 0) {
      this.#meetings.end(this.#meeting, now);
      this.#services.meetingEnded(this.#meeting);
      this.#meeting = null;
    }
    if (this.#roster.size > 0 || this.#services.outboxAlarmAt(now) !== null)
      void ctx.blockConcurrencyWhile(() => this.#scheduleAlarm(now));
  }

  /**
   * How the room reaches everyone. The benchmark's whole-room baseline
   * overrides this; production always uses the budgeted delta broadcaster.
   */
  protected createBroadcast(target: BroadcastTarget): Broadcast {
    return new Broadcaster(target, this.#limits);
  }

  /** A WebSocket upgrade for this room, already checked by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    this.#name ||= request.headers.get(ROOM_NAME_HEADER) ?? '';
    const now = Date.now();
    this.#sweep(now);
    const handshake = await checkHandshake(request, {
      secured: !!this.env.JOIN_SECRET,
      connections: this.#connections,
      roster: this.#roster,
      removals: this.#removals,
      limits: this.#limits,
    });
    if (!handshake.ok) return refuse(handshake.code, handshake.message);

    const mediaKey = newKey();
    const resumeKey = newKey();
    const [resumeDigest, mediaDigest] = await Promise.all([digestOf(resumeKey), digestOf(mediaKey)]);
    // Checked again: the member may have left while the digest was computed.
    const member = handshake.resumes ? this.#roster.get(handshake.resumes) : undefined;
    const id = member?.participant.id ?? newParticipantId();
    const replaced = member ? this.#connections.get(id) : undefined;
    if (replaced) {
      // The same participant on a new connection: the old one (often half-open) is done.
      this.#forgetConnection(replaced);
      closeQuietly(replaced.ws, CLOSE_REPLACED, 'Resumed on another connection');
    }

    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const state: ConnectionState = {
      id,
      connectedAt: now,
      lastMessageAt: now,
      identity: handshake.identity,
      tokenDigest: handshake.tokenDigest,
      tokenExpiresAt: handshake.tokenExpiresAt,
      address: handshake.address,
      mediaKey,
      mediaDigest,
      resumeDigest,
      joined: !!member,
      meeting: member && this.#meeting ? { id: this.#meeting.id, name: member.participant.name } : null,
      gone: false,
    };
    this.ctx.acceptWebSocket(server);
    this.#connections.add(server, state);
    if (member) {
      const wasReconnecting = member.participant.reconnecting === true;
      member.resumeDigest = resumeDigest;
      member.disconnectedAt = null;
      member.dropReason = null;
      delete member.participant.reconnecting;
      this.#roster.save(member);
      // Their feedback after the meeting comes with the key of this connection now.
      if (this.#meeting) this.#meetings.rekey(this.#meeting, id, mediaDigest);
      server.send(this.#snapshotFrame(state, resumeKey, true));
      if (wasReconnecting) this.#broadcast.participantChanged(id, { reconnecting: false }, true);
    } else {
      server.send(this.#snapshotFrame(state, resumeKey, false));
      this.#broadcast.lobbyChanged();
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Who is here, for `GET /api/rooms/<name>`. */
  summary() {
    const participants = this.#roster.participants();
    return {
      room: this.#name,
      participants: participants.length,
      reconnecting: participants.filter((p) => p.reconnecting).length,
      lobby: this.#connections.lobbyCount(),
      meeting: this.#meeting ? { id: this.#meeting.id, startedAt: this.#meeting.startedAt } : null,
      lastMeeting: this.#meetings.latest(),
      awakeSince: this.#awakeSince,
    };
  }

  /**
   * A rating or problem report (`src/protocol/feedback.ts`), already parsed
   * by the Worker, from the connection whose media key it carries, or from
   * one that took part in a meeting and has closed since (a host ended the
   * meeting, the page went): that meeting's key still proves who it is, for
   * `LATE_FEEDBACK_MS` after the meeting ended.
   */
  async feedback(
    participantId: string,
    key: string,
    request: feedback.FeedbackRequest,
  ): Promise<FeedbackReply> {
    const now = Date.now();
    const connection = this.#connections.get(participantId);
    if (connection && constantTimeEqual(connection.state.mediaKey, key)) {
      const quota = this.#connections.abuseOf(participantId, now, this.#limits.messages).feedback;
      const taken = quota.take(now);
      const { state } = connection;
      const sender = { id: state.id, meeting: state.meeting ?? null, name: state.identity?.name ?? null };
      return this.#services.takeFeedback(sender, request, taken, taken ? 0 : quota.waitFor(now));
    }
    const past = this.#meetings.lastParticipation(participantId);
    const recent = past && (past.meeting.endedAt === null || now - past.meeting.endedAt <= LATE_FEEDBACK_MS);
    if (!recent || !constantTimeEqual(past.keyDigest, await digestOf(key))) {
      return {
        status: 401,
        body: {
          error: { code: 'unauthorized', message: 'Not connected to this room: reconnect and try again' },
        },
      };
    }
    const quota = this.#services.lateQuota(participantId, now, this.#limits.messages);
    const taken = quota.take(now);
    const sender = { id: participantId, meeting: { id: past.meeting.id, name: past.name }, name: past.name };
    return this.#services.takeFeedback(sender, request, taken, taken ? 0 : quota.waitFor(now));
  }

  /** The meeting history (`GET /api/rooms/<name>/meetings`), newest first. */
  history(limit: number, before: number | null): MeetingHistory {
    return this.#services.history(limit, before);
  }

  /** The delivery queue settled some of this room's messages (delivered, or given up on). */
  settled(settlements: { id: string; settlement: Settlement }[]): void {
    this.#services.settled(settlements);
  }

  /** A media API request (`src/protocol/media.ts`), already routed by the Worker. */
  media(
    operation: media.MediaOperation,
    participantId: string,
    key: string,
    body: unknown,
  ): Promise<MediaReply> {
    return this.#media.handle(operation, participantId, key, body);
  }

  override async webSocketMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    this.#onMessage(ws, frame);
    // Sends on the room's sockets made after the event that asked for them ended would be lost.
    while (this.#started.length > 0) await Promise.allSettled(this.#started.splice(0));
  }

  #onMessage(ws: WebSocket, frame: string | ArrayBuffer): void {
    const connection = this.#connections.of(ws);
    if (!connection) return;
    const { state } = connection;
    const now = Date.now();
    const limits = this.#limits;
    const abuse = this.#connections.abuseOf(state.id, now, limits.messages);

    if (!abuse.messages.take(now)) {
      abuse.dropped += 1;
      if (abuse.dropped >= limits.maxDropped)
        return this.#expel(connection, CLOSE_POLICY, 'Too many messages');
      if (now - abuse.lastRateErrorAt >= 1_000) {
        abuse.lastRateErrorAt = now;
        sendError(ws, 'rate-limited', 'Too many messages: slow down');
      }
      return;
    }
    if (typeof frame !== 'string') {
      if (++abuse.invalid >= limits.maxInvalid)
        return this.#expel(connection, CLOSE_POLICY, 'Too many invalid messages');
      return sendError(ws, 'binary-not-supported', 'Binary frames are not supported: send JSON text');
    }
    // Length in UTF-16 units is at most the UTF-8 size, so only count bytes when close.
    if (
      frame.length > MAX_FRAME_BYTES ||
      (frame.length * 3 > MAX_FRAME_BYTES && byteLength(frame) > MAX_FRAME_BYTES)
    ) {
      if (++abuse.oversized >= limits.maxOversized)
        return this.#expel(connection, CLOSE_TOO_BIG, 'Messages too large');
      return sendError(ws, 'too-large', `Messages must be at most ${MAX_FRAME_BYTES} bytes`);
    }

    state.lastMessageAt = now;
    const parsed = parseClientMessage(frame);
    if (!parsed.ok) {
      if (++abuse.invalid >= limits.maxInvalid)
        return this.#expel(connection, CLOSE_POLICY, 'Too many invalid messages');
      return sendError(ws, 'invalid-message', parsed.reason, parsed.type);
    }
    try {
      this.#handle(connection, parsed.message, now);
    } catch (error) {
      console.error('room: message handler failed', error);
      sendError(ws, 'internal', 'Something went wrong in the room; please try again', parsed.message.type);
    }
    if (!state.gone) this.#connections.save(connection);
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    const connection = this.#connections.of(ws);
    // Sockets the room closed itself (end, expel, replaced) are already gone from it.
    if (connection) this.#lost(connection, GOODBYE_CODES.has(code) ? 'goodbye' : 'dropped');
    // Complete the closing handshake. 1005 (no code) and 1006 (no close frame)
    // may not be sent back, so those get a plain 1000.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, 'Goodbye');
  }

  override webSocketError(ws: WebSocket): void {
    const connection = this.#connections.of(ws);
    if (connection) this.#lost(connection, 'dropped');
  }

  /** Times out silent connections and ends the wait for participants who did not come back. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    this.#sweep(now);
    for (const member of [...this.#roster.members()]) {
      if (member.disconnectedAt !== null && now - member.disconnectedAt >= this.#limits.resumeGraceMs) {
        this.#depart(member, member.dropReason ?? 'disconnected', member.disconnectedAt);
      }
    }
    this.#ai.tick(now);
    this.#services.pump(now);
    await this.#scheduleAlarm(now);
    while (this.#started.length > 0) await Promise.allSettled(this.#started.splice(0));
  }

  #handle(connection: Connection, message: ClientMessage, now: number): void {
    const { ws, state } = connection;
    switch (message.type) {
      case 'ping':
        // A ping that did not match the auto-response byte for byte.
        ws.send(PONG_FRAME);
        return;
      case 'join':
        return this.#join(connection, message, now);
      case 'direct-message':
        return this.#directMessage(connection, message);
    }
    const member = state.joined ? this.#roster.get(state.id) : undefined;
    if (!member) return sendError(ws, 'not-joined', 'Join the meeting first', message.type);
    switch (message.type) {
      case 'update':
        return this.#update(connection, member, message.changes);
      case 'leave':
        return this.#depart(member, 'left', now);
      case 'mute-participant':
      case 'turn-camera-off':
      case 'lower-hand':
      case 'make-host':
      case 'remove-participant':
        return this.#moderate(ws, member, message.type, message.id, now);
      case 'end-meeting':
        if (!mayModerate(member.participant, message.type))
          return sendError(ws, 'forbidden', forbiddenMessage[message.type], message.type);
        return this.#endMeeting(state.id, now);
      case 'ai-invite':
        return refuseWith(ws, message.type, this.#ai.invite(member.participant, now));
      case 'ai-remove':
        return refuseWith(ws, message.type, this.#ai.removeBy(member.participant));
      case 'ai-talk':
        return refuseWith(ws, message.type, this.#ai.talk(member.participant, message.on, now));
    }
  }

  #join(connection: Connection, message: ClientMessageOf<'join'>, now: number): void {
    const { ws, state } = connection;
    if (state.joined) return sendError(ws, 'already-joined', 'Already in the meeting', 'join');
    // Opened with the token while its holder was being removed: it is out too.
    const removal = state.tokenDigest ? this.#removals.ofToken(state.tokenDigest, now) : null;
    if (removal) return this.#shutOut(connection, removedMessage(removal.byName, true));
    let name = state.identity?.name;
    if (name === undefined) {
      const checked = displayName.safeParse(message.name);
      if (!checked.success) {
        return sendError(ws, 'invalid-name', checked.error.issues[0]?.message ?? 'Invalid name', 'join');
      }
      name = checked.data;
    }
    // Every join and leave goes to everyone: joining over and over is a flood of its own.
    if (!this.#connections.abuseOf(state.id, now, this.#limits.messages).joins.take(now))
      return sendError(ws, 'rate-limited', 'Joining again so soon is not allowed: wait a moment', 'join');
    // The session prepared in the lobby is theirs now, and so is what it publishes: announced
    // with the join, others can pull it at once. Tracks of another session are left out (the
    // page announces its own once it has them).
    const calls = this.#media.carryOver(state);
    const tracks = message.state?.tracks ?? {};
    const member: Member = {
      participant: {
        id: state.id,
        name,
        role: roleForJoin(state.identity?.role, this.#roster.participants()),
        joinedAt: now,
        ...(state.identity?.picture !== undefined && { picture: state.identity.picture }),
        microphone: message.state?.microphone ?? false,
        camera: message.state?.camera ?? false,
        handRaised: message.state?.handRaised ?? false,
        tracks: inSession(tracks, calls) ? tracks : {},
      },
      calls,
      resumeDigest: state.resumeDigest,
      disconnectedAt: null,
      dropReason: null,
      token:
        state.tokenDigest && state.tokenExpiresAt !== null
          ? { digest: state.tokenDigest, expiresAt: state.tokenExpiresAt }
          : null,
    };
    this.#roster.add(member);
    state.joined = true;

    const count = this.#roster.size;
    if (!this.#meeting) {
      this.#meeting = this.#meetings.start(crypto.randomUUID(), now, count, this.#name);
      this.#services.meetingStarted(this.#meeting);
      this.#broadcast.toAll({
        type: 'meeting-started',
        meeting: { id: this.#meeting.id, startedAt: now },
      });
    } else {
      this.#meetings.raisePeak(this.#meeting, count);
    }
    this.#services.joined(this.#meeting, member.participant, state.mediaDigest ?? '', now);
    state.meeting = { id: this.#meeting.id, name };
    this.#connections.save(connection);
    this.#broadcast.toAll({ type: 'participant-joined', participant: member.participant });
    this.#broadcast.lobbyChanged();
    void this.#scheduleAlarm(now);
  }

  /** Validates the whole change first, then applies all of it or none. */
  #update(connection: Connection, member: Member, changes: Partial<ParticipantState>): void {
    const self = member.participant;
    if (changes.tracks && !ownTracks(changes.tracks, member)) {
      return sendError(connection.ws, 'invalid-tracks', 'Tracks must be in your own media session', 'update');
    }
    const changed: Partial<ParticipantState> = {};
    for (const key of ['microphone', 'camera', 'handRaised'] as const) {
      const value = changes[key];
      if (value !== undefined && value !== self[key]) changed[key] = self[key] = value;
    }
    if (changes.tracks && JSON.stringify(changes.tracks) !== JSON.stringify(self.tracks)) {
      changed.tracks = self.tracks = changes.tracks;
    }
    if (Object.keys(changed).length === 0) return;
    this.#roster.save(member);
    this.#broadcast.participantChanged(self.id, changed);
  }

  /**
   * A host acts on someone else: checked whole (role, target) before
   * anything changes. A change that changes nothing is not announced.
   */
  #moderate(ws: WebSocket, host: Member, type: TargetedAction, id: string, now: number): void {
    if (!mayModerate(host.participant, type)) return sendError(ws, 'forbidden', forbiddenMessage[type], type);
    const target = this.#roster.get(id)?.participant ?? this.#ai.participants().find((p) => p.id === id);
    if (!target) return sendError(ws, 'unknown-participant', 'No such participant', type);
    const refusal = targetRefusal(type, host.participant, target);
    if (refusal) return sendError(ws, 'invalid-target', refusal, type);
    const member = this.#roster.get(id)!;
    const action = TARGETED_ACTIONS[type];
    if (action === 'remove') return this.#remove(member, host.participant, now);

    const changes: Partial<Participant> = MODERATION_CHANGES[action];
    if (Object.entries(changes).every(([key, value]) => target[key as keyof Participant] === value)) return;
    // What the target itself changed and still waits to go out goes first: the host's change is the last word.
    this.#broadcast.settle(id);
    Object.assign(target, changes);
    this.#roster.save(member);
    this.#broadcast.toAll({ type: 'participant-moderated', id, by: host.participant.id, action });
  }

  /**
   * A host removes someone: they leave (everyone hears who removed them),
   * their connection is closed, and the room remembers them so that their
   * page, and their join token if they had one, cannot come straight back.
   * Whoever else is in with the same token (another tab) goes with them.
   */
  #remove(member: Member, by: Participant, now: number): void {
    const token = member.token;
    const removed = token
      ? [...this.#roster.members()].filter((m) => m.token?.digest === token.digest)
      : [member];
    for (const { participant, resumeDigest } of removed)
      this.#removals.add({ id: participant.id, resumeDigest, token }, by.name, now);
    for (const m of removed) this.#depart(m, 'removed', now, by.id);
    const ids = new Set(removed.map((m) => m.participant.id));
    for (const connection of [...this.#connections.all()]) {
      if (ids.has(connection.state.id)) {
        // Told by the leave it just got; anything more would race its page closing the socket.
        this.#forgetConnection(connection);
        closeQuietly(connection.ws, CLOSE_POLICY, 'Removed from the meeting');
      } else if (token && connection.state.tokenDigest === token.digest) {
        this.#shutOut(connection, removedMessage(by.name, true));
      }
    }
    this.#broadcast.lobbyChanged();
  }

  /** The room is done with a connection: a lobby visitor's media session goes with it. */
  #forgetConnection(connection: Connection): void {
    this.#media.connectionGone(connection.state);
    this.#connections.remove(connection);
  }

  /** Tells a lobby connection that its holder was removed (fatal for its page), and closes it. */
  #shutOut(connection: Connection, message: string): void {
    sendError(connection.ws, 'removed', message);
    this.#forgetConnection(connection);
    closeQuietly(connection.ws, CLOSE_POLICY, 'Removed from the meeting');
    this.#broadcast.lobbyChanged();
  }

  #directMessage(connection: Connection, message: ClientMessageOf<'direct-message'>): void {
    const target = this.#connections.get(message.to);
    if (!target) {
      return sendError(connection.ws, 'unknown-participant', 'No such participant', message.type);
    }
    target.ws.send(
      JSON.stringify({
        type: 'direct-message',
        from: connection.state.id,
        message: message.message,
      } satisfies ServerMessage),
    );
  }

  /**
   * A socket is done. A participant who said goodbye leaves at once; one
   * whose connection dropped keeps their place for the grace period.
   */
  #lost(connection: Connection, how: 'goodbye' | 'dropped' | 'timed-out'): void {
    this.#forgetConnection(connection);
    const member = connection.state.joined ? this.#roster.get(connection.state.id) : undefined;
    if (!member) return this.#broadcast.lobbyChanged();
    if (how === 'goodbye') return this.#depart(member, 'disconnected', Date.now());
    const now = Date.now();
    this.#markDropped(member, how === 'timed-out' ? 'timed-out' : 'disconnected', now);
    this.#ai.humanGone(member.participant.id, now);
    this.#broadcast.participantChanged(member.participant.id, { reconnecting: true }, true);
    void this.#scheduleAlarm(now);
  }

  #markDropped(member: Member, reason: Member['dropReason'], now: number): void {
    member.disconnectedAt = now;
    member.dropReason = reason;
    member.participant.reconnecting = true;
    this.#roster.save(member);
  }

  /** A participant leaves the meeting for good (to the lobby, or gone); `by` the host who removed them. */
  #depart(member: Member, reason: LeaveReason, at: number, by?: string): void {
    const { participant } = member;
    this.#roster.remove(participant.id);
    this.#broadcast.forget(participant.id);
    this.#media.forget(participant.id);
    // What they published and pulled goes with them, even if their browser vanished.
    this.#media.release(member.calls);
    const connection = this.#connections.get(participant.id);
    if (connection) {
      connection.state.joined = false;
      this.#connections.save(connection);
    }
    this.#broadcast.toAll({ type: 'participant-left', id: participant.id, reason, ...(by ? { by } : {}) });
    this.#services.left(this.#meeting, participant, reason, at);
    this.#ai.humanGone(participant.id, at);
    const remaining = this.#roster.participants();
    if (remaining.length === 0) {
      // The AI does not stay (and cost) with nobody to talk to.
      this.#ai.remove('left');
      this.#finishMeeting(at);
    } else {
      const host = nextHost(participant, remaining, !!this.env.JOIN_SECRET);
      if (host) {
        const next = this.#roster.get(host.id)!;
        next.participant.role = 'host';
        this.#roster.save(next);
        this.#broadcast.participantChanged(host.id, { role: 'host' }, true);
      }
    }
    this.#broadcast.lobbyChanged();
  }

  #finishMeeting(at: number, by?: string): void {
    if (!this.#meeting) return;
    const { id } = this.#meeting;
    this.#meetings.end(this.#meeting, at);
    this.#services.meetingEnded(this.#meeting);
    this.#meeting = null;
    this.#broadcast.toAll(by ? { type: 'meeting-ended', id, by } : { type: 'meeting-ended', id });
  }

  /** A host ended the meeting for everyone: say so, then close every connection. */
  #endMeeting(by: string, now: number): void {
    this.#broadcast.flush();
    for (const { participant } of this.#roster.members())
      this.#services.left(this.#meeting, participant, 'meeting-ended', now);
    this.#finishMeeting(now, by);
    this.#ai.remove('meeting-ended', false);
    for (const member of this.#roster.members()) this.#media.release(member.calls);
    this.#roster.clear();
    for (const connection of [...this.#connections.all()]) {
      this.#forgetConnection(connection);
      closeQuietly(connection.ws, 1000, 'Meeting ended');
    }
  }

  /** Closes a connection on the room's initiative (abuse): its participant leaves at once. */
  #expel(connection: Connection, code: number, reason: string): void {
    this.#lost(connection, 'goodbye');
    closeQuietly(connection.ws, code, reason);
  }

  /** Connections silent for longer than the heartbeat timeout are treated as dropped. */
  #sweep(now: number): void {
    for (const connection of [...this.#connections.all()]) {
      const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(connection.ws)?.getTime() ?? 0;
      const lastHeard = Math.max(connection.state.lastMessageAt, pingedAt);
      if (now - lastHeard <= this.#limits.heartbeatTimeoutMs) continue;
      this.#lost(connection, 'timed-out');
      closeQuietly(connection.ws, CLOSE_TIMED_OUT, 'No heartbeat');
    }
  }

  /**
   * One alarm, while a meeting is on: the next sweep, or the end of someone's
   * grace period if sooner; and while the outbox holds messages, when one is
   * due to be handed to the delivery queue again. Rooms with only a lobby set none
   * (nothing is stored for them); their silent sockets are swept when someone
   * else connects.
   */
  async #scheduleAlarm(now: number): Promise<void> {
    const outboxAt = this.#services.outboxAlarmAt(now);
    if (this.#roster.size === 0 && outboxAt === null) return;
    let wanted = Math.min(
      this.#roster.size > 0 ? now + this.#limits.sweepIntervalMs : Infinity,
      outboxAt ?? Infinity,
    );
    const aiDeadline = this.#ai.deadline();
    if (aiDeadline !== null) wanted = Math.min(wanted, aiDeadline);
    for (const member of this.#roster.members()) {
      if (member.disconnectedAt !== null)
        wanted = Math.min(wanted, member.disconnectedAt + this.#limits.resumeGraceMs);
    }
    this.#alarmAt ??= await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= wanted) return;
    this.#alarmAt = wanted;
    await this.ctx.storage.setAlarm(wanted);
  }

  #snapshotFrame(state: ConnectionState, resumeKey: string | null, resumed: boolean): string {
    return JSON.stringify({
      type: 'snapshot',
      protocol: PROTOCOL_VERSION,
      selfId: state.id,
      room: this.#name,
      participants: [...this.#roster.participants(), ...this.#ai.participants()],
      lobby: this.#connections.lobbyCount(),
      meeting: this.#meeting ? { id: this.#meeting.id, startedAt: this.#meeting.startedAt } : null,
      ai: { available: this.#ai.available, talker: this.#ai.talker, manage: this.#ai.manage },
      mediaKey: state.mediaKey,
      ...(resumeKey ? { resumeKey } : {}),
      ...(resumed ? { resumed } : {}),
    } satisfies ServerMessage);
  }

  #broadcastTarget(): BroadcastTarget {
    const connections = this.#connections;
    return {
      *recipients() {
        for (const { ws, state } of connections.all()) yield { id: state.id, ws };
      },
      recipientCount: () => connections.size,
      lobbyCount: () => connections.lobbyCount(),
      snapshotFor: (id) => {
        const connection = connections.get(id);
        return connection ? this.#snapshotFrame(connection.state, null, false) : null;
      },
    };
  }
}

function sendError(ws: WebSocket, code: ErrorCode, message: string, cause?: string, holder?: string): void {
  try {
    ws.send(
      JSON.stringify({
        type: 'error',
        code,
        message,
        ...(cause ? { cause } : {}),
        ...(holder ? { holder } : {}),
      } satisfies ServerMessage),
    );
  } catch {
    // The socket closed meanwhile (an answer that came late).
  }
}

function refuseWith(ws: WebSocket, cause: string, refusal: AiRefusal | null): void {
  if (refusal) sendError(ws, refusal.code, refusal.message, cause, refusal.holder);
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}

/** True when every announced track is in this participant's own Calls session. */
const ownTracks = (tracks: ParticipantState['tracks'], member: Member): boolean =>
  inSession(tracks, member.calls);

function inSession(tracks: ParticipantState['tracks'], calls: Member['calls']): boolean {
  const refs = Object.values(tracks);
  if (refs.length === 0) return true;
  const own = calls ? `${calls.sessionId}/` : null;
  return own !== null && refs.every((ref) => ref.startsWith(own));
}

const byteLength = (text: string) => new TextEncoder().encode(text).byteLength;
