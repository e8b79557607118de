/**
 * Everything the room sends to everyone, within a budget, so that no client
 * can make the room slow for the others while staying under its own rate
 * limit:
 * - each participant's changes reach everyone at once up to a small burst,
 *   then at a few per second; changes beyond that are merged (the latest
 *   value of each field wins) and sent when their turn comes;
 * - the room as a whole sends at most `roomSendsPerSecond` frames (a delta
 *   to N people costs N); above it, merged changes wait, and whoever has been
 *   asking least goes first, so a quiet participant's change is never stuck
 *   behind a flood;
 * - the lobby count goes out at most once a second.
 * Joins, leaves and meeting events are never merged or delayed.
 */
import type { ServerMessage, ServerMessageOf } from '../../src/protocol/index.js';
import { TokenBucket } from './rate-limit.js';

type Changes = ServerMessageOf<'participant-updated'>['changes'];

export interface BroadcastTarget {
  /** Every open socket, with its connection id. */
  recipients(): Iterable<{ id: string; ws: WebSocket }>;
  recipientCount(): number;
  lobbyCount(): number;
  /** The whole room as one connection would get it on connect (for the benchmark's baseline). */
  snapshotFor(id: string): string | null;
}

export interface BroadcastLimits {
  participantChanges: { burst: number; perSecond: number };
  roomSendsPerSecond: number;
}

/** The room's outgoing fan-out. The benchmark's whole-room baseline implements it too. */
export interface Broadcast {
  /** A message for everyone (but `exceptId`), now; returns how many it went to. */
  toAll(message: ServerMessage, exceptId?: string): number;
  /** A participant changed: within budget now, else merged and sent when its turn comes. `urgent` never waits. */
  participantChanged(id: string, changes: Changes, urgent?: boolean): void;
  /** Drops what is still waiting for a participant who left (their leave says it all). */
  forget(id: string): void;
  /** Sends what still waits for one participant now (before a host's change to them). */
  settle(id: string): void;
  /** The lobby count changed. */
  lobbyChanged(): void;
  /** Sends what waits and stops the timer (the room is emptied). */
  flush(): void;
}

/** How much a participant has been asking to change lately: a count that decays. */
interface Demand {
  level: number;
  at: number;
}

const FLUSH_INTERVAL_MS = 50;
/** A change counts for about this long in a participant's demand. */
const DEMAND_DECAY_MS = 2_000;
const LOBBY_INTERVAL_MS = 1_000;

export class Broadcaster implements Broadcast {
  readonly #target: BroadcastTarget;
  readonly #limits: BroadcastLimits;
  readonly #room: TokenBucket;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #pending = new Map<string, Changes>();
  readonly #demand = new Map<string, Demand>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lobbySentAt = 0;
  #lobbyTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(target: BroadcastTarget, limits: BroadcastLimits) {
    this.#target = target;
    this.#limits = limits;
    this.#room = new TokenBucket(limits.roomSendsPerSecond, limits.roomSendsPerSecond, Date.now());
  }

  toAll(message: ServerMessage, exceptId?: string): number {
    const frame = JSON.stringify(message);
    let sent = 0;
    for (const { id, ws } of this.#target.recipients()) {
      if (id === exceptId) continue;
      try {
        ws.send(frame);
        sent += 1;
      } catch {
        // A socket closing right now; its close handler tidies up.
      }
    }
    return sent;
  }

  participantChanged(id: string, changes: Changes, urgent = false): void {
    const now = Date.now();
    if (!urgent) this.#ask(id, now);
    const waiting = this.#pending.get(id);
    if (waiting) {
      const merged = { ...waiting, ...changes };
      if (urgent) return this.#send(id, merged);
      this.#pending.set(id, merged);
      return;
    }
    const cost = this.#target.recipientCount();
    // Straight out only while nobody waits: otherwise it takes its turn, or a flood would take
    // every refill of the budget before the queue is served.
    const nobodyWaits = this.#pending.size === 0;
    if (urgent || (nobodyWaits && this.#room.available(now) >= cost && this.#bucketOf(id, now).take(now))) {
      return this.#send(id, changes);
    }
    this.#pending.set(id, changes);
    this.#schedule();
  }

  forget(id: string): void {
    this.#pending.delete(id);
    this.#buckets.delete(id);
    this.#demand.delete(id);
  }

  settle(id: string): void {
    const waiting = this.#pending.get(id);
    if (waiting) this.#send(id, waiting);
  }

  lobbyChanged(): void {
    if (this.#lobbyTimer) return;
    const wait = this.#lobbySentAt + LOBBY_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.#sendLobby();
    this.#lobbyTimer = setTimeout(() => this.#sendLobby(), wait);
  }

  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [id, changes] of this.#pending) this.#send(id, changes);
    if (this.#lobbyTimer) this.#sendLobby();
  }

  #sendLobby(): void {
    if (this.#lobbyTimer !== undefined) clearTimeout(this.#lobbyTimer);
    this.#lobbyTimer = undefined;
    this.#lobbySentAt = Date.now();
    this.toAll({ type: 'lobby-count', count: this.#target.lobbyCount() });
  }

  /** Sends a participant's changes; only these count against the room's budget (joins and leaves have their own limit). */
  #send(id: string, changes: Changes): void {
    this.#pending.delete(id);
    this.#room.spend(Date.now(), this.toAll({ type: 'participant-updated', id, changes }));
  }

  /** Counts one more change asked for by `id`. */
  #ask(id: string, now: number): void {
    this.#demand.set(id, { level: this.#demandOf(id, now) + 1, at: now });
  }

  #demandOf(id: string, now: number): number {
    const demand = this.#demand.get(id);
    return demand ? demand.level * Math.exp(-(now - demand.at) / DEMAND_DECAY_MS) : 0;
  }

  #bucketOf(id: string, now: number): TokenBucket {
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      const { burst, perSecond } = this.#limits.participantChanges;
      bucket = new TokenBucket(burst, perSecond, now);
      this.#buckets.set(id, bucket);
    }
    return bucket;
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#serve();
    }, FLUSH_INTERVAL_MS);
  }

  /** Sends waiting changes, from whoever asked least lately, while the room's budget lasts. */
  #serve(): void {
    const now = Date.now();
    const cost = this.#target.recipientCount();
    const turns = [...this.#pending].sort(([a], [b]) => this.#demandOf(a, now) - this.#demandOf(b, now));
    for (const [id, changes] of turns) {
      if (this.#room.available(now) < cost) break;
      if (!this.#bucketOf(id, now).take(now)) continue;
      this.#send(id, changes);
    }
    if (this.#pending.size > 0) this.#schedule();
  }
}
