// The outbox: one row per reply chunk, written BEFORE the platform call, so a retried send activity
// can tell "already posted" (sent, with the platform's message id) from "never tried" (no row) from
// "the process died mid-call" (pending, or marked uncertain). Claiming is a single INSERT on the
// primary key, so two attempts racing for the same chunk cannot both win.
import type { Database } from './db.js';

export const OUTBOX_TABLES = `
CREATE TABLE outbox (
  key         TEXT    NOT NULL PRIMARY KEY, -- <idempotency key>:<chunk index>
  channel     TEXT    NOT NULL,
  account_id  TEXT    NOT NULL,
  chat_id     TEXT    NOT NULL,
  state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'uncertain')),
  message_id  TEXT,             -- the platform's id, once sent
  text_sha256 TEXT    NOT NULL, -- which text the key was first used for
  claimed_by  TEXT    NOT NULL, -- the gateway run that made the platform call
  error       TEXT,             -- why a chunk became uncertain
  created_at  INTEGER NOT NULL, -- ms since epoch
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_by_age ON outbox (updated_at);
`;

/** Second outbox migration: a chunk of unknown outcome that a channel's `onUncertain` sent again says so. */
export const OUTBOX_RECOVERED_COLUMN = `
ALTER TABLE outbox ADD COLUMN recovered TEXT; -- onUncertain resend/notice: why it was sent again
`;

export type OutboxState = 'pending' | 'sent' | 'uncertain';

export interface OutboxChunk {
  key: string;
  channel: string;
  accountId: string;
  chatId: string;
  textSha256: string;
}

export type OutboxClaim =
  /** No row existed: this caller owns the platform call. */
  | { kind: 'claimed' }
  | { kind: 'sent'; messageId: string }
  /** Claimed by someone whose call has no known outcome: `claimedBy` says which gateway run. */
  | { kind: 'pending'; claimedBy: string; claimedAt: number }
  | { kind: 'uncertain'; claimedAt: number };

export interface OutboxRow {
  key: string;
  channel: string;
  accountId: string;
  chatId: string;
  state: OutboxState;
  messageId?: string;
  claimedBy: string;
  error?: string;
  /** Sent again by the channel's `onUncertain` policy (resend, notice), and why. */
  recovered?: string;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  key: string;
  channel: string;
  account_id: string;
  chat_id: string;
  state: OutboxState;
  message_id: string | null;
  text_sha256: string;
  claimed_by: string;
  error: string | null;
  recovered: string | null;
  created_at: number;
  updated_at: number;
}

export interface OutboxOptions {
  /** Identifies this gateway run in `claimed_by` (pending rows of another run died with it). */
  runId: string;
  now?: () => number;
}

export class Outbox {
  readonly runId: string;
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    options: OutboxOptions,
  ) {
    this.runId = options.runId;
    this.now = options.now ?? Date.now;
  }

  /** Record the chunk as pending unless it is already known; say what is known. */
  claim(chunk: OutboxChunk): OutboxClaim {
    const now = this.now();
    const inserted = this.db
      .prepare(
        `INSERT INTO outbox (key, channel, account_id, chat_id, state, text_sha256, claimed_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
      )
      .run(chunk.key, chunk.channel, chunk.accountId, chunk.chatId, chunk.textSha256, this.runId, now, now);
    if (inserted.changes === 1) return { kind: 'claimed' };
    const row = this.row(chunk.key)!;
    if (row.state === 'sent') return { kind: 'sent', messageId: row.message_id ?? '' };
    if (row.state === 'uncertain') return { kind: 'uncertain', claimedAt: row.created_at };
    return { kind: 'pending', claimedBy: row.claimed_by, claimedAt: row.created_at };
  }

  markSent(key: string, messageId: string): void {
    // From uncertain too: a slow call that finally answered settles the question.
    this.db
      .prepare(`UPDATE outbox SET state = 'sent', message_id = ?, error = NULL, updated_at = ? WHERE key = ?`)
      .run(messageId, this.now(), key);
  }

  /** The call's outcome cannot be known: never retry this chunk. */
  markUncertain(key: string, reason: string): void {
    this.db
      .prepare(
        `UPDATE outbox SET state = 'uncertain', error = ?, updated_at = ? WHERE key = ? AND state = 'pending'`,
      )
      .run(reason, this.now(), key);
  }

  /** The platform certainly did not post it: forget the claim so a retry may send it. */
  release(key: string): void {
    this.db.prepare(`DELETE FROM outbox WHERE key = ? AND state = 'pending'`).run(key);
  }

  /**
   * Take over a chunk of unknown outcome to send it again (the platform drops a repeat of its key).
   * `created_at` stays: it is when the key may first have reached the platform.
   */
  reclaim(key: string, recovered?: string): boolean {
    return (
      this.db
        .prepare(
          `UPDATE outbox SET state = 'pending', claimed_by = ?, error = NULL, updated_at = ?,
             recovered = coalesce(?, recovered)
           WHERE key = ? AND state IN ('pending', 'uncertain')`,
        )
        .run(this.runId, this.now(), recovered ?? null, key).changes === 1
    );
  }

  /**
   * Chunks whose send had an unknown outcome, newest first: those left unsent (`uncertain`) and
   * those a channel's policy sent again (`recovered`).
   */
  uncertain(limit = 100): OutboxRow[] {
    return this.db
      .prepare<[number], Row>(
        `SELECT * FROM outbox WHERE state = 'uncertain' OR recovered IS NOT NULL ORDER BY updated_at DESC LIMIT ?`,
      )
      .all(limit)
      .map(toOutboxRow);
  }

  /** The latest rows, newest first. */
  recent(limit = 50): OutboxRow[] {
    return this.db
      .prepare<[number], Row>('SELECT * FROM outbox ORDER BY updated_at DESC LIMIT ?')
      .all(limit)
      .map(toOutboxRow);
  }

  /** How many chunks are uncertain (unsent) and how many were sent again by a policy. */
  uncertainCounts(): { uncertain: number; resent: number } {
    const row = this.db
      .prepare<[], { uncertain: number; resent: number }>(
        `SELECT coalesce(sum(state = 'uncertain'), 0) AS uncertain,
                coalesce(sum(recovered IS NOT NULL AND state = 'sent'), 0) AS resent FROM outbox`,
      )
      .get();
    return row ?? { uncertain: 0, resent: 0 };
  }

  get(key: string): OutboxRow | undefined {
    const row = this.row(key);
    return row && toOutboxRow(row);
  }

  /** Rows for one idempotency key (all its chunks), in chunk order. */
  chunksOf(idempotencyKey: string): OutboxRow[] {
    // Keys of one idempotency key sort between "<key>:" and "<key>;" (';' follows ':').
    const rows = this.db
      .prepare<[string, string], Row>('SELECT * FROM outbox WHERE key >= ? AND key < ?')
      .all(`${idempotencyKey}:`, `${idempotencyKey};`);
    const index = (row: Row) => Number(row.key.slice(idempotencyKey.length + 1));
    return rows
      .filter((row) => /^\d+$/.test(row.key.slice(idempotencyKey.length + 1)))
      .sort((a, b) => index(a) - index(b))
      .map(toOutboxRow);
  }

  /**
   * Forget settled rows older than `olderThanMs`. Keep it well beyond the longest retry window of
   * a send activity, or a very late retry would post again.
   */
  prune(olderThanMs: number): number {
    return this.db
      .prepare(`DELETE FROM outbox WHERE updated_at < ? AND state != 'pending'`)
      .run(this.now() - olderThanMs).changes;
  }

  private row(key: string): Row | undefined {
    return this.db.prepare<[string], Row>('SELECT * FROM outbox WHERE key = ?').get(key);
  }
}

function toOutboxRow(row: Row): OutboxRow {
  return {
    key: row.key,
    channel: row.channel,
    accountId: row.account_id,
    chatId: row.chat_id,
    state: row.state,
    claimedBy: row.claimed_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.message_id === null ? {} : { messageId: row.message_id }),
    ...(row.error === null ? {} : { error: row.error }),
    ...(row.recovered === null || row.recovered === undefined ? {} : { recovered: row.recovered }),
  };
}
