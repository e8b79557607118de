/**
 * Who is in the meeting: every joined participant, connected or
 * reconnecting, with what the room must keep to resume them (their state,
 * their Calls session, a digest of their resume key). Kept in memory and
 * written through to the room's SQLite on each change (never per heartbeat),
 * so a participant survives hibernation, a dropped connection and a restart
 * of the Worker. Nothing is written for a room where nobody joined.
 */
import type { LeaveReason, Participant } from '../../src/protocol/index.js';
import type { CallsBinding } from './media-gateway.js';

export interface Member {
  participant: Participant;
  /** Their Calls session and what it publishes and pulls; null before their first media request. */
  calls: CallsBinding | null;
  /** SHA-256 (hex) of the resume key of their latest connection. */
  resumeDigest: string;
  /** When their connection dropped; null while connected. */
  disconnectedAt: number | null;
  /** How it dropped, for the leave that follows if they do not come back. */
  dropReason: Extract<LeaveReason, 'disconnected' | 'timed-out'> | null;
  /** The join token they came with (its digest and `exp`), so a removal can keep it out. */
  token: { digest: string; expiresAt: number } | null;
}

interface MemberRow extends Record<string, SqlStorageValue> {
  id: string;
  participant: string;
  calls: string | null;
  resume_digest: string;
  disconnected_at: number | null;
  drop_reason: string | null;
  token: string | null;
}

export class Roster {
  readonly #members = new Map<string, Member>();
  #tableReady = false;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the members back (after hibernation or a restart); nothing is read for a room that never met. */
  load(): void {
    if (!this.#hasTable()) return;
    this.#addTokenColumn();
    this.#tableReady = true;
    for (const row of this.storage.sql.exec<MemberRow>('SELECT * FROM members')) {
      this.#members.set(row.id, {
        participant: JSON.parse(row.participant) as Participant,
        calls: row.calls ? (JSON.parse(row.calls) as CallsBinding) : null,
        resumeDigest: row.resume_digest,
        disconnectedAt: row.disconnected_at,
        dropReason: row.drop_reason as Member['dropReason'],
        token: row.token ? (JSON.parse(row.token) as Member['token']) : null,
      });
    }
  }

  get(id: string): Member | undefined {
    return this.#members.get(id);
  }

  get size(): number {
    return this.#members.size;
  }

  members(): IterableIterator<Member> {
    return this.#members.values();
  }

  /** Everyone in the meeting, reconnecting ones included, in join order. */
  participants(): Participant[] {
    return [...this.#members.values()].map((m) => m.participant).sort((a, b) => a.joinedAt - b.joinedAt);
  }

  add(member: Member): void {
    this.#members.set(member.participant.id, member);
    this.save(member);
  }

  /** Writes one member after a change to it. */
  save(member: Member): void {
    this.#ensureTable();
    this.storage.sql.exec(
      `INSERT INTO members (id, participant, calls, resume_digest, disconnected_at, drop_reason, token)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET participant = excluded.participant, calls = excluded.calls,
         resume_digest = excluded.resume_digest, disconnected_at = excluded.disconnected_at,
         drop_reason = excluded.drop_reason, token = excluded.token`,
      member.participant.id,
      JSON.stringify(member.participant),
      member.calls ? JSON.stringify(member.calls) : null,
      member.resumeDigest,
      member.disconnectedAt,
      member.dropReason,
      member.token ? JSON.stringify(member.token) : null,
    );
  }

  remove(id: string): void {
    if (!this.#members.delete(id)) return;
    this.storage.sql.exec('DELETE FROM members WHERE id = ?', id);
  }

  clear(): void {
    if (this.#members.size === 0 && !this.#tableReady) return;
    this.#members.clear();
    this.#ensureTable();
    this.storage.sql.exec('DELETE FROM members');
  }

  #hasTable(): boolean {
    return (
      this.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'members'").toArray()
        .length > 0
    );
  }

  #ensureTable(): void {
    if (this.#tableReady) return;
    this.storage.sql.exec(`CREATE TABLE IF NOT EXISTS members (
      id TEXT PRIMARY KEY,
      participant TEXT NOT NULL,
      calls TEXT,
      resume_digest TEXT NOT NULL,
      disconnected_at INTEGER,
      drop_reason TEXT,
      token TEXT
    )`);
    this.#tableReady = true;
  }

  /** Rooms stored before members had a token column get one (empty: nobody there had a token's expiry). */
  #addTokenColumn(): void {
    const columns = this.storage.sql.exec<{ name: string }>('PRAGMA table_info(members)').toArray();
    if (!columns.some((column) => column.name === 'token'))
      this.storage.sql.exec('ALTER TABLE members ADD COLUMN token TEXT');
  }
}
