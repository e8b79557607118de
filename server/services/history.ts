/**
 * What `GET /api/rooms/<room>/meetings` answers: the room's meetings, newest
 * first, with the feedback received for each and what could not be
 * delivered. Plain types, no Worker APIs: tests and callers import them too.
 */
import type { feedback } from '../../src/protocol/index.js';

export interface MeetingHistory {
  meetings: {
    id: string;
    startedAt: number;
    endedAt: number | null;
    durationSeconds: number | null;
    peakParticipants: number;
    participantCount: number;
    feedback: {
      ratings: { participant: { id: string; name: string }; at: number; rating: number; comment?: string }[];
      problems: {
        id: string;
        participant: { id: string; name: string };
        at: number;
        text: string;
        diagnostics?: feedback.Diagnostics;
      }[];
    };
  }[];
  /** The `before` of the next page; null on the last one. */
  next: number | null;
  /** Messages that could not be delivered (newest first), on the first page only. */
  deadLetters: DeadLetter[];
}

export interface DeadLetter {
  id: string;
  target: 'webhook' | 'feedback';
  /** The event type or feedback kind, for people reading the list. */
  type: string;
  chain: string | null;
  reason: string;
  attempts: number;
  failedAt: number;
}
