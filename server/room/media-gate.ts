/**
 * Who may use the room's media API, and how much: a connection holding its
 * media key, only on its own Calls session, with at most a few new Calls
 * sessions (each paid for with the app secret) and a steady rate of requests
 * per participant.
 * A joined participant may do everything; a visitor still in the lobby may
 * prepare a session and publish what they turned on (so that joining only
 * announces it), but receives nobody's media before joining. A replaced
 * session is closed on Calls with everything it held, and so is a lobby
 * visitor's when they go without joining.
 */
import type { media, Participant } from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import { constantTimeEqual, type Connection, type ConnectionState, type Connections } from './connections.js';
import type { RoomLimits } from './limits.js';
import {
  callsClientFor,
  closeAll,
  handleMediaOperation,
  MediaApiError,
  mediaErrorReply,
  type CallsBinding,
  type MediaReply,
} from './media-gateway.js';
import { TokenBucket } from './rate-limit.js';
import type { Member, Roster } from './roster.js';

/** What one participant may still ask of Calls through the room. */
interface MediaQuota {
  /** New Calls sessions. */
  sessions: TokenBucket;
  /** A new session is being made: the next waits. */
  creating: boolean;
  /** Requests of any kind: each becomes at least one paid Calls request. */
  requests: TokenBucket;
}

/** Where a Calls binding is kept: with a member (in the roster) or a lobby visitor's connection. */
interface CallsHolder {
  readonly calls: CallsBinding | null;
  keep(binding: CallsBinding | null): void;
}

/**
 * What a binding holds that `before` did not: all of it in another session,
 * else the tracks added since. Null when nothing was added.
 */
function madeSince(before: CallsBinding | null, after: CallsBinding | null): CallsBinding | null {
  if (!after) return null;
  if (before?.sessionId !== after.sessionId) return after;
  const added = (now: Record<string, string>, then: Record<string, string>) =>
    Object.fromEntries(Object.entries(now).filter(([mid]) => !(mid in then)));
  const made = {
    sessionId: after.sessionId,
    published: added(after.published, before.published),
    pulled: added(after.pulled, before.pulled),
  };
  return Object.keys(made.published).length + Object.keys(made.pulled).length > 0 ? made : null;
}

export class MediaGate {
  readonly #quotas = new Map<string, MediaQuota>();

  constructor(
    private readonly env: Env,
    private readonly limits: RoomLimits,
    private readonly connections: Connections,
    private readonly roster: Roster,
    /** Runs work that must finish even if nobody waits for it. */
    private readonly background: (work: Promise<unknown>) => void,
    /** Participants outside the roster whose tracks may be pulled (the AI agent). */
    private readonly others: () => readonly Participant[] = () => [],
  ) {}

  async handle(
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
    const connection = this.connections.get(participantId);
    if (!connection || !constantTimeEqual(connection.state.mediaKey, key)) {
      return mediaErrorReply(
        new MediaApiError(401, 'unauthorized', 'Not connected to this room: reconnect and try again'),
      );
    }
    const member = connection.state.joined ? this.roster.get(participantId) : undefined;
    if (connection.state.joined && !member)
      return mediaErrorReply(new MediaApiError(403, 'not-joined', 'Join the meeting first'));
    // Nobody's media goes to someone who has not joined (and may never).
    if (!member && operation === 'pull')
      return mediaErrorReply(
        new MediaApiError(403, 'not-joined', 'Join the meeting first: nobody’s media is sent to the lobby'),
      );

    const quota = this.#quotaOf(participantId);
    const now = Date.now();
    // Any request first: a client looping on pulls or layer switches would spend the app's Calls
    // quota and slow the room's other media requests.
    if (!quota.requests.take(now))
      return rateLimited(quota.requests.waitFor(now), 'Too many media requests: wait a moment and try again');
    const creating = operation === 'session';
    if (creating) {
      if (quota.creating || !quota.sessions.take(now))
        return rateLimited(
          quota.sessions.waitFor(now),
          'Too many new media sessions: wait a moment and try again',
        );
      quota.creating = true;
    }
    const start = member ? member.calls : (connection.state.lobbyCalls ?? null);
    try {
      return await handleMediaOperation(operation, body, {
        env: this.env,
        calls,
        selfId: participantId,
        binding: start,
        participants: member ? [...this.roster.participants(), ...this.others()] : [],
        bind: (binding) => {
          const holder = member ? this.#stillMember(member) : this.#stillHolding(connection);
          if (!holder) {
            // Left (or was replaced) while Calls answered: what was just made goes too.
            const made = madeSince(start, binding);
            if (made) this.background(closeAll(calls, made));
            return;
          }
          const old = holder.calls;
          holder.keep(binding);
          if (old && old.sessionId !== binding?.sessionId) this.background(closeAll(calls, old));
        },
      });
    } catch (error) {
      // Only sessions that were made count: a flaky Calls must not use up a participant's recoveries.
      if (creating) quota.sessions.refund(Date.now());
      return mediaErrorReply(error);
    } finally {
      if (creating) quota.creating = false;
    }
  }

  /** A lobby visitor joins: the session they prepared (if any) is now their member's. */
  carryOver(state: ConnectionState): CallsBinding | null {
    const binding = state.lobbyCalls ?? null;
    state.lobbyCalls = null;
    return binding;
  }

  /**
   * A connection is gone. A lobby visitor's session goes with it: nobody
   * can use it any more. (A member's stays theirs while they may come back.)
   */
  connectionGone(state: ConnectionState): void {
    if (state.joined) return;
    this.release(state.lobbyCalls ?? null);
    state.lobbyCalls = null;
    this.forget(state.id);
  }

  /** Closes everything a participant's Calls session holds (they left for good). */
  release(binding: CallsBinding | null): void {
    const calls = binding && callsClientFor(this.env);
    if (calls && binding) this.background(closeAll(calls, binding));
  }

  forget(participantId: string): void {
    this.#quotas.delete(participantId);
  }

  /** The member, while still in the meeting as the same member. */
  #stillMember(member: Member): CallsHolder | null {
    if (this.roster.get(member.participant.id) !== member) return null;
    return {
      calls: member.calls,
      keep: (binding) => {
        member.calls = binding;
        this.roster.save(member);
      },
    };
  }

  /**
   * Who holds a lobby visitor's session now: their connection while they are
   * still in the lobby, or the member they became by joining meanwhile (the
   * session carries over); nobody once the connection is gone.
   */
  #stillHolding(connection: Connection): CallsHolder | null {
    const { state } = connection;
    if (this.connections.get(state.id) !== connection) return null;
    if (state.joined) {
      const member = this.roster.get(state.id);
      return member ? this.#stillMember(member) : null;
    }
    return {
      calls: state.lobbyCalls ?? null,
      keep: (binding) => {
        state.lobbyCalls = binding;
        this.connections.save(connection);
      },
    };
  }

  #quotaOf(id: string): MediaQuota {
    let quota = this.#quotas.get(id);
    if (!quota) {
      const { mediaSessions, mediaRequests } = this.limits;
      const now = Date.now();
      quota = {
        sessions: new TokenBucket(mediaSessions.burst, mediaSessions.perMinute / 60, now),
        creating: false,
        requests: new TokenBucket(mediaRequests.burst, mediaRequests.perSecond, now),
      };
      this.#quotas.set(id, quota);
    }
    return quota;
  }
}

/** A typed 429 saying when to try again (whole seconds, at least one). */
function rateLimited(waitMs: number, message: string): MediaReply {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return mediaErrorReply(
    new MediaApiError(429, 'media-rate-limited', message, { 'Retry-After': String(seconds) }),
  );
}
