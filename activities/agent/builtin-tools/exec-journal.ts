/**
 * Exactly once for `exec`: before a command starts, its call's key (workflow id, activity id,
 * tool call id — the same for every retry of the call) is written to a SQLite journal in the data
 * directory, synchronously, and only the attempt that wrote it runs the command. A retry finds the
 * key: with the recorded result if the command finished, or "started" if the worker running it
 * died first — then nobody knows how far it got, and it is not run again.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface ExecRecord {
  key: string;
  command: string;
  state: 'started' | 'done';
  startedAt: number;
  finishedAt?: number;
  /** What the call returned (or threw), as recorded when it finished. */
  outcome?: ExecOutcome;
}

/** What a finished call gave the model: text, or an error (failure type and message). */
export type ExecOutcome = { ok: true; text: string } | { ok: false; type: string; message: string };

export type ExecClaim = { run: true } | { run: false; record: ExecRecord };

/** Rows older than this are forgotten when a journal opens (retries never wait that long). */
const KEEP_MS = 30 * 24 * 60 * 60_000;

export class ExecJournal {
  private readonly db: Database.Database;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // "started" must be on disk before the command runs, or a crash could forget it.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS exec_runs (
      key TEXT PRIMARY KEY,
      command TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('started', 'done')),
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      outcome TEXT
    )`);
    this.db.prepare('DELETE FROM exec_runs WHERE started_at < ?').run(this.now() - KEEP_MS);
  }

  /** Claims `key` for this attempt; the first claim wins, every later one reads what was recorded. */
  claim(key: string, command: string): ExecClaim {
    const inserted = this.db
      .prepare(
        "INSERT OR IGNORE INTO exec_runs (key, command, state, started_at) VALUES (?, ?, 'started', ?)",
      )
      .run(key, command, this.now());
    if (inserted.changes === 1) return { run: true };
    return { run: false, record: this.get(key)! };
  }

  finish(key: string, outcome: ExecOutcome): void {
    this.db
      .prepare("UPDATE exec_runs SET state = 'done', finished_at = ?, outcome = ? WHERE key = ?")
      .run(this.now(), JSON.stringify(outcome), key);
  }

  get(key: string): ExecRecord | undefined {
    const row = this.db.prepare('SELECT * FROM exec_runs WHERE key = ?').get(key) as
      | {
          key: string;
          command: string;
          state: 'started' | 'done';
          started_at: number;
          finished_at: number | null;
          outcome: string | null;
        }
      | undefined;
    if (!row) return undefined;
    return {
      key: row.key,
      command: row.command,
      state: row.state,
      startedAt: row.started_at,
      ...(row.finished_at !== null ? { finishedAt: row.finished_at } : {}),
      ...(row.outcome !== null ? { outcome: JSON.parse(row.outcome) as ExecOutcome } : {}),
    };
  }

  close(): void {
    this.db.close();
  }
}
