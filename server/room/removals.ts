/**
 * Who a host removed from the room, remembered so that they cannot come
 * straight back in:
 * - by join token (its digest), until the token expires: every connection
 *   with it is refused (`removed`), whoever's page it is in;
 * - by participant, with the digest of their resume key, so that a page that
 *   missed its removal while its connection was down does not resume or join
 *   again by itself when it comes back.
 * In open rooms a removed visitor can still come back as a new visitor (a
 * new page, a new participant); nothing identifies them but their page.
 *
 * Kept in memory and in the room's SQLite (a restart of the Worker keeps
 * them), at most `MAX_REMOVALS` rows: expired ones go first, then those that
 * expire soonest. Nothing is written for a room where nobody was removed.
 */
import { constantTimeEqual } from './connections.js';

/** Rows a room keeps at most (a few hundred bytes each). */
export const MAX_REMOVALS = 256;
/** How long a removed participant's page is refused without a token: longer than a laptop sleeps. */
export const REMOVED_PARTICIPANT_MS = 24 * 3600 * 1000;

export interface Removal {
  /** The name of the host who removed them, for the message they get. */
  byName: string;
  /** When the room forgets it (ms since the epoch). */
  until: number;
}

interface RemovalRow extends Record<string, SqlStorageValue> {
  key: string;
  resume_digest: string | null;
  by_name: string;
  until: number;
}

interface Stored extends Removal {
  resumeDigest: string | null;
}

const tokenKey = (digest: string) => `token:${digest}`;
const participantKey = (id: string) => `participant:${id}`;

export class Removals {
  readonly #byKey = new Map<string, Stored>();
  #tableReady = false;

  constructor(private readonly sql: SqlStorage) {}

  /** Reads them back after hibernation or a restart; nothing is read for a room that removed nobody. */
  load(): void {
    const table = this.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'removals'")
      .toArray();
    if (table.length === 0) return;
    this.#tableReady = true;
    for (const row of this.sql.exec<RemovalRow>('SELECT * FROM removals')) {
      this.#byKey.set(row.key, { byName: row.by_name, until: row.until, resumeDigest: row.resume_digest });
    }
  }

  /** Remembers a removed participant: their page for a day, their join token (if any) until it expires. */
  add(
    removed: { id: string; resumeDigest: string; token: { digest: string; expiresAt: number } | null },
    byName: string,
    now: number,
  ): void {
    this.#put(participantKey(removed.id), {
      byName,
      until: now + REMOVED_PARTICIPANT_MS,
      resumeDigest: removed.resumeDigest,
    });
    if (removed.token)
      this.#put(tokenKey(removed.token.digest), {
        byName,
        until: removed.token.expiresAt * 1000,
        resumeDigest: null,
      });
    this.#prune(now);
  }

  /** The removal that keeps this join token out, if any. */
  ofToken(digest: string, now: number): Removal | null {
    return this.#live(tokenKey(digest), now);
  }

  /** The removal of this participant, if `resumeDigest` proves the connection is their page. */
  ofParticipant(id: string, resumeDigest: string, now: number): Removal | null {
    const removal = this.#live(participantKey(id), now);
    return removal?.resumeDigest && constantTimeEqual(removal.resumeDigest, resumeDigest) ? removal : null;
  }

  #live(key: string, now: number): Stored | null {
    const removal = this.#byKey.get(key);
    return removal && removal.until > now ? removal : null;
  }

  #put(key: string, removal: Stored): void {
    this.#byKey.set(key, removal);
    this.#ensureTable();
    this.sql.exec(
      `INSERT INTO removals (key, resume_digest, by_name, until) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET resume_digest = excluded.resume_digest,
         by_name = excluded.by_name, until = excluded.until`,
      key,
      removal.resumeDigest,
      removal.byName,
      removal.until,
    );
  }

  /** Drops what has expired, then what expires soonest while there are too many. */
  #prune(now: number): void {
    const rows = [...this.#byKey].sort(([, a], [, b]) => b.until - a.until);
    const dropped = rows.filter(([, removal], index) => removal.until <= now || index >= MAX_REMOVALS);
    for (const [key] of dropped) {
      this.#byKey.delete(key);
      this.sql.exec('DELETE FROM removals WHERE key = ?', key);
    }
  }

  #ensureTable(): void {
    if (this.#tableReady) return;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS removals (
      key TEXT PRIMARY KEY,
      resume_digest TEXT,
      by_name TEXT NOT NULL,
      until INTEGER NOT NULL
    )`);
    this.#tableReady = true;
  }
}
