import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, type Migration, openDb } from '../../gateway/store/db.js';
import { tempDir } from './fixtures.js';

function withDb<T>(
  path: string,
  migrations: readonly Migration[] | undefined,
  fn: (db: BetterSqlite3.Database) => T,
): T {
  const db = openDb(path, migrations ? { migrations } : {});
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe('gateway database', () => {
  it('creates its directory and file, in WAL mode, with every migration applied', () => {
    const path = join(tempDir(), 'nested', 'gateway.sqlite');
    withDb(path, undefined, (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(expect.arrayContaining(['allowed_senders', 'pairing_requests']));
    });
  });

  it('runs only the migrations appended since the last open', () => {
    const path = join(tempDir(), 'gateway.sqlite');
    const first: Migration[] = [{ name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' }];
    withDb(path, first, (db) => db.prepare('INSERT INTO notes (id) VALUES (1)').run());
    const second = [...first, { name: 'tags', sql: 'CREATE TABLE tags (id INTEGER PRIMARY KEY)' }];
    withDb(path, second, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare('SELECT count(*) FROM notes').pluck().get()).toBe(1);
    });
  });

  it('leaves the database untouched when a migration fails, and names it', () => {
    const path = join(tempDir(), 'gateway.sqlite');
    const broken: Migration[] = [
      { name: 'notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' },
      { name: 'typo', sql: 'CREATE TABLE tags (id INTEGER PRIMARY KEY); CREATE TABEL oops (x)' },
    ];
    expect(() => openDb(path, { migrations: broken })).toThrow(/migration 2 \(typo\) failed/);
    withDb(path, broken.slice(0, 1), (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'tags'").get()).toBeUndefined();
    });
  });

  it('refuses a database written by a newer Switchyard', () => {
    const path = join(tempDir(), 'gateway.sqlite');
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openDb(path)).toThrow(/written by a newer Switchyard/);
  });
});
