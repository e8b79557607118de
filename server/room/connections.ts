/**
 * The room's live WebSockets: what it knows about each (in the socket's
 * attachment, so it survives hibernation without a storage write), its
 * abuse counters (in memory), and the counts the connection caps need.
 */
import type { PersonRole } from '../../src/protocol/index.js';
import type { CallsBinding } from './media-gateway.js';
import { TokenBucket } from './rate-limit.js';

export interface ConnectionState {
  /** Participant id, chosen by the server; a resumed connection takes its participant's. */
  id: string;
  connectedAt: number;
  /** Last frame other than the auto-answered ping. */
  lastMessageAt: number;
  /** From a join token the Worker verified; overrides what the client says. */
  identity: { name: string; role: PersonRole; picture?: string } | null;
  /** Digest of the join token, for the per-token cap and removals. */
  tokenDigest: string | null;
  /** The join token's `exp` (seconds since the epoch): how long a removal keeps it out. */
  tokenExpiresAt: number | null;
  /** The visitor's address as the Worker saw it, for the per-address cap. */
  address: string | null;
  /** Proves a media API request comes from this connection; sent only to it. */
  mediaKey: string;
  /**
   * SHA-256 of the media key, kept with the meetings this connection takes
   * part in (its feedback may come after it closed). Absent in attachments
   * of older versions.
   */
  mediaDigest?: string;
  /** SHA-256 of the key that resumes this connection's participant after a drop (the key went only to it). */
  resumeDigest: string;
  /** In the meeting (a member of the roster) rather than in the lobby. */
  joined: boolean;
  /**
   * The last meeting this connection took part in, and its name there: what
   * its feedback is about (a rating after leaving comes from the lobby).
   */
  meeting?: { id: string; name: string } | null;
  /**
   * The Calls session a lobby visitor prepared before joining (`media-gate.ts`):
   * it moves to their member when they join, and is closed when they go
   * without joining. Kept here, never in storage: a room with only a lobby
   * stores nothing. Absent in lobby connections of older attachments.
   */
  lobbyCalls?: CallsBinding | null;
  /** The room is done with this socket (it left, was replaced or closed); only its close remains. */
  gone: boolean;
}

export interface Connection {
  ws: WebSocket;
  state: ConnectionState;
}

/** Per-connection abuse counters; in memory, reset on hibernation like the rate limit. */
export interface Abuse {
  messages: TokenBucket;
  joins: TokenBucket;
  feedback: TokenBucket;
  dropped: number;
  oversized: number;
  invalid: number;
  lastRateErrorAt: number;
}

export const readState = (ws: WebSocket): ConnectionState | null =>
  (ws.deserializeAttachment() as ConnectionState | null) ?? null;

export class Connections {
  readonly #byId = new Map<string, Connection>();
  readonly #abuse = new Map<string, Abuse>();

  /** Picks up the sockets that survived hibernation. */
  constructor(sockets: WebSocket[]) {
    for (const ws of sockets) {
      const state = readState(ws);
      if (state && !state.gone) this.#byId.set(state.id, { ws, state });
    }
  }

  get size(): number {
    return this.#byId.size;
  }

  get(id: string): Connection | undefined {
    return this.#byId.get(id);
  }

  of(ws: WebSocket): Connection | undefined {
    const id = readState(ws)?.id;
    const connection = id === undefined ? undefined : this.#byId.get(id);
    return connection?.ws === ws ? connection : undefined;
  }

  all(): IterableIterator<Connection> {
    return this.#byId.values();
  }

  add(ws: WebSocket, state: ConnectionState): Connection {
    const connection = { ws, state };
    this.#byId.set(state.id, connection);
    this.save(connection);
    return connection;
  }

  /** Forgets a connection (it is gone for the room); its socket may still be closing. */
  remove(connection: Connection): void {
    connection.state.gone = true;
    this.save(connection);
    if (this.#byId.get(connection.state.id) === connection) {
      this.#byId.delete(connection.state.id);
      this.#abuse.delete(connection.state.id);
    }
  }

  /** Writes a connection's state to its socket. */
  save({ ws, state }: Connection): void {
    try {
      ws.serializeAttachment(state);
    } catch {
      // The socket is already closed; its attachment no longer matters.
    }
  }

  lobbyCount(): number {
    let count = 0;
    for (const { state } of this.#byId.values()) if (!state.joined) count += 1;
    return count;
  }

  countWhere(matches: (state: ConnectionState) => boolean): number {
    let count = 0;
    for (const { state } of this.#byId.values()) if (matches(state)) count += 1;
    return count;
  }

  abuseOf(id: string, now: number, limits: MessageLimits): Abuse {
    let abuse = this.#abuse.get(id);
    if (!abuse) {
      abuse = {
        messages: new TokenBucket(limits.burst, limits.perSecond, now),
        joins: new TokenBucket(limits.joinBurst, limits.joinsPerSecond, now),
        feedback: new TokenBucket(limits.feedbackBurst, limits.feedbackPerSecond, now),
        dropped: 0,
        oversized: 0,
        invalid: 0,
        lastRateErrorAt: 0,
      };
      this.#abuse.set(id, abuse);
    }
    return abuse;
  }
}

export interface MessageLimits {
  burst: number;
  perSecond: number;
  joinBurst: number;
  joinsPerSecond: number;
  /** Ratings and problem reports (the feedback API), per connection. */
  feedbackBurst: number;
  feedbackPerSecond: number;
}

/** Short url-safe ids: small on the wire, unguessable enough for a room. */
export function newParticipantId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_');
}

/** 128 random bits as hex, for the media API and resume keys. */
export function newKey(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

export async function digestOf(key: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key))));
}

const toHex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
