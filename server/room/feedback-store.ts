/**
 * Ratings and problem reports, kept in the room's SQLite whether or not they
 * also go to `FEEDBACK_URL`: the meeting history shows them to hosts. One
 * rating per participant and meeting. At most `MAX_FEEDBACK` rows (the
 * oldest go first). The table is made with the first one.
 */
import type { feedback } from '../../src/protocol/index.js';

export const MAX_FEEDBACK = 2_000;

export interface StoredFeedback {
  id: string;
  meetingId: string | null;
  participant: { id: string; name: string };
  at: number;
  kind: 'rating' | 'problem';
  rating?: number;
  comment?: string;
  text?: string;
  diagnostics?: feedback.Diagnostics;
}

interface FeedbackRow extends Record<string, SqlStorageValue> {
  id: string;
  meeting_id: string | null;
  participant_id: string;
  name: string;
  kind: string;
  rating: number | null;
  comment: string | null;
  text: string | null;
  diagnostics: string | null;
  at: number;
}

export class FeedbackStore {
  #hasTable: boolean | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** Keeps it; false when this participant already rated this meeting. */
  add(entry: StoredFeedback): boolean {
    this.#ensureTable();
    if (entry.kind === 'rating' && this.hasRated(entry.meetingId, entry.participant.id)) return false;
    this.sql.exec(
      `INSERT INTO feedback (id, meeting_id, participant_id, name, kind, rating, comment, text, diagnostics, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      entry.id,
      entry.meetingId,
      entry.participant.id,
      entry.participant.name,
      entry.kind,
      entry.rating ?? null,
      entry.comment ?? null,
      entry.text ?? null,
      entry.diagnostics ? JSON.stringify(entry.diagnostics) : null,
      entry.at,
    );
    this.sql.exec(
      'DELETE FROM feedback WHERE id NOT IN (SELECT id FROM feedback ORDER BY at DESC LIMIT ?)',
      MAX_FEEDBACK,
    );
    return true;
  }

  hasRated(meetingId: string | null, participantId: string): boolean {
    if (!this.#tableExists()) return false;
    return (
      this.sql
        .exec(
          "SELECT 1 FROM feedback WHERE kind = 'rating' AND meeting_id IS ? AND participant_id = ?",
          meetingId,
          participantId,
        )
        .toArray().length > 0
    );
  }

  /** Everything received about these meetings, oldest first. */
  forMeetings(ids: readonly string[]): Map<string, StoredFeedback[]> {
    const byMeeting = new Map<string, StoredFeedback[]>(ids.map((id) => [id, []]));
    if (!this.#tableExists() || ids.length === 0) return byMeeting;
    const rows = this.sql
      .exec<FeedbackRow>(
        `SELECT * FROM feedback WHERE meeting_id IN (${ids.map(() => '?').join(', ')}) ORDER BY at`,
        ...ids,
      )
      .toArray();
    for (const row of rows) byMeeting.get(row.meeting_id!)?.push(toEntry(row));
    return byMeeting;
  }

  #tableExists(): boolean {
    this.#hasTable ??=
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'feedback'").toArray()
        .length > 0;
    return this.#hasTable;
  }

  #ensureTable(): void {
    if (this.#tableExists()) return;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS feedback (
      id TEXT PRIMARY KEY,
      meeting_id TEXT,
      participant_id TEXT NOT NULL,
      name TEXT NOT NULL,
      kind TEXT NOT NULL,
      rating INTEGER,
      comment TEXT,
      text TEXT,
      diagnostics TEXT,
      at INTEGER NOT NULL
    )`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS feedback_meeting ON feedback (meeting_id, at)');
    this.#hasTable = true;
  }
}

function toEntry(row: FeedbackRow): StoredFeedback {
  return {
    id: row.id,
    meetingId: row.meeting_id,
    participant: { id: row.participant_id, name: row.name },
    at: row.at,
    kind: row.kind as StoredFeedback['kind'],
    ...(row.rating !== null ? { rating: row.rating } : {}),
    ...(row.comment !== null ? { comment: row.comment } : {}),
    ...(row.text !== null ? { text: row.text } : {}),
    ...(row.diagnostics !== null ? { diagnostics: JSON.parse(row.diagnostics) as feedback.Diagnostics } : {}),
  };
}
