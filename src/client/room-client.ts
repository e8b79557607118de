import PartySocket from 'partysocket';
import { BehaviorSubject, distinctUntilChanged, EMPTY, map, of, Subject, type Observable } from 'rxjs';
import {
  displayName,
  FATAL_ERROR_CODES,
  HEARTBEAT_INTERVAL_MS,
  MODERATION_CHANGES,
  parseServerMessage,
  PING_FRAME,
  PROTOCOL_VERSION,
  RESUME_PARAM,
  ROOM_NAME_PATTERN,
  SILENCE_TIMEOUT_MS,
  type ClientMessage,
  type ErrorCode,
  type LeaveReason,
  type ModerationAction,
  type Participant,
  type ParticipantState,
  type ServerMessage,
} from '../protocol/index.js';
import { applyServerMessage, emptyRoomState, roomViews, selfOf, type RoomState } from './room-state.js';

export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'failed';

/** A problem the user should hear about: from the server, or found before sending. */
export interface RoomError {
  code: ErrorCode | 'invalid-room' | 'invalid-server' | 'invalid-response';
  message: string;
  /** The connection is over: do not expect it to recover. */
  fatal: boolean;
  /** With `ai-busy`: the id of who holds push-to-talk. */
  holder?: string;
}

/** The fields of a participant that `participant-updated` events report (not their tracks). */
export const PARTICIPANT_CHANGE_FIELDS = [
  'microphone',
  'camera',
  'handRaised',
  'role',
  'reconnecting',
] as const;
/** What changed about someone, with the new values (`reconnecting: false` when they are back). */
export type ParticipantChanges = Partial<Pick<Participant, (typeof PARTICIPANT_CHANGE_FIELDS)[number]>>;

/** Things that happen in the room, for toasts, sounds and host-page events. */
export type RoomEvent =
  | { type: 'participant-joined'; participant: Participant; self: boolean }
  | {
      type: 'participant-updated';
      /** As they are after the change. */
      participant: Participant;
      changes: ParticipantChanges;
      self: boolean;
    }
  | {
      type: 'participant-left';
      participant: Participant;
      reason: LeaveReason;
      /** The host who removed them (`removed`) or ended the meeting (`meeting-ended`). */
      by: Participant | null;
      self: boolean;
    }
  /** A host (`by`) muted them, turned their camera off, lowered their hand or made them host. */
  | {
      type: 'participant-moderated';
      participant: Participant;
      action: ModerationAction;
      by: Participant | null;
      self: boolean;
    }
  | { type: 'meeting-ended'; by: Participant | null }
  | { type: 'direct-message'; from: Participant | null; fromId: string; message: string }
  /** A piece of what the AI says (`final: false`), or the whole answer (`final: true`). */
  | { type: 'ai-caption'; agentId: string; text: string; final: boolean };

export interface RoomClientOptions {
  /** Origin of the Meetkit server, e.g. `https://meet.example.com`. */
  server: string;
  room: string;
  token?: string | undefined;
  /** A WebSocket implementation, for Node (the `ws` package). */
  WebSocket?: unknown;
  /** Hearing nothing for this long (not even a pong) means the path is dead: reconnect. */
  silenceTimeoutMs?: number;
}

export interface RoomClient {
  readonly connection$: Observable<ConnectionStatus>;
  readonly state$: Observable<RoomState>;
  /** This participant while joined; null in the lobby. */
  readonly self$: Observable<Participant | null>;
  readonly participants$: Observable<readonly Participant[]>;
  readonly lobbyCount$: Observable<number>;
  readonly errors$: Observable<RoomError>;
  readonly events$: Observable<RoomEvent>;
  join(name: string, state?: Partial<ParticipantState>): boolean;
  leave(): void;
  update(changes: Partial<ParticipantState>): void;
  /** Host actions on someone else (the room checks): microphone off, camera off, hand down, out, host. */
  muteParticipant(id: string): void;
  turnCameraOff(id: string): void;
  lowerHand(id: string): void;
  removeParticipant(id: string): void;
  makeHost(id: string): void;
  endMeeting(): void;
  sendDirectMessage(to: string, message: string): void;
  /** Asks the room to bring its AI in (the room decides who may). */
  inviteAi(): void;
  removeAi(): void;
  /** Asks for push-to-talk (`ai-busy` if someone holds it), or ends this turn. */
  talkToAi(on: boolean): void;
  /** Drops the connection and connects again now, resuming this participant (a retry button; tests). */
  reconnect(): void;
  /** Leaves the meeting if joined, closes the connection for good and completes every observable. */
  close(): void;
}

/**
 * The close code of a reconnect on purpose: the room keeps this participant's
 * place (only a goodbye, 1000/1001, ends it at once).
 */
const CLOSE_RECONNECTING = 4000;
/** Reconnect quickly (a path back within seconds resumes within seconds), with jitter so a restarted room is not hit by everyone at once. */
const RECONNECT_DELAY = { min: 400, max: 2_500, growth: 1.6 };
/**
 * A connection attempt that has not opened by then is given up and tried
 * again: one swallowed by a dead path must not hold back the next try once the
 * path is back. A Worker answers the upgrade within a second even on a slow
 * mobile link (partysocket waits 4 s by default).
 */
const CONNECT_TIMEOUT_MS = 3_000;

export function createRoomClient(options: RoomClientOptions): RoomClient {
  const connection = new BehaviorSubject<ConnectionStatus>('connecting');
  const state = new BehaviorSubject<RoomState>(emptyRoomState);
  const errors = new Subject<RoomError>();
  const events = new Subject<RoomEvent>();

  const invalid = checkOptions(options);
  if (invalid) return failedClient(invalid);
  const server = new URL(options.server);

  /**
   * What to restore after a reconnect that could not resume (the room
   * forgot us: the grace period passed): join again as the same person.
   */
  let wanted: { name: string; state: Partial<ParticipantState> } | null = null;
  let stopped = false;
  const silenceTimeoutMs = options.silenceTimeoutMs ?? SILENCE_TIMEOUT_MS;

  const socket = new PartySocket({
    host: server.host,
    protocol: server.protocol === 'https:' ? 'wss' : 'ws',
    party: 'room',
    room: options.room,
    // Asked on every (re)connect: while joined, the room resumes us as we were.
    query: () => {
      const { selfId, resumeKey } = state.value;
      const resume = wanted && selfOf(state.value) && resumeKey ? `${selfId}.${resumeKey}` : undefined;
      return {
        v: String(PROTOCOL_VERSION),
        ...(options.token ? { token: options.token } : {}),
        ...(resume ? { [RESUME_PARAM]: resume } : {}),
      };
    },
    WebSocket: options.WebSocket,
    // State is restored from the snapshot after a reconnect; stale queued frames would confuse that.
    maxEnqueuedMessages: 0,
    minReconnectionDelay: RECONNECT_DELAY.min + Math.random() * RECONNECT_DELAY.min,
    maxReconnectionDelay: RECONNECT_DELAY.max,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    reconnectionDelayGrowFactor: RECONNECT_DELAY.growth,
    shouldReconnectOnClose: () => !stopped,
  });

  const send = (message: ClientMessage) => {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
  };

  /** When anything last arrived; pongs count, so a quiet room is not a dead one. */
  let heardAt = Date.now();
  const heartbeat = setInterval(
    () => {
      if (socket.readyState !== OPEN) return;
      // A path that silently drops packets never closes the socket: notice it ourselves.
      if (Date.now() - heardAt > silenceTimeoutMs) return dropSilentConnection();
      socket.send(PING_FRAME);
    },
    Math.min(HEARTBEAT_INTERVAL_MS, silenceTimeoutMs / 3),
  );

  /**
   * The connection is gone, and with it its media key: the room gives a new
   * one in the next snapshot. Until then no media request is made with a key
   * the room has already forgotten.
   */
  const connectionLost = () => {
    if (state.value.mediaKey !== null) state.next({ ...state.value, mediaKey: null });
    connection.next('reconnecting');
  };

  const dropSilentConnection = () => {
    connectionLost();
    socket.reconnect(CLOSE_RECONNECTING, 'No answer from the room');
  };

  const stop = (status: ConnectionStatus) => {
    if (stopped) return;
    stopped = true;
    clearInterval(heartbeat);
    socket.close();
    connection.next(status);
  };

  const onOpen = () => {
    heardAt = Date.now();
    connection.next('open');
  };
  const onClose = () => {
    if (!stopped) connectionLost();
  };
  const onMessage = (event: MessageEvent) => {
    heardAt = Date.now();
    if (typeof event.data !== 'string') return;
    const parsed = parseServerMessage(event.data);
    if (!parsed.ok) {
      errors.next({
        code: 'invalid-response',
        message: `The room sent something unexpected (${parsed.reason})`,
        fatal: false,
      });
      return;
    }
    const message = parsed.message;
    if (message.type === 'snapshot' && message.protocol !== PROTOCOL_VERSION) {
      errors.next({
        code: 'protocol-version',
        message: 'Meetkit on this page is out of date: please reload',
        fatal: true,
      });
      return stop('failed');
    }
    const before = state.value;
    const after = applyServerMessage(before, message);
    if (after !== before) state.next(after);
    announce(before, after, message);
    // Not resumed (the room had let us go, or we were not in yet): join again as the same person.
    if (message.type === 'snapshot' && wanted && !selfOf(after))
      send({ type: 'join', name: wanted.name, state: wanted.state });
    if (message.type === 'error') {
      const self = selfOf(before);
      if (message.code === 'removed' && self) {
        // Removed while this page was away: the room refused it on coming back. It is out.
        state.next({ ...before, participants: [], meeting: null });
        events.next({ type: 'participant-left', participant: self, reason: 'removed', by: null, self: true });
      }
      const fatal = FATAL_ERROR_CODES.has(message.code);
      errors.next({
        code: message.code,
        message: message.message,
        fatal,
        ...(message.holder ? { holder: message.holder } : {}),
      });
      if (fatal) stop('failed');
    }
    // Ended, or removed by a host: over, and not to be joined again by this page.
    const removed =
      message.type === 'participant-left' && message.reason === 'removed' && message.id === after.selfId;
    if ((message.type === 'meeting-ended' && message.by) || removed) {
      wanted = null;
      stop('closed');
    }
  };

  /** Turns deltas into events, naming participants from the state before or after. */
  const announce = (before: RoomState, after: RoomState, message: ServerMessage) => {
    const find = (s: RoomState, id: string | undefined) => s.participants.find((p) => p.id === id) ?? null;
    switch (message.type) {
      case 'participant-joined':
        return events.next({
          type: 'participant-joined',
          participant: message.participant,
          self: message.participant.id === after.selfId,
        });
      case 'participant-updated': {
        const participant = find(after, message.id);
        const changes: ParticipantChanges = {};
        for (const key of PARTICIPANT_CHANGE_FIELDS)
          if (message.changes[key] !== undefined) Object.assign(changes, { [key]: message.changes[key] });
        if (participant && Object.keys(changes).length > 0)
          events.next({
            type: 'participant-updated',
            participant,
            changes,
            self: message.id === after.selfId,
          });
        return;
      }
      case 'participant-left': {
        const participant = find(before, message.id);
        if (participant)
          events.next({
            type: 'participant-left',
            participant,
            reason: message.reason,
            by: find(before, message.by),
            self: message.id === after.selfId,
          });
        return;
      }
      case 'participant-moderated': {
        const participant = find(after, message.id);
        if (!participant) return;
        const self = message.id === after.selfId;
        const changes = MODERATION_CHANGES[message.action];
        const changed = Object.entries(changes).some(
          ([key, value]) => find(before, message.id)?.[key as keyof Participant] !== value,
        );
        if (changed) events.next({ type: 'participant-updated', participant, changes: { ...changes }, self });
        return events.next({
          type: 'participant-moderated',
          participant,
          action: message.action,
          by: find(after, message.by),
          self,
        });
      }
      case 'meeting-ended': {
        // Ended by a host: everyone was removed with it, this participant included.
        const self = selfOf(before);
        const by = find(before, message.by);
        if (message.by && self)
          events.next({
            type: 'participant-left',
            participant: self,
            reason: 'meeting-ended',
            by,
            self: true,
          });
        return events.next({ type: 'meeting-ended', by });
      }
      case 'direct-message':
        return events.next({
          type: 'direct-message',
          from: find(after, message.from),
          fromId: message.from,
          message: message.message,
        });
      case 'ai-caption':
        return events.next({
          type: 'ai-caption',
          agentId: message.id,
          text: message.text,
          final: message.final,
        });
    }
  };

  socket.addEventListener('open', onOpen);
  socket.addEventListener('close', onClose);
  socket.addEventListener('message', onMessage);

  // Keep the wanted state in step with what the server confirmed, so a join
  // after a lost place restores the latest microphone / camera / hand. (Media
  // is announced again by the call, from its new session.)
  const selfSubscription = state.pipe(map(selfOf)).subscribe((self) => {
    if (self && wanted)
      wanted = {
        name: self.name,
        state: { microphone: self.microphone, camera: self.camera, handRaised: self.handRaised },
      };
  });

  return {
    connection$: connection.pipe(distinctUntilChanged()),
    ...roomViews(state.asObservable()),
    errors$: errors.asObservable(),
    events$: events.asObservable(),
    join(name, initial = {}) {
      const checked = displayName.safeParse(name);
      if (!checked.success) {
        errors.next({
          code: 'invalid-name',
          message: checked.error.issues[0]?.message ?? 'Invalid name',
          fatal: false,
        });
        return false;
      }
      wanted = { name: checked.data, state: initial };
      if (!selfOf(state.value)) send({ type: 'join', name: checked.data, state: initial });
      return true;
    },
    leave() {
      wanted = null;
      send({ type: 'leave' });
    },
    update(changes) {
      if (wanted) wanted = { ...wanted, state: { ...wanted.state, ...changes } };
      send({ type: 'update', changes });
    },
    muteParticipant: (id) => send({ type: 'mute-participant', id }),
    turnCameraOff: (id) => send({ type: 'turn-camera-off', id }),
    lowerHand: (id) => send({ type: 'lower-hand', id }),
    removeParticipant: (id) => send({ type: 'remove-participant', id }),
    makeHost: (id) => send({ type: 'make-host', id }),
    endMeeting: () => send({ type: 'end-meeting' }),
    sendDirectMessage: (to, message) => send({ type: 'direct-message', to, message }),
    inviteAi: () => send({ type: 'ai-invite' }),
    removeAi: () => send({ type: 'ai-remove' }),
    talkToAi: (on) => send({ type: 'ai-talk', on }),
    reconnect() {
      if (stopped) return;
      connectionLost();
      socket.reconnect(CLOSE_RECONNECTING, 'Reconnecting');
    },
    close() {
      // A goodbye, so the room lets the others know at once and closes our media.
      if (selfOf(state.value)) send({ type: 'leave' });
      wanted = null;
      stop('closed');
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('close', onClose);
      socket.removeEventListener('message', onMessage);
      selfSubscription.unsubscribe();
      connection.complete();
      state.complete();
      errors.complete();
      events.complete();
    },
  };
}

const OPEN = 1;

function checkOptions(options: RoomClientOptions): RoomError | null {
  try {
    const server = new URL(options.server);
    if (server.protocol !== 'http:' && server.protocol !== 'https:') throw new Error('not http');
  } catch {
    return { code: 'invalid-server', message: `"${options.server}" is not an http(s) address`, fatal: true };
  }
  if (!ROOM_NAME_PATTERN.test(options.room)) {
    return { code: 'invalid-room', message: 'Room names are 1-64 letters, digits, "-" or "_"', fatal: true };
  }
  return null;
}

/** A client that could not start: it reports why to every subscriber, and does nothing. */
function failedClient(error: RoomError): RoomClient {
  const noop = () => {};
  return {
    connection$: of('failed'),
    state$: of(emptyRoomState),
    self$: of(null),
    participants$: of([]),
    lobbyCount$: of(0),
    errors$: of(error),
    events$: EMPTY,
    join: () => false,
    leave: noop,
    update: noop,
    muteParticipant: noop,
    turnCameraOff: noop,
    lowerHand: noop,
    removeParticipant: noop,
    makeHost: noop,
    endMeeting: noop,
    sendDirectMessage: noop,
    inviteAi: noop,
    removeAi: noop,
    talkToAi: noop,
    reconnect: noop,
    close: noop,
  };
}
