import * as z from 'zod/mini';

/**
 * Every error the room server can report. `fatal` codes end the connection
 * (the client must not reconnect); the others answer one bad message and the
 * connection carries on.
 */
export const errorCode = z.enum([
  /** The widget speaks another protocol version: reload the page. */
  'protocol-version',
  /** JOIN_SECRET is set and the token is missing, invalid, expired or for another room. */
  'unauthorized',
  /** Not JSON, or not a known message, or a field of the wrong type. */
  'invalid-message',
  /** A binary frame: the protocol is text only. */
  'binary-not-supported',
  /** A frame over MAX_FRAME_BYTES. */
  'too-large',
  /** Too many messages too fast; the message was dropped. */
  'rate-limited',
  /** The display name is empty, too long or has control characters. */
  'invalid-name',
  /** The action needs a joined participant. */
  'not-joined',
  'already-joined',
  /** Only a host may do this (or the AI policy does not allow it). */
  'forbidden',
  /** The server has no AI (no `OPENAI_API_KEY` or no Calls), or the AI is not in the meeting. */
  'ai-unavailable',
  /** Someone else holds push-to-talk; the error's `holder` says who. */
  'ai-busy',
  /** The AI could not join, or could not hear you; the message says why. */
  'ai-failed',
  /** Announced tracks must be in this participant's own media session. */
  'invalid-tracks',
  /** The target participant is not in the room. */
  'unknown-participant',
  /**
   * A host action aimed at the AI agent (send it away with `ai-remove`), at
   * oneself, or at someone reconnecting when it needs their page.
   */
  'invalid-target',
  /** A host removed this visitor from the meeting; the message says who. */
  'removed',
  /** The meeting was ended by a host. */
  'meeting-ended',
  /** The room has as many connections as it takes (`MAX_CONNECTIONS_PER_ROOM`). */
  'room-full',
  /** Too many connections with this join token, or from this address. */
  'too-many-connections',
  /** Something went wrong on the server; nothing of it is echoed. */
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCode>;

export const FATAL_ERROR_CODES: ReadonlySet<ErrorCode> = new Set([
  'protocol-version',
  'unauthorized',
  'meeting-ended',
  'removed',
  'room-full',
  'too-many-connections',
]);
