/**
 * The embedded backend: one SQLite file per agent in the data directory
 * (`<data dir>/memory/<agent>.sqlite`), no server to run. Chunks and their text live in a plain
 * table with an FTS5 index (BM25) over it; vectors in a sqlite-vec `vec0` table (float32, cosine).
 * Up to `exactLimit` chunks, vector search is sqlite-vec's exact scan; above it, an in-memory
 * sign-bit index (bit-index.ts) picks candidates by Hamming distance and their float vectors are
 * scored exactly (docs/benchmarks.md has the figures). A file that is not a database, or a
 * corrupt one, is replaced by an empty index: the markdown files are the source of truth.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import type { BackendStatus, IndexedFile, MemoryBackend } from './backend.js';
import { BitIndex } from './bit-index.js';
import { cosine } from './embedder.js';
import { isCorruption } from './errors.js';
import type { TextCandidate, VectorCandidate } from './hybrid.js';
import { ftsMatch } from './text-query.js';

type Database = BetterSqlite3.Database;

export interface SqliteBackendOptions {
  /** Up to this many chunks, vector search is exact; above, quantised with rescoring. Default 5,000. */
  exactLimit?: number;
  /** Candidates the bit index hands to exact rescoring. Default max(200, 10 × limit). */
  candidates?: (limit: number) => number;
  /** Told when a corrupt file was replaced by an empty one. */
  onRecovered?: (reason: string) => void;
}

const SCHEMA = `
  create table if not exists meta(key text primary key, value text not null);
  create table if not exists files(path text primary key, hash text not null, chunks integer not null);
  create table if not exists chunks(
    id integer primary key,
    path text not null,
    seq integer not null,
    start_line integer not null,
    end_line integer not null,
    hash text not null,
    text text not null
  );
  create index if not exists chunks_by_path on chunks(path);
  create virtual table if not exists chunks_fts using fts5(
    text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
  );
  create virtual table if not exists chunks_vocab using fts5vocab(chunks_fts, 'row');
  -- The float32 vectors again, in a plain table: a point read here takes microseconds where
  -- chunks_vec (vec0, vectors packed in large blobs) takes ~0.3 ms, and a large store's search
  -- reads 20 of them to rescore its candidates exactly. Stores made before it fall back to vec0.
  create table if not exists chunks_f32(id integer primary key, embedding blob not null);
  create trigger if not exists chunks_ad_f32 after delete on chunks begin
    delete from chunks_f32 where id = old.id;
  end;
  create trigger if not exists chunks_ai after insert on chunks begin
    insert into chunks_fts(rowid, text) values (new.id, new.text);
  end;
  create trigger if not exists chunks_ad after delete on chunks begin
    insert into chunks_fts(chunks_fts, rowid, text) values ('delete', old.id, old.text);
  end;
`;

interface ChunkRow {
  id: number;
  path: string;
  start_line: number;
  end_line: number;
  text: string;
}

export function openSqliteBackend(path: string, options: SqliteBackendOptions = {}): MemoryBackend {
  const exactLimit = options.exactLimit ?? 5_000;
  const candidateCount = options.candidates ?? ((limit: number) => Math.max(200, limit * 10));
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db = open();
  let bits: { index: BitIndex; generation: number } | undefined;

  function open(): Database {
    try {
      return init(new BetterSqlite3(path));
    } catch (error) {
      if (!isCorruption(error) || path === ':memory:') throw error;
      options.onRecovered?.(
        `${path} was not a readable index (${(error as Error).message}); starting afresh`,
      );
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      return init(new BetterSqlite3(path));
    }
  }

  function init(d: Database): Database {
    try {
      sqliteVec.load(d);
      d.pragma('journal_mode = WAL');
      d.pragma('synchronous = NORMAL');
      d.pragma('busy_timeout = 5000');
      d.exec(SCHEMA);
      d.prepare('select count(*) from chunks').get();
      return d;
    } catch (error) {
      d.close();
      throw error;
    }
  }

  const meta = (key: string): string | undefined =>
    (db.prepare('select value from meta where key = ?').get(key) as { value: string } | undefined)?.value;
  const setMeta = (key: string, value: string) =>
    db
      .prepare(
        'insert into meta(key, value) values (?, ?) on conflict(key) do update set value = excluded.value',
      )
      .run(key, value);
  const generation = () => Number(meta('generation') ?? 0);
  const hasVectors = () =>
    db.prepare("select 1 from sqlite_master where name = 'chunks_vec'").get() !== undefined;
  const chunkCount = () => (db.prepare('select count(*) as n from chunks').get() as { n: number }).n;

  const rowsById = (ids: number[]): Map<number, ChunkRow> => {
    if (ids.length === 0) return new Map();
    const rows = db
      .prepare(
        `select id, path, start_line, end_line, text from chunks where id in (${ids.map(() => '?').join(',')})`,
      )
      .all(...ids) as ChunkRow[];
    return new Map(rows.map((r) => [r.id, r]));
  };
  const candidate = (r: ChunkRow) => ({
    id: String(r.id),
    path: r.path,
    startLine: r.start_line,
    endLine: r.end_line,
    text: r.text,
  });

  function dropAll(): void {
    db.exec(`
      drop table if exists chunks_vec;
      drop trigger if exists chunks_ad_f32;
      drop table if exists chunks_f32;
      drop trigger if exists chunks_ai;
      drop trigger if exists chunks_ad;
      drop table if exists chunks_vocab;
      drop table if exists chunks_fts;
      drop table if exists chunks;
      drop table if exists files;
      delete from meta where key in ('model', 'dims');
    `);
    db.exec(SCHEMA);
    setMeta('generation', String(generation() + 1));
    bits = undefined;
  }

  /** The bit index, rebuilt when another process changed the store or it has worn out. */
  function bitIndex(dims: number): BitIndex {
    const g = generation();
    if (bits && bits.generation === g && !bits.index.worn) return bits.index;
    const index = new BitIndex(dims);
    const rows = (
      db.prepare('select rowid as id, embedding from chunks_vec').all() as Array<{
        id: number;
        embedding: Buffer;
      }>
    ).map((r) => ({ id: Number(r.id), vector: toVector(r.embedding) }));
    index.build(rows);
    bits = { index, generation: g };
    return index;
  }

  return {
    name: 'sqlite',

    async useModel(model) {
      const current = meta('model');
      if (current === model) return { reset: false };
      const hadChunks = current !== undefined || chunkCount() > 0;
      db.transaction(() => {
        dropAll();
        setMeta('model', model);
      })();
      return { reset: hadChunks };
    },

    async files() {
      const rows = db.prepare('select path, hash, chunks from files').all() as IndexedFile[];
      return new Map(rows.map((r) => [r.path, r]));
    },

    async replaceFile(filePath, hash, chunks) {
      const dims = chunks[0]?.vector.length;
      db.transaction(() => {
        if (dims !== undefined && !hasVectors()) {
          db.exec(
            `create virtual table chunks_vec using vec0(embedding float[${dims}] distance_metric=cosine)`,
          );
          setMeta('dims', String(dims));
        }
        const old = db.prepare('select id from chunks where path = ?').pluck().all(filePath) as number[];
        const deleteVec = hasVectors() ? db.prepare('delete from chunks_vec where rowid = ?') : undefined;
        for (const id of old) {
          deleteVec?.run(BigInt(id));
          bits?.index.remove(id);
        }
        db.prepare('delete from chunks where path = ?').run(filePath);
        const insert = db.prepare(
          'insert into chunks(path, seq, start_line, end_line, hash, text) values (?, ?, ?, ?, ?, ?)',
        );
        const insertVec = hasVectors()
          ? db.prepare('insert into chunks_vec(rowid, embedding) values (?, ?)')
          : undefined;
        const insertF32 = db.prepare('insert into chunks_f32(id, embedding) values (?, ?)');
        for (const c of chunks) {
          if (c.vector.length !== dims)
            throw new Error(`vector of ${c.vector.length} dimensions, store has ${dims}`);
          const id = Number(
            insert.run(filePath, c.seq, c.startLine, c.endLine, c.hash, c.text).lastInsertRowid,
          );
          insertVec!.run(BigInt(id), blob(c.vector));
          insertF32.run(id, blob(c.vector));
          bits?.index.add(id, c.vector);
        }
        db.prepare(
          'insert into files(path, hash, chunks) values (?, ?, ?) on conflict(path) do update set hash = excluded.hash, chunks = excluded.chunks',
        ).run(filePath, hash, chunks.length);
        const g = generation() + 1;
        setMeta('generation', String(g));
        if (bits) bits.generation = g;
      })();
    },

    async removeFile(filePath) {
      db.transaction(() => {
        const old = db.prepare('select id from chunks where path = ?').pluck().all(filePath) as number[];
        if (hasVectors()) {
          const del = db.prepare('delete from chunks_vec where rowid = ?');
          for (const id of old) del.run(BigInt(id));
        }
        for (const id of old) bits?.index.remove(id);
        db.prepare('delete from chunks where path = ?').run(filePath);
        db.prepare('delete from files where path = ?').run(filePath);
        const g = generation() + 1;
        setMeta('generation', String(g));
        if (bits) bits.generation = g;
      })();
    },

    async vectorSearch(vector, limit) {
      if (!hasVectors() || limit <= 0) return [];
      const count = chunkCount();
      let scored: Array<{ id: number; similarity: number }>;
      if (count <= exactLimit) {
        scored = (
          db
            .prepare('select rowid as id, distance from chunks_vec where embedding match ? and k = ?')
            .all(blob(vector), Math.min(limit, 4096)) as Array<{ id: number; distance: number }>
        ).map((r) => ({ id: Number(r.id), similarity: 1 - r.distance }));
      } else {
        // Hamming candidates, re-ranked by their int8 copies; the best few scored exactly.
        const ids = bitIndex(vector.length).nearest(vector, candidateCount(limit), Math.max(limit * 2, 20));
        const read = db.prepare('select embedding from chunks_f32 where id = ?').pluck();
        const readVec = db.prepare('select embedding from chunks_vec where rowid = ?').pluck();
        const embedding = (id: number) => (read.get(id) ?? readVec.get(BigInt(id))) as Buffer;
        scored = ids
          .map((id) => ({ id, similarity: cosine(vector, toVector(embedding(id))) }))
          .sort((a, b) => b.similarity - a.similarity)
          .slice(0, limit);
      }
      const rows = rowsById(scored.map((s) => s.id));
      return scored.flatMap((s): VectorCandidate[] => {
        const r = rows.get(s.id);
        return r ? [{ ...candidate(r), similarity: s.similarity }] : [];
      });
    },

    async textSearch(terms, limit) {
      if (terms.length === 0 || limit <= 0) return [];
      const query = db.prepare(
        `select c.id, c.path, c.start_line, c.end_line, c.text, -bm25(chunks_fts) as relevance
         from chunks_fts join chunks c on c.id = chunks_fts.rowid
         where chunks_fts match ? order by rank limit ?`,
      );
      type Row = ChunkRow & { relevance: number };
      const found = new Map<number, Row>();
      for (const r of query.all(ftsMatch(terms, 'AND'), limit) as Row[]) found.set(r.id, r);
      if (found.size < limit && terms.length > 1) {
        // Any of the terms, but only the rarer ones: a term in most chunks ranks nothing and
        // makes the query scan the whole index.
        const total = Math.max(1, chunkCount());
        const docs = db
          .prepare(`select term, doc from chunks_vocab where term in (${terms.map(() => '?').join(',')})`)
          .all(...terms) as Array<{ term: string; doc: number }>;
        const rare = docs
          .filter((d) => d.doc <= Math.max(50, total * 0.1))
          .sort((a, b) => a.doc - b.doc)
          .slice(0, 6)
          .map((d) => d.term);
        if (rare.length > 0) {
          for (const r of query.all(ftsMatch(rare, 'OR'), limit) as Row[]) {
            if (!found.has(r.id)) found.set(r.id, r);
          }
        }
      }
      return [...found.values()]
        .sort((a, b) => b.relevance - a.relevance)
        .slice(0, limit)
        .map((r) => ({ ...candidate(r), relevance: r.relevance }) satisfies TextCandidate);
    },

    async status(): Promise<BackendStatus> {
      const chunks = chunkCount();
      const files = (db.prepare('select count(*) as n from files').get() as { n: number }).n;
      const dims = meta('dims');
      return {
        backend: 'sqlite',
        model: meta('model'),
        dims: dims ? Number(dims) : undefined,
        files,
        chunks,
        location: path,
        vectorIndex:
          chunks <= exactLimit
            ? `exact float32 cosine scan (sqlite-vec vec0), up to ${exactLimit} chunks`
            : 'sign-bit Hamming candidates (centred) re-ranked by int8 copies, in memory; the best exactly in float32',
      };
    },

    async clear() {
      try {
        db.transaction(() => {
          const model = meta('model');
          dropAll();
          if (model) setMeta('model', model);
        })();
      } catch (error) {
        if (!isCorruption(error) || path === ':memory:') throw error;
        db.close();
        for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
        options.onRecovered?.(`${path} was corrupt (${(error as Error).message}); starting afresh`);
        db = open();
        bits = undefined;
      }
    },

    async close() {
      db.close();
    },
  };
}

function blob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function toVector(b: Buffer): Float32Array {
  // Copy: the buffer better-sqlite3 hands out may not be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}
