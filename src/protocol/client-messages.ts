import * as z from 'zod/mini';
import { DIRECT_MESSAGE_MAX_LENGTH } from './limits.js';
import { participantId, participantState } from './participant.js';

/** Messages a browser sends to its room. */

/** Kept alive by the server's auto-response; see PING_FRAME. */
export const ping = z.object({ type: z.literal('ping') });

/** Leave the lobby and enter the meeting. With a join token the token's name wins. */
export const join = z.object({
  type: z.literal('join'),
  name: z.string().check(z.maxLength(1024)),
  /** Initial state, so others never see a flash of "camera on" before the first update. */
  state: z.optional(z.partial(participantState)),
});

/** Back to the lobby; the connection stays open. */
export const leave = z.object({ type: z.literal('leave') });

/** Change one's own state; only the fields present change. */
export const update = z.object({
  type: z.literal('update'),
  changes: z.partial(participantState),
});

/**
 * Host only, on someone else (never the AI agent): turn their microphone
 * off. Their page does it, and says who did.
 */
export const muteParticipant = z.object({
  type: z.literal('mute-participant'),
  id: participantId,
});

/** Host only, like `mute-participant`: turn their camera off. */
export const turnCameraOff = z.object({
  type: z.literal('turn-camera-off'),
  id: participantId,
});

/** Host only, like `mute-participant`: lower their raised hand. */
export const lowerHand = z.object({
  type: z.literal('lower-hand'),
  id: participantId,
});

/**
 * Host only, like `mute-participant`: take them out of the meeting. Their
 * connection is closed; with join tokens their token cannot join this room
 * again (`removed`).
 */
export const removeParticipant = z.object({
  type: z.literal('remove-participant'),
  id: participantId,
});

/** Host only, like `mute-participant`: make them a host too (the giver stays one). */
export const makeHost = z.object({
  type: z.literal('make-host'),
  id: participantId,
});

/** Host only: end the meeting for everyone. */
export const endMeeting = z.object({ type: z.literal('end-meeting') });

export const sendDirectMessage = z.object({
  type: z.literal('direct-message'),
  to: participantId,
  message: z.string().check(z.maxLength(DIRECT_MESSAGE_MAX_LENGTH)),
});

/** Bring the AI agent into the meeting (who may: `AI_POLICY`, decided by the server). */
export const aiInvite = z.object({ type: z.literal('ai-invite') });

/** Send the AI agent away. */
export const aiRemove = z.object({ type: z.literal('ai-remove') });

/**
 * Push-to-talk: `on` asks to hold it (one holder at a time: `ai-busy` names
 * who has it), off ends the turn and the AI answers.
 */
export const aiTalk = z.object({ type: z.literal('ai-talk'), on: z.boolean() });

export const clientMessage = z.discriminatedUnion('type', [
  ping,
  join,
  leave,
  update,
  muteParticipant,
  turnCameraOff,
  lowerHand,
  removeParticipant,
  makeHost,
  endMeeting,
  sendDirectMessage,
  aiInvite,
  aiRemove,
  aiTalk,
]);
export type ClientMessage = z.infer<typeof clientMessage>;
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;
