// The gateway's local SQLite file: pairing, allowlists and (later) the outbox. WAL, so the CLI can
// read and approve while the gateway writes. Migrations are forward-only and numbered by position:
// PRAGMA user_version holds how many have run. Never edit or reorder a shipped entry; append one.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { INBOUND_JOURNAL_TABLES } from './inbound-journal.js';
import { OUTBOX_RECOVERED_COLUMN, OUTBOX_TABLES } from './outbox.js';
import { PAIRING_TABLES } from './pairing.js';

export type Database = BetterSqlite3.Database;

export interface Migration {
  /** For messages only; order is what counts. */
  name: string;
  /** SQL run once, inside a transaction. */
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { name: 'pairing and allowlist', sql: PAIRING_TABLES },
  { name: 'outbox', sql: OUTBOX_TABLES },
  { name: 'inbound journal', sql: INBOUND_JOURNAL_TABLES },
  { name: 'outbox: recovered chunks', sql: OUTBOX_RECOVERED_COLUMN },
];

export interface OpenDbOptions {
  /** Replace the migration list (tests of the migration runner itself). */
  migrations?: readonly Migration[];
}

/** Open (creating if needed) the gateway database at `path` and bring its schema up to date. */
export function openDb(path: string, options: OpenDbOptions = {}): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

export function migrate(db: Database, migrations: readonly Migration[]): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new Error(
      `${db.name} has schema version ${applied} but this Switchyard knows ${migrations.length}; ` +
        'it was written by a newer Switchyard. Upgrade Switchyard, or point it at another data dir.',
    );
  }
  migrations.slice(applied).forEach((migration, i) => {
    const version = applied + i + 1;
    db.transaction(() => {
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw new Error(`migration ${version} (${migration.name}) failed on ${db.name}: ${String(error)}`, {
          cause: error,
        });
      }
      db.pragma(`user_version = ${version}`);
    })();
  });
}
