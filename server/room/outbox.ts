/**
 * What the room has to tell the site owner (webhook events, feedback), kept
 * in the room's SQLite until the delivery queue says it was delivered or gave
 * up on it: a message is written in the same event that made it, so a crash
 * between that and the queue loses nothing (the alarm sends it again).
 *
 * Messages of one chain (a meeting's webhook events) are handed to the queue
 * one at a time, the next when the one before is settled: a receiver gets
 * `meeting.started` before `participant.joined` before `meeting.ended`, even
 * when it failed in between and retries reordered the queue. Unchained
 * messages (feedback) all go at once.
 *
 * Messages the queue gave up on move to `dead_letters`, which hosts read in
 * the meeting history. Nothing is written for a room without a webhook or
 * feedback: the tables are made with the first message.
 */
import type { DeadLetter } from '../services/history.js';
import type { OutboundMessage, OutboundTarget } from '../services/outbound.js';

export type { DeadLetter };

/**
 * A message handed to the queue that has not settled after this long is
 * handed over again: longer than every attempt of it could take (20 with the
 * backoff span about three hours), so only one the queue lost (or a room
 * that crashed between marking and handing it over) comes again. Receivers
 * tell a second copy by its id.
 */
export const RESEND_AFTER_MS = 6 * 3600 * 1000;
/** Dead letters a room keeps (the oldest go first). */
export const MAX_DEAD_LETTERS = 500;

interface OutboxRow extends Record<string, SqlStorageValue> {
  id: string;
  room: string;
  seq: number;
  chain: string | null;
  target: string;
  body: string;
  sent_at: number | null;
}

interface DeadRow extends Record<string, SqlStorageValue> {
  id: string;
  target: string;
  type: string;
  chain: string | null;
  reason: string;
  attempts: number;
  failed_at: number;
}

export class Outbox {
  #hasTables: boolean | undefined;

  constructor(
    private readonly sql: SqlStorage,
    /** `RESEND_AFTER_MS` unless a test says otherwise. */
    private readonly resendAfterMs = RESEND_AFTER_MS,
  ) {}

  /**
   * Keeps a message until it settles. A chained one is numbered within its
   * chain (1, 2, …): `body` is made with its number, for receivers to see the
   * order too.
   */
  add(message: {
    room: string;
    id: string;
    chain: string | null;
    target: OutboundTarget;
    body: (sequence: number | undefined) => string;
  }): void {
    this.#ensureTables();
    let sequence: number | undefined;
    if (message.chain !== null) {
      const [row] = this.sql
        .exec<{ last: number }>(
          `INSERT INTO chains (chain, last) VALUES (?, 1)
           ON CONFLICT (chain) DO UPDATE SET last = last + 1 RETURNING last`,
          message.chain,
        )
        .toArray();
      sequence = row!.last;
    }
    this.sql.exec(
      'INSERT OR IGNORE INTO outbox (room, id, chain, target, body, sent_at) VALUES (?, ?, ?, ?, ?, NULL)',
      message.room,
      message.id,
      message.chain,
      message.target,
      message.body(sequence),
    );
  }

  /** A chain will have no more messages (its meeting ended): its counter goes. */
  closeChain(chain: string): void {
    if (this.#tablesExist()) this.sql.exec('DELETE FROM chains WHERE chain = ?', chain);
  }

  /**
   * Messages to hand to the queue now, marked as handed over: every
   * unchained one not handed over yet (or lost: handed over long ago), and
   * the first of each chain likewise.
   */
  takeDue(now: number): OutboundMessage[] {
    if (!this.#tablesExist()) return [];
    const stale = now - this.resendAfterMs;
    const rows = this.sql
      .exec<OutboxRow>(
        `SELECT * FROM outbox o
         WHERE (sent_at IS NULL OR sent_at < ?)
           AND (chain IS NULL OR seq = (SELECT MIN(seq) FROM outbox WHERE chain = o.chain))
         ORDER BY seq`,
        stale,
      )
      .toArray();
    for (const row of rows) this.sql.exec('UPDATE outbox SET sent_at = ? WHERE id = ?', now, row.id);
    return rows.map((row) => ({
      room: row.room,
      id: row.id,
      target: row.target as OutboundTarget,
      body: row.body,
    }));
  }

  /** The queue did not take it: it is due again. */
  unsent(id: string): void {
    this.sql.exec('UPDATE outbox SET sent_at = NULL WHERE id = ?', id);
  }

  /**
   * When something must be handed over (again): now for a message the queue
   * would not take, else when the oldest one handed over is due again; null
   * when the outbox is empty.
   */
  nextDueAt(now: number): number | null {
    if (!this.#tablesExist()) return null;
    const [row] = this.sql
      .exec<{
        unsent: number;
        oldest: number | null;
      }>('SELECT COALESCE(SUM(sent_at IS NULL), 0) AS unsent, MIN(sent_at) AS oldest FROM outbox')
      .toArray();
    if (row && row.unsent > 0) return now;
    return row?.oldest == null ? null : row.oldest + this.resendAfterMs;
  }

  /** Delivered: forgotten. False when it was settled before (a repeated answer from the queue). */
  delivered(id: string): boolean {
    if (!this.#tablesExist()) return false;
    return this.sql.exec('DELETE FROM outbox WHERE id = ?', id).rowsWritten > 0;
  }

  /** Given up on: kept as a dead letter for hosts to see. */
  dead(id: string, reason: string, attempts: number, now: number): boolean {
    if (!this.#tablesExist()) return false;
    const [row] = this.sql.exec<OutboxRow>('SELECT * FROM outbox WHERE id = ?', id).toArray();
    if (!row) return false;
    this.sql.exec('DELETE FROM outbox WHERE id = ?', id);
    this.sql.exec(
      `INSERT OR REPLACE INTO dead_letters (id, target, type, chain, reason, attempts, failed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      id,
      row.target,
      typeOf(row.body),
      row.chain,
      reason.slice(0, 300),
      attempts,
      now,
    );
    this.sql.exec(
      `DELETE FROM dead_letters WHERE id NOT IN
       (SELECT id FROM dead_letters ORDER BY failed_at DESC LIMIT ?)`,
      MAX_DEAD_LETTERS,
    );
    return true;
  }

  deadLetters(limit: number): DeadLetter[] {
    if (!this.#tablesExist()) return [];
    return this.sql
      .exec<DeadRow>('SELECT * FROM dead_letters ORDER BY failed_at DESC LIMIT ?', limit)
      .toArray()
      .map((row) => ({
        id: row.id,
        target: row.target as OutboundTarget,
        type: row.type,
        chain: row.chain,
        reason: row.reason,
        attempts: row.attempts,
        failedAt: row.failed_at,
      }));
  }

  #tablesExist(): boolean {
    this.#hasTables ??=
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").toArray().length >
      0;
    return this.#hasTables;
  }

  #ensureTables(): void {
    if (this.#tablesExist()) return;
    // seq orders a chain: SQLite's rowid grows with every insert.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      room TEXT NOT NULL,
      id TEXT NOT NULL UNIQUE,
      chain TEXT,
      target TEXT NOT NULL,
      body TEXT NOT NULL,
      sent_at INTEGER
    )`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS outbox_chain ON outbox (chain, seq)');
    this.sql.exec('CREATE TABLE IF NOT EXISTS chains (chain TEXT PRIMARY KEY, last INTEGER NOT NULL)');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS dead_letters (
      id TEXT PRIMARY KEY,
      target TEXT NOT NULL,
      type TEXT NOT NULL,
      chain TEXT,
      reason TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      failed_at INTEGER NOT NULL
    )`);
    this.#hasTables = true;
  }
}

function typeOf(body: string): string {
  try {
    const { type } = JSON.parse(body) as { type?: unknown };
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}
