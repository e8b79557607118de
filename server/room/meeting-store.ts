/**
 * The meeting record in the room's SQLite: one row per meeting, written when a
 * meeting starts, when its peak participant count rises and when it ends.
 * Never per heartbeat or per state change; who took part is one row per
 * participant and meeting (for `meeting.ended`'s participant count). Nothing
 * is written before the first meeting: the tables are created then, so a
 * room that was only looked at (a summary, a lobby) stores nothing.
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
  /** Whether the meetings table exists; unknown until the first read or write. */
  #hasTable: boolean | undefined;
  #participantsReady = false;

  constructor(private readonly sql: SqlStorage) {}

  current(): MeetingRecord | null {
    return this.#first('SELECT * FROM meetings WHERE ended_at IS NULL ORDER BY started_at DESC LIMIT 1');
  }

  latest(): MeetingRecord | null {
    return this.#first('SELECT * FROM meetings ORDER BY started_at DESC LIMIT 1');
  }

  /**
   * The room's own name, as written with its first meeting: a room woken by
   * its alarm after a restart is not told it (`ctx.id.name` is unset then),
   * and what it sends out names the room.
   */
  roomName(): string | null {
    const table = this.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'room_name'")
      .toArray();
    if (table.length === 0) return null;
    return this.sql.exec<{ name: string }>('SELECT name FROM room_name').toArray()[0]?.name ?? null;
  }

  start(id: string, startedAt: number, participants: number, room: string): MeetingRecord {
    this.#ensureTable();
    if (room) {
      this.sql.exec('CREATE TABLE IF NOT EXISTS room_name (name TEXT NOT NULL)');
      this.sql.exec('DELETE FROM room_name');
      this.sql.exec('INSERT INTO room_name (name) VALUES (?)', room);
    }
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

  /**
   * Someone took part (a second join of the same participant counts once),
   * under `name`, with the digest of their connection's media key: what lets
   * them rate the meeting after their connection closed (a host ended it).
   * A resumed connection has a new key: `rekey` follows it.
   */
  addParticipant(meeting: MeetingRecord, participantId: string, name: string, keyDigest: string): void {
    this.#ensureParticipantsTable();
    this.sql.exec(
      `INSERT INTO meeting_participants (meeting_id, participant_id, name, key_digest) VALUES (?, ?, ?, ?)
       ON CONFLICT (meeting_id, participant_id) DO UPDATE SET name = excluded.name, key_digest = excluded.key_digest`,
      meeting.id,
      participantId,
      name,
      keyDigest,
    );
  }

  rekey(meeting: MeetingRecord, participantId: string, keyDigest: string): void {
    this.#ensureParticipantsTable();
    this.sql.exec(
      'UPDATE meeting_participants SET key_digest = ? WHERE meeting_id = ? AND participant_id = ?',
      keyDigest,
      meeting.id,
      participantId,
    );
  }

  /** The last meeting `participantId` took part in, with the name and key digest they had there. */
  lastParticipation(
    participantId: string,
  ): { meeting: MeetingRecord; name: string; keyDigest: string } | null {
    if (!this.#tableExists()) return null;
    const [row] = this.sql
      .exec<MeetingRow & { name: string; key_digest: string }>(
        `SELECT m.*, p.name, p.key_digest FROM meeting_participants p JOIN meetings m ON m.id = p.meeting_id
         WHERE p.participant_id = ? ORDER BY m.started_at DESC LIMIT 1`,
        participantId,
      )
      .toArray();
    return row ? { meeting: toRecord(row), name: row.name, keyDigest: row.key_digest } : null;
  }

  participantCount(meeting: MeetingRecord): number {
    const [row] = this.sql
      .exec<{ n: number }>('SELECT COUNT(*) AS n FROM meeting_participants WHERE meeting_id = ?', meeting.id)
      .toArray();
    return row?.n ?? 0;
  }

  /**
   * Meetings newest first, `limit` of them, started before `before` (ms; a
   * page's cursor), each with its participant count.
   */
  page(limit: number, before: number | null): (MeetingRecord & { participantCount: number })[] {
    if (!this.#tableExists()) return [];
    return this.sql
      .exec<MeetingRow & { participant_count: number }>(
        `SELECT m.*, (SELECT COUNT(*) FROM meeting_participants p WHERE p.meeting_id = m.id)
           AS participant_count
         FROM meetings m WHERE m.started_at < ? ORDER BY m.started_at DESC LIMIT ?`,
        before ?? Number.MAX_SAFE_INTEGER,
        limit,
      )
      .toArray()
      .map((row) => ({ ...toRecord(row), participantCount: row.participant_count }));
  }

  end(meeting: MeetingRecord, endedAt: number): void {
    meeting.endedAt = endedAt;
    this.sql.exec('UPDATE meetings SET ended_at = ? WHERE id = ?', endedAt, meeting.id);
  }

  #first(query: string): MeetingRecord | null {
    if (!this.#tableExists()) return null;
    const row = this.sql.exec<MeetingRow>(query).toArray()[0];
    return row ? toRecord(row) : null;
  }

  #tableExists(): boolean {
    // A read of the schema writes nothing; a room that never met answers from it alone.
    this.#hasTable ??=
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meetings'").toArray()
        .length > 0;
    return this.#hasTable;
  }

  #ensureTable(): void {
    if (this.#hasTable) return;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meetings (
      id TEXT PRIMARY KEY,
      started_at INTEGER NOT NULL,
      ended_at INTEGER,
      peak_participants INTEGER NOT NULL
    )`);
    this.#ensureParticipantsTable();
    this.#hasTable = true;
  }

  /** Made with the meetings table; rooms from before it gain it on their next meeting. */
  #ensureParticipantsTable(): void {
    if (this.#participantsReady) return;
    this.#participantsReady = true;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meeting_participants (
      meeting_id TEXT NOT NULL,
      participant_id TEXT NOT NULL,
      name TEXT NOT NULL,
      key_digest TEXT NOT NULL,
      PRIMARY KEY (meeting_id, participant_id)
    ) WITHOUT ROWID`);
    this.sql.exec(
      'CREATE INDEX IF NOT EXISTS meeting_participants_by_participant ON meeting_participants (participant_id)',
    );
  }
}
