/**
 * Embeddings by content: (model, sha256 of the chunk text) → vector, in a SQLite file of the data
 * directory shared by every agent and backend. A chunk that did not change, moved within its file
 * or reappears after an edit is never sent to the model again, and switching back to an earlier
 * model costs nothing for what it already saw.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Embedder } from './embedder.js';
import { isCorruption } from './errors.js';

export interface EmbeddingCache {
  /** Vectors for `texts` (by their hashes), embedding only the ones not cached. */
  embed(
    embedder: Embedder,
    items: Array<{ hash: string; text: string }>,
  ): Promise<{ vectors: Float32Array[]; embedded: number }>;
  close(): void;
}

export function openEmbeddingCache(path: string): EmbeddingCache {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const open = () => {
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(
      'create table if not exists embeddings(model text not null, hash text not null, vector blob not null, primary key (model, hash)) without rowid',
    );
    return db;
  };
  let db: BetterSqlite3.Database;
  try {
    db = open();
  } catch (error) {
    if (!isCorruption(error) || path === ':memory:') throw error;
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    db = open();
  }
  const get = db.prepare('select vector from embeddings where model = ? and hash = ?').pluck();
  const put = db.prepare('insert or replace into embeddings(model, hash, vector) values (?, ?, ?)');

  return {
    async embed(embedder, items) {
      const vectors: Array<Float32Array | undefined> = items.map((item) => {
        const b = get.get(embedder.id, item.hash) as Buffer | undefined;
        if (!b) return undefined;
        const v = new Float32Array(b.byteLength / 4);
        new Uint8Array(v.buffer).set(b);
        return v;
      });
      const missing = items.flatMap((item, i) => (vectors[i] ? [] : [{ ...item, i }]));
      // The same text twice in one batch is embedded once.
      const unique = [...new Map(missing.map((m) => [m.hash, m])).values()];
      if (unique.length > 0) {
        const fresh = await embedder.embed(unique.map((m) => m.text));
        const byHash = new Map(unique.map((m, k) => [m.hash, fresh[k]!]));
        db.transaction(() => {
          for (const [hash, v] of byHash)
            put.run(embedder.id, hash, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        })();
        for (const m of missing) vectors[m.i] = byHash.get(m.hash);
      }
      return { vectors: vectors as Float32Array[], embedded: unique.length };
    },
    close() {
      db.close();
    },
  };
}
