/**
 * The room's side of the services (issue 10): the meeting events it sends
 * to `WEBHOOK_URL`, the feedback it takes and sends to `FEEDBACK_URL`, and
 * the meeting history hosts read. Everything goes out through the outbox
 * (`outbox.ts`) and the delivery queue; the queue's consumer reports back
 * through `settled`.
 */
import type { feedback, LeaveReason, Participant } from '../../src/protocol/index.js';
import type { Env } from '../env.js';
import type { Settlement } from '../services/deliveries.js';
import {
  eventBody,
  newMessageId,
  targetUrl,
  type FeedbackEvent,
  type MeetingEvent,
  type OutboundTarget,
} from '../services/outbound.js';
import type { Connection } from './connections.js';
import { FeedbackStore } from './feedback-store.js';
import type { MeetingRecord, MeetingStore } from './meeting-store.js';
import type { MeetingHistory } from '../services/history.js';
import { Outbox } from './outbox.js';

export type { MeetingHistory };

/** How soon the alarm hands the queue again what it would not take. */
export const OUTBOX_RETRY_MS = 10_000;
/** Meetings per page of the history, unless the caller asks for fewer. */
export const HISTORY_PAGE_SIZE = 20;
export const HISTORY_MAX_PAGE_SIZE = 100;

export interface FeedbackReply {
  status: number;
  body: { id: string } | { error: { code: string; message: string } };
  headers?: Record<string, string>;
}

export class RoomServices {
  readonly #outbox: Outbox;
  readonly #feedback: FeedbackStore;

  constructor(
    private readonly env: Env,
    sql: SqlStorage,
    private readonly meetings: MeetingStore,
    private readonly room: () => string,
    /** Runs work that must finish even if nobody waits for it. */
    private readonly background: (work: Promise<unknown>) => void,
    /** The queue would not take something: ask for the alarm. */
    private readonly retryLater: () => void,
  ) {
    this.#outbox = new Outbox(sql);
    this.#feedback = new FeedbackStore(sql);
  }

  meetingStarted(meeting: MeetingRecord): void {
    this.#event(
      meeting.id,
      { type: 'meeting.started', data: { startedAt: iso(meeting.startedAt) } },
      meeting.startedAt,
    );
  }

  joined(meeting: MeetingRecord, participant: Participant, at: number): void {
    this.meetings.addParticipant(meeting, participant.id);
    this.#event(meeting.id, { type: 'participant.joined', data: { participant: ref(participant) } }, at);
  }

  left(meeting: MeetingRecord | null, participant: Participant, reason: LeaveReason, at: number): void {
    if (meeting)
      this.#event(
        meeting.id,
        { type: 'participant.left', data: { participant: ref(participant), reason } },
        at,
      );
  }

  /** After `meetings.end`: the last event of its chain. */
  meetingEnded(meeting: MeetingRecord): void {
    const endedAt = meeting.endedAt ?? Date.now();
    this.#event(
      meeting.id,
      {
        type: 'meeting.ended',
        data: {
          startedAt: iso(meeting.startedAt),
          endedAt: iso(endedAt),
          durationSeconds: Math.round((endedAt - meeting.startedAt) / 1000),
          peakParticipants: meeting.peakParticipants,
          participantCount: this.meetings.participantCount(meeting),
        },
      },
      endedAt,
    );
    if (targetUrl(this.env, 'webhook')) this.#outbox.closeChain(meeting.id);
  }

  /**
   * A rating or problem report from `connection` (its key already checked):
   * about the last meeting it took part in, under the name it had there.
   */
  takeFeedback(
    connection: Connection,
    request: feedback.FeedbackRequest,
    quotaOk: boolean,
    retryMs: number,
  ): FeedbackReply {
    if (!quotaOk) {
      return {
        status: 429,
        body: {
          error: {
            code: 'feedback-rate-limited',
            message: 'Too much feedback at once: try again in a moment',
          },
        },
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryMs / 1000))) },
      };
    }
    const { state } = connection;
    const meeting = state.meeting ?? null;
    if (request.kind === 'rating' && meeting?.id !== request.meetingId) {
      return error(403, 'not-in-meeting', 'You can only rate a meeting you were in');
    }
    const now = Date.now();
    const entry = {
      id: newMessageId(),
      meetingId: meeting?.id ?? null,
      participant: { id: state.id, name: meeting?.name ?? state.identity?.name ?? 'Guest' },
      at: now,
      ...(request.kind === 'rating'
        ? {
            kind: 'rating' as const,
            rating: request.rating,
            ...(request.comment ? { comment: request.comment } : {}),
          }
        : { kind: 'problem' as const, text: request.text, diagnostics: request.diagnostics }),
    };
    if (!this.#feedback.add(entry)) return error(409, 'already-rated', 'You already rated this meeting');
    if (targetUrl(this.env, 'feedback')) {
      const event: FeedbackEvent =
        entry.kind === 'rating'
          ? {
              type: 'feedback.rating',
              data: { participant: entry.participant, rating: entry.rating, comment: entry.comment ?? null },
            }
          : {
              type: 'feedback.problem',
              data: { participant: entry.participant, text: entry.text, diagnostics: entry.diagnostics },
            };
      this.#outbox.add({
        id: entry.id,
        chain: null,
        target: 'feedback',
        body: () => eventBody(event, { room: this.room(), meetingId: entry.meetingId, at: now }),
      });
      this.pump(now);
    }
    return { status: 201, body: { id: entry.id } };
  }

  /** The queue's consumer settled a message: the next of its chain may go. */
  settled(id: string, settlement: Settlement): void {
    const now = Date.now();
    const known =
      'delivered' in settlement
        ? this.#outbox.delivered(id)
        : this.#outbox.dead(id, settlement.dead, settlement.attempts, now);
    if (known) this.pump(now);
  }

  history(limit: number, before: number | null): MeetingHistory {
    const page = this.meetings.page(limit + 1, before);
    const shown = page.slice(0, limit);
    const feedbackOf = this.#feedback.forMeetings(shown.map((m) => m.id));
    return {
      meetings: shown.map((m) => {
        const received = feedbackOf.get(m.id) ?? [];
        return {
          id: m.id,
          startedAt: m.startedAt,
          endedAt: m.endedAt,
          durationSeconds: m.endedAt === null ? null : Math.round((m.endedAt - m.startedAt) / 1000),
          peakParticipants: m.peakParticipants,
          participantCount: m.participantCount,
          feedback: {
            ratings: received
              .filter((f) => f.kind === 'rating')
              .map((f) => ({
                participant: f.participant,
                at: f.at,
                rating: f.rating!,
                ...(f.comment ? { comment: f.comment } : {}),
              })),
            problems: received
              .filter((f) => f.kind === 'problem')
              .map((f) => ({
                id: f.id,
                participant: f.participant,
                at: f.at,
                text: f.text!,
                ...(f.diagnostics ? { diagnostics: f.diagnostics } : {}),
              })),
          },
        };
      }),
      next: page.length > limit ? shown.at(-1)!.startedAt : null,
      deadLetters: before === null ? this.#outbox.deadLetters(HISTORY_MAX_PAGE_SIZE) : [],
    };
  }

  /** Whether the alarm must come back for messages the queue would not take. */
  needsRetry(): boolean {
    return this.#outbox.pending().unsent > 0;
  }

  /** Hands the queue what is due: unchained messages, and the next of each chain. */
  pump(now = Date.now()): void {
    for (const message of this.#outbox.takeDue(now)) {
      this.background(
        this.env.DELIVERIES.send({ room: this.room(), ...message }).catch((error: unknown) => {
          console.error('room: the delivery queue did not take a message', message.id, error);
          this.#outbox.unsent(message.id);
          this.retryLater();
        }),
      );
    }
  }

  #event(meetingId: string, event: MeetingEvent, at: number): void {
    if (!targetUrl(this.env, 'webhook')) return;
    this.#outbox.add({
      id: newMessageId(),
      chain: meetingId,
      target: 'webhook' satisfies OutboundTarget,
      body: (sequence) => eventBody(event, { room: this.room(), meetingId, sequence, at }),
    });
    this.pump();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const ref = ({ id, name, role }: Participant) => ({ id, name, role });
const error = (status: number, code: string, message: string): FeedbackReply => ({
  status,
  body: { error: { code, message } },
});
