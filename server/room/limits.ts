/**
 * The room's limits and timings, with the Worker variables that change them
 * (all optional; see server/env.ts and the README).
 */
import { HEARTBEAT_TIMEOUT_MS, RESUME_GRACE_MS } from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import type { MessageLimits } from './connections.js';

export interface RoomLimits {
  /** Sockets in one room, lobby included. */
  connectionsPerRoom: number;
  /** Sockets opened with one join token (a person with a few tabs, not a botnet). */
  connectionsPerToken: number;
  /** Sockets from one address (an office behind one NAT is fine, a script is not). */
  connectionsPerAddress: number;
  /** A connection silent this long is treated as dropped. */
  heartbeatTimeoutMs: number;
  /** How often the alarm looks for silent connections while a meeting is on. */
  sweepIntervalMs: number;
  /** How long a dropped participant keeps their place. */
  resumeGraceMs: number;
  messages: MessageLimits;
  /** A flood this long (dropped messages) closes the connection. */
  maxDropped: number;
  maxOversized: number;
  maxInvalid: number;
  /** Changes one participant may send to everyone at once, and per second after that. */
  participantChanges: { burst: number; perSecond: number };
  /** Frames the room sends per second in all (deltas × recipients) before it starts merging. */
  roomSendsPerSecond: number;
  /** Calls sessions one participant may create at once, and per minute after that. */
  mediaSessions: { burst: number; perMinute: number };
  /** Media API requests of any kind one participant may make at once, and per second after that. */
  mediaRequests: { burst: number; perSecond: number };
}

export function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

export function roomLimits(env: Env): RoomLimits {
  return {
    connectionsPerRoom: numberVar(env.MAX_CONNECTIONS_PER_ROOM, 300),
    connectionsPerToken: numberVar(env.MAX_CONNECTIONS_PER_TOKEN, 5),
    connectionsPerAddress: numberVar(env.MAX_CONNECTIONS_PER_ADDRESS, 100),
    heartbeatTimeoutMs: numberVar(env.HEARTBEAT_TIMEOUT_MS, HEARTBEAT_TIMEOUT_MS),
    sweepIntervalMs: numberVar(env.SWEEP_INTERVAL_MS, 10_000),
    resumeGraceMs: numberVar(env.RESUME_GRACE_MS, RESUME_GRACE_MS),
    // Feedback: a rating and a few reports at once, then one every 20 s.
    messages: {
      burst: 60,
      perSecond: 30,
      joinBurst: 3,
      joinsPerSecond: 0.2,
      feedbackBurst: 5,
      feedbackPerSecond: 0.05,
    },
    maxDropped: 200,
    maxOversized: 3,
    maxInvalid: 50,
    participantChanges: { burst: 8, perSecond: 2 },
    // Measured: on a 2-core machine a room sending 5,000 frames a second to 290 sockets lets a
    // quiet participant's change wait up to half a second; at 4,000 its p99 stays near 110 ms.
    roomSendsPerSecond: numberVar(env.ROOM_SENDS_PER_SECOND, 4_000),
    mediaSessions: { burst: 6, perMinute: 6 },
    // Joining a meeting of 20 takes about 10 (a session, publishing, pulls and their answers); a
    // tile changes layer only when its size crosses a layer's width.
    mediaRequests: { burst: 60, perSecond: 10 },
  };
}
