import * as z from 'zod/mini';
import { errorCode } from './errors.js';
import {
  aiState,
  meeting,
  moderationAction,
  participant,
  participantId,
  participantState,
  role,
} from './participant.js';

/** Messages a room sends to a browser: one snapshot on connect, then deltas. */

export const pong = z.object({ type: z.literal('pong') });

/** The whole room, once per connection (and again after every reconnect). */
export const snapshot = z.object({
  type: z.literal('snapshot'),
  protocol: z.number().check(z.int()),
  /** This connection's participant id. */
  selfId: participantId,
  room: z.string(),
  participants: z.array(participant),
  /** Connections in the lobby (connected, not joined). */
  lobby: z.number().check(z.int(), z.nonnegative()),
  meeting: z.nullable(meeting),
  /** This connection's key for the media API (`media.ts`); never sent to anyone else. */
  mediaKey: z.optional(z.string().check(z.maxLength(64))),
  /**
   * This connection's key for resuming after its connection drops
   * (`RESUME_PARAM`), once it has joined; new on every connection, sent to
   * nobody else.
   */
  resumeKey: z.optional(z.string().check(z.maxLength(64))),
  /** This connection resumed a participant who was reconnecting: `selfId` is theirs. */
  resumed: z.optional(z.boolean()),
  /**
   * The AI agent: whether this server has one (the UI hides its toggle
   * otherwise) and who holds push-to-talk. The agent itself, when present,
   * is in `participants` with `role: 'agent'`.
   */
  ai: z.optional(
    z.object({
      available: z.boolean(),
      talker: z.nullable(participantId),
      /** Who may invite and remove it (`AI_POLICY`): hosts, or anyone. The server decides; this is for the UI. */
      manage: z.optional(z.enum(['host', 'anyone'])),
    }),
  ),
});

export const participantJoined = z.object({
  type: z.literal('participant-joined'),
  participant,
});

/** Only the fields that changed. */
export const participantUpdated = z.object({
  type: z.literal('participant-updated'),
  id: participantId,
  changes: z.partial(z.object({ ...participantState.shape, role, reconnecting: z.boolean(), aiState })),
});

/** `removed`: a host took them out of the meeting (`by`). */
export const leaveReason = z.enum(['left', 'disconnected', 'timed-out', 'meeting-ended', 'removed']);
export type LeaveReason = z.infer<typeof leaveReason>;

export const participantLeft = z.object({
  type: z.literal('participant-left'),
  id: participantId,
  reason: leaveReason,
  /** With `removed`: the host who removed them. */
  by: z.optional(participantId),
});

/**
 * A host (`by`) acted on `id`: everyone applies the change
 * (`MODERATION_CHANGES`); the target's page also turns its microphone or
 * camera off, and says who did it.
 */
export const participantModerated = z.object({
  type: z.literal('participant-moderated'),
  id: participantId,
  by: participantId,
  action: moderationAction,
});

export const lobbyCount = z.object({
  type: z.literal('lobby-count'),
  count: z.number().check(z.int(), z.nonnegative()),
});

export const meetingStarted = z.object({
  type: z.literal('meeting-started'),
  meeting,
});

export const meetingEnded = z.object({
  type: z.literal('meeting-ended'),
  id: z.string(),
  /** The host who ended it, or absent when the last participant left. */
  by: z.optional(participantId),
});

export const directMessage = z.object({
  type: z.literal('direct-message'),
  from: participantId,
  message: z.string(),
});

/** Who holds push-to-talk now (null: nobody). */
export const aiTalker = z.object({
  type: z.literal('ai-talker'),
  id: z.nullable(participantId),
});

/**
 * What the AI says, as text: pieces (`final: false`) add to the caption; the
 * whole answer then comes once with `final: true` and replaces them.
 */
export const aiCaption = z.object({
  type: z.literal('ai-caption'),
  /** The agent's participant id. */
  id: participantId,
  text: z.string().check(z.maxLength(8 * 1024)),
  final: z.boolean(),
});

export const error = z.object({
  type: z.literal('error'),
  code: errorCode,
  /** Human-readable, safe to show; never a stack trace. */
  message: z.string(),
  /** The `type` of the message that caused it, when known. */
  cause: z.optional(z.string()),
  /** With `ai-busy`: who holds push-to-talk. */
  holder: z.optional(participantId),
});

export const serverMessage = z.discriminatedUnion('type', [
  pong,
  snapshot,
  participantJoined,
  participantUpdated,
  participantLeft,
  participantModerated,
  lobbyCount,
  meetingStarted,
  meetingEnded,
  directMessage,
  aiTalker,
  aiCaption,
  error,
]);
export type ServerMessage = z.infer<typeof serverMessage>;
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;
