/**
 * Who may use the room's media API, and how much: only a joined participant
 * holding its connection's media key, only on its own Calls session, and at
 * most a few new Calls sessions (each paid for with the app secret) at a
 * time. A replaced session is closed on Calls with everything it held.
 */
import type { media, Participant } from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import { constantTimeEqual, type Connections } from './connections.js';
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
import type { Roster } from './roster.js';

interface SessionQuota {
  bucket: TokenBucket;
  creating: boolean;
}

export class MediaGate {
  readonly #quotas = new Map<string, SessionQuota>();

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
    if (!member) return mediaErrorReply(new MediaApiError(403, 'not-joined', 'Join the meeting first'));

    const quota = operation === 'session' ? this.#quotaOf(participantId) : null;
    if (quota) {
      const now = Date.now();
      if (quota.creating || !quota.bucket.take(now)) {
        const seconds = Math.max(1, Math.ceil(quota.bucket.waitFor(now) / 1000));
        return mediaErrorReply(
          new MediaApiError(
            429,
            'media-rate-limited',
            'Too many new media sessions: wait a moment and try again',
            { 'Retry-After': String(seconds) },
          ),
        );
      }
      quota.creating = true;
    }
    try {
      return await handleMediaOperation(operation, body, {
        env: this.env,
        calls,
        self: member.participant,
        binding: member.calls,
        participants: [...this.roster.participants(), ...this.others()],
        bind: (binding) => {
          const old = member.calls;
          // Left (or was replaced) while Calls answered: what was just made goes too.
          if (this.roster.get(participantId) !== member) {
            if (binding && binding.sessionId !== old?.sessionId) this.background(closeAll(calls, binding));
            return;
          }
          member.calls = binding;
          this.roster.save(member);
          if (old && old.sessionId !== binding?.sessionId) this.background(closeAll(calls, old));
        },
      });
    } catch (error) {
      // Only sessions that were made count: a flaky Calls must not use up a participant's recoveries.
      quota?.bucket.refund(Date.now());
      return mediaErrorReply(error);
    } finally {
      if (quota) quota.creating = false;
    }
  }

  /** Closes everything a participant's Calls session holds (they left for good). */
  release(binding: CallsBinding | null): void {
    const calls = binding && callsClientFor(this.env);
    if (calls && binding) this.background(closeAll(calls, binding));
  }

  forget(participantId: string): void {
    this.#quotas.delete(participantId);
  }

  #quotaOf(id: string): SessionQuota {
    let quota = this.#quotas.get(id);
    if (!quota) {
      const { burst, perMinute } = this.limits.mediaSessions;
      quota = { bucket: new TokenBucket(burst, perMinute / 60, Date.now()), creating: false };
      this.#quotas.set(id, quota);
    }
    return quota;
  }
}
