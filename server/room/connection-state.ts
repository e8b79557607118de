import type { Participant, Role } from '../../src/protocol/index.js';
import type { CallsBinding } from './media-gateway.js';

/**
 * What the room knows about one WebSocket. Stored as the socket's attachment,
 * so it survives hibernation without a storage write.
 */
export interface ConnectionState {
  /** Participant id, chosen by the server. */
  id: string;
  room: string;
  connectedAt: number;
  /** Last frame other than the auto-answered ping. */
  lastMessageAt: number;
  /** From a verified join token; overrides what the client says. */
  identity: { name: string; role: Role } | null;
  /** Set while joined; null in the lobby. */
  participant: Participant | null;
  /** Set once the room has said goodbye for this socket (sweep, end). */
  gone: boolean;
  /** Proves a media API request comes from this connection; sent only to it. */
  mediaKey: string;
  /** This participant's Calls session, once they have one. */
  calls: CallsBinding | null;
}

export const readState = (ws: WebSocket): ConnectionState | null =>
  (ws.deserializeAttachment() as ConnectionState | null) ?? null;

export const writeState = (ws: WebSocket, state: ConnectionState): void => ws.serializeAttachment(state);

/** Short url-safe ids: small on the wire, unguessable enough for a room. */
export function newParticipantId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/** 128 random bits as hex, for the media API key. */
export function newMediaKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
