import { distinctUntilChanged, map, type Observable } from 'rxjs';
import {
  MODERATION_CHANGES,
  type Meeting,
  type Participant,
  type ServerMessage,
  type ServerMessageOf,
} from '../protocol/index.js';

/** What the room says of its AI agent (the agent itself is one of the participants). */
export interface RoomAi {
  /** This server has an AI to invite. */
  available: boolean;
  /** Who holds push-to-talk, or null. */
  talker: string | null;
  /** Who may invite and remove it: hosts, or anyone. */
  manage: 'host' | 'anyone';
}

const noAi: RoomAi = { available: false, talker: null, manage: 'host' };

/** What a client knows about its room, rebuilt from each snapshot and kept by deltas. */
export interface RoomState {
  /** This connection's participant id (valid in the lobby too). */
  selfId: string | null;
  /** Joined participants in join order. */
  participants: readonly Participant[];
  lobby: number;
  meeting: Meeting | null;
  /** This connection's key for the media API; null until the snapshot. */
  mediaKey: string | null;
  /** This connection's key for resuming its participant after a drop; null until the snapshot. */
  resumeKey: string | null;
  ai: RoomAi;
}

export const emptyRoomState: RoomState = {
  selfId: null,
  participants: [],
  lobby: 0,
  meeting: null,
  mediaKey: null,
  resumeKey: null,
  ai: noAi,
};

/** Pure: the room after one server message. Messages that change nothing return the same object. */
export function applyServerMessage(state: RoomState, message: ServerMessage): RoomState {
  switch (message.type) {
    case 'snapshot':
      return {
        selfId: message.selfId,
        participants: [...message.participants].sort((a, b) => a.joinedAt - b.joinedAt),
        lobby: message.lobby,
        meeting: message.meeting,
        mediaKey: message.mediaKey ?? null,
        resumeKey: message.resumeKey ?? null,
        ai: aiOf(message),
      };
    case 'participant-joined': {
      const others = state.participants.filter((p) => p.id !== message.participant.id);
      return {
        ...state,
        participants: [...others, message.participant].sort((a, b) => a.joinedAt - b.joinedAt),
      };
    }
    case 'participant-updated':
      return patch(state, message.id, message.changes);
    case 'participant-moderated':
      return patch(state, message.id, MODERATION_CHANGES[message.action]);
    case 'participant-left':
      if (!state.participants.some((p) => p.id === message.id)) return state;
      return { ...state, participants: state.participants.filter((p) => p.id !== message.id) };
    case 'lobby-count':
      return message.count === state.lobby ? state : { ...state, lobby: message.count };
    case 'meeting-started':
      return { ...state, meeting: message.meeting };
    case 'meeting-ended':
      return {
        ...state,
        meeting: null,
        participants: message.by ? [] : state.participants,
        ai: { ...state.ai, talker: null },
      };
    case 'ai-talker':
      return message.id === state.ai.talker ? state : { ...state, ai: { ...state.ai, talker: message.id } };
    default:
      return state;
  }
}

function aiOf({ ai }: ServerMessageOf<'snapshot'>): RoomAi {
  return ai ? { available: ai.available, talker: ai.talker, manage: ai.manage ?? 'host' } : noAi;
}

function patch(state: RoomState, id: string, changes: Partial<Participant>): RoomState {
  if (!state.participants.some((p) => p.id === id)) return state;
  return { ...state, participants: state.participants.map((p) => (p.id === id ? { ...p, ...changes } : p)) };
}

export const selfOf = (state: RoomState): Participant | null =>
  state.participants.find((p) => p.id === state.selfId) ?? null;

/** What a room client exposes of its state, each changing only when it changes. */
export function roomViews(state$: Observable<RoomState>) {
  return {
    state$,
    self$: state$.pipe(map(selfOf), distinctUntilChanged()),
    participants$: state$.pipe(
      map((s) => s.participants),
      distinctUntilChanged(),
    ),
    lobbyCount$: state$.pipe(
      map((s) => s.lobby),
      distinctUntilChanged(),
    ),
  };
}
