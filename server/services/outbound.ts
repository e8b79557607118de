/**
 * What the Worker sends to the site owner, and how it travels: a room writes
 * a message to its outbox (`server/room/outbox.ts`) and hands it to the
 * delivery queue; the queue's consumer (`deliveries.ts`) posts it to
 * `WEBHOOK_URL` (meeting events) or `FEEDBACK_URL` (ratings and problem
 * reports) and tells the room when it settled.
 *
 * Every message has the Standard Webhooks shape: `{ type, timestamp, data }`,
 * its id in the `webhook-id` header (the idempotency key), signed with
 * `WEBHOOK_SECRET` when there is one.
 */
import * as z from 'zod/mini';
import type { LeaveReason, Role } from '../../src/protocol/index.js';
import type { Env } from '../env.js';

export const OUTBOUND_TARGETS = ['webhook', 'feedback'] as const;
export type OutboundTarget = (typeof OUTBOUND_TARGETS)[number];

/** A message as it travels through the queue: small (a feedback report is the largest, ≤ 40 KB). */
export const queuedDelivery = z.object({
  room: z.string(),
  id: z.string(),
  target: z.enum(OUTBOUND_TARGETS),
  body: z.string(),
});
export type QueuedDelivery = z.infer<typeof queuedDelivery>;

/**
 * An outbox row, ready for the queue. It keeps its room's name: a room woken
 * by its alarm after a restart may not know its own (`ctx.id.name`), and the
 * consumer settles the message with the room of that name.
 */
export type OutboundMessage = QueuedDelivery;

/** Where a target's messages go; null when the owner set none (or something that is not http(s)). */
export function targetUrl(env: Env, target: OutboundTarget): string | null {
  const value = target === 'webhook' ? env.WEBHOOK_URL : env.FEEDBACK_URL;
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export const newMessageId = () => `msg_${crypto.randomUUID().replaceAll('-', '')}`;

interface ParticipantRef {
  id: string;
  name: string;
  role: Role;
}

/** The webhook events of a meeting, in the order they happen; `sequence` counts them per meeting. */
export type MeetingEvent =
  | { type: 'meeting.started'; data: { startedAt: string } }
  | {
      type: 'meeting.ended';
      data: {
        startedAt: string;
        endedAt: string;
        durationSeconds: number;
        /** The most people in the meeting at once. */
        peakParticipants: number;
        /** Everyone who was in it at some point. */
        participantCount: number;
      };
    }
  | { type: 'participant.joined'; data: { participant: ParticipantRef } }
  | { type: 'participant.left'; data: { participant: ParticipantRef; reason: LeaveReason } };

export type FeedbackEvent =
  | {
      type: 'feedback.rating';
      data: { participant: { id: string; name: string }; rating: number; comment: string | null };
    }
  | {
      type: 'feedback.problem';
      data: { participant: { id: string; name: string }; text: string; diagnostics: unknown };
    };

/** The JSON posted for an event of `room`'s meeting `meetingId`. */
export function eventBody(
  event: MeetingEvent | FeedbackEvent,
  context: { room: string; meetingId: string | null; sequence?: number; at: number },
): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(context.at).toISOString(),
    data: {
      room: context.room,
      meetingId: context.meetingId,
      ...(context.sequence === undefined ? {} : { sequence: context.sequence }),
      ...event.data,
    },
  });
}
