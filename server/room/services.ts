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
import type { MessageLimits } from './connections.js';
import { FeedbackStore } from './feedback-store.js';
import { TokenBucket } from './rate-limit.js';
import type { MeetingRecord, MeetingStore } from './meeting-store.js';
import type { MeetingHistory } from '../services/history.js';
import { numberVar } from './limits.js';
import { Outbox, RESEND_AFTER_MS } from './outbox.js';

export type { MeetingHistory };

/** How soon the alarm hands the queue again what it would not take. */
export const OUTBOX_RETRY_MS = 10_000;
/** Meetings per page of the history, unless the caller asks for fewer. */
export const HISTORY_PAGE_SIZE = 20;
export const HISTORY_MAX_PAGE_SIZE = 100;
/** The most messages one `sendBatch` takes. */
const QUEUE_BATCH = 100;

export interface FeedbackReply {
  status: number;
  body: { id: string } | { error: { code: string; message: string } };
  headers?: Record<string, string>;
}

/** Who sends feedback: a participant, the meeting they were in last and their name there. */
export interface FeedbackSender {
  id: string;
  meeting: { id: string; name: string } | null;
  /** Their name when they were in no meeting (from their join token). */
  name: string | null;
}

export class RoomServices {
  readonly #outbox: Outbox;
  readonly #feedback: FeedbackStore;
  readonly #lateQuotas = new Map<string, TokenBucket>();

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
    this.#outbox = new Outbox(sql, numberVar(env.DELIVERY_RESEND_AFTER_MS, RESEND_AFTER_MS));
    this.#feedback = new FeedbackStore(sql);
  }

  meetingStarted(meeting: MeetingRecord): void {
    this.#event(
      meeting.id,
      { type: 'meeting.started', data: { startedAt: iso(meeting.startedAt) } },
      meeting.startedAt,
    );
  }

  joined(meeting: MeetingRecord, participant: Participant, keyDigest: string, at: number): void {
    this.meetings.addParticipant(meeting, participant.id, participant.name, keyDigest);
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
   * A rating or problem report from `sender` (its key already checked):
   * about the last meeting it took part in, under the name it had there.
   */
  takeFeedback(
    sender: FeedbackSender,
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
    const { meeting } = sender;
    if (request.kind === 'rating' && meeting?.id !== request.meetingId) {
      return error(403, 'not-in-meeting', 'You can only rate a meeting you were in');
    }
    const now = Date.now();
    const entry = {
      id: newMessageId(),
      meetingId: meeting?.id ?? null,
      participant: { id: sender.id, name: meeting?.name ?? sender.name ?? 'Guest' },
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
        room: this.room(),
        id: entry.id,
        chain: null,
        target: 'feedback',
        body: () => eventBody(event, { room: this.room(), meetingId: entry.meetingId, at: now }),
      });
      this.pump(now);
    }
    return { status: 201, body: { id: entry.id } };
  }

  /**
   * The feedback rate limit of someone whose connection is gone (in memory,
   * like the connections' own; forgotten past a thousand senders).
   */
  lateQuota(id: string, now: number, limits: MessageLimits): TokenBucket {
    let quota = this.#lateQuotas.get(id);
    if (!quota) {
      if (this.#lateQuotas.size >= 1_000) this.#lateQuotas.clear();
      quota = new TokenBucket(limits.feedbackBurst, limits.feedbackPerSecond, now);
      this.#lateQuotas.set(id, quota);
    }
    return quota;
  }

  /** The queue's consumer settled messages: the next of their chains may go. */
  settled(settlements: readonly { id: string; settlement: Settlement }[]): void {
    const now = Date.now();
    let known = false;
    for (const { id, settlement } of settlements) {
      known =
        ('delivered' in settlement
          ? this.#outbox.delivered(id)
          : this.#outbox.dead(id, settlement.dead, settlement.attempts, now)) || known;
    }
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

  /**
   * When the alarm must come back for the outbox: soon for messages the
   * queue would not take, later for one handed over that never settled
   * (lost); null when nothing waits.
   */
  outboxAlarmAt(now: number): number | null {
    const due = this.#outbox.nextDueAt(now);
    return due === null ? null : Math.max(due, now + OUTBOX_RETRY_MS);
  }

  /** Hands the queue what is due: unchained messages, and the next of each chain (in batches of 100). */
  pump(now = Date.now()): void {
    const due = this.#outbox.takeDue(now);
    for (let i = 0; i < due.length; i += QUEUE_BATCH) {
      const batch = due.slice(i, i + QUEUE_BATCH);
      this.background(
        this.env.DELIVERIES.sendBatch(batch.map((body) => ({ body }))).catch((error: unknown) => {
          console.error(`room: the delivery queue did not take ${batch.length} messages`, error);
          for (const message of batch) this.#outbox.unsent(message.id);
          this.retryLater();
        }),
      );
    }
  }

  #event(meetingId: string, event: MeetingEvent, at: number): void {
    if (!targetUrl(this.env, 'webhook')) return;
    this.#outbox.add({
      room: this.room(),
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
