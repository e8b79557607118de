/**
 * The meeting record in the room's SQLite: one row per meeting, written when a
 * meeting starts, when its peak participant count rises and when it ends.
 * Never per heartbeat or per state change.
 */
export interface MeetingRecord {
  id: string;
  startedAt: number;
  endedAt: number | null;
  peakParticipants: number;
}

interface MeetingRow extends Record<string, SqlStorageValue> {
  id: string;
  started_at: number;
  ended_at: number | null;
  peak_participants: number;
}

const toRecord = (row: MeetingRow): MeetingRecord => ({
  id: row.id,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  peakParticipants: row.peak_participants,
});

export class MeetingStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meetings (
      id TEXT PRIMARY KEY,
      started_at INTEGER NOT NULL,
      ended_at INTEGER,
      peak_participants INTEGER NOT NULL
    )`);
  }

  current(): MeetingRecord | null {
    const row = this.sql
      .exec<MeetingRow>('SELECT * FROM meetings WHERE ended_at IS NULL ORDER BY started_at DESC LIMIT 1')
      .toArray()[0];
    return row ? toRecord(row) : null;
  }

  latest(): MeetingRecord | null {
    const row = this.sql
      .exec<MeetingRow>('SELECT * FROM meetings ORDER BY started_at DESC LIMIT 1')
      .toArray()[0];
    return row ? toRecord(row) : null;
  }

  start(id: string, startedAt: number, participants: number): MeetingRecord {
    this.sql.exec(
      'INSERT INTO meetings (id, started_at, ended_at, peak_participants) VALUES (?, ?, NULL, ?)',
      id,
      startedAt,
      participants,
    );
    return { id, startedAt, endedAt: null, peakParticipants: participants };
  }

  raisePeak(meeting: MeetingRecord, participants: number): void {
    if (participants <= meeting.peakParticipants) return;
    meeting.peakParticipants = participants;
    this.sql.exec('UPDATE meetings SET peak_participants = ? WHERE id = ?', participants, meeting.id);
  }

  end(meeting: MeetingRecord, endedAt: number): void {
    meeting.endedAt = endedAt;
    this.sql.exec('UPDATE meetings SET ended_at = ? WHERE id = ?', endedAt, meeting.id);
  }
}
