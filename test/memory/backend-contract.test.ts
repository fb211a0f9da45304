// One contract for every memory backend: the embedded SQLite store always, Qdrant when QDRANT_URL
// points at a server (docs/memory.md: `docker compose up -d qdrant`, then
// `QDRANT_URL=http://127.0.0.1:6333 npx vitest run test/memory/backend-contract.test.ts`).
// Without it the Qdrant half is reported as NOT RUN, by name, in the test output.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFailure } from '../../activities/memory.js';
import { Failures, RETRYABLE_FAILURES } from '../../engine/failures.js';
import type { MemoryBackend, StoredChunk } from '../../memory/backend.js';
import { chunkMarkdown, sha256 } from '../../memory/chunker.js';
import { normalise } from '../../memory/embedder.js';
import { MemoryError } from '../../memory/errors.js';
import { openQdrantBackend } from '../../memory/qdrant-backend.js';
import { openSqliteBackend } from '../../memory/sqlite-backend.js';

const DIMS = 16;

/** A direction per topic: chunks about the same topic point the same way. */
function vectorOf(topic: number, noise = 0): Float32Array {
  const v = new Float32Array(DIMS);
  v[topic % DIMS] = 1;
  v[(topic * 7 + 3) % DIMS]! += 0.3;
  if (noise) v[(topic + 5) % DIMS]! += noise;
  return normalise(v);
}

function chunk(seq: number, text: string, topic: number, line = seq * 2 + 1): StoredChunk {
  return { seq, text, startLine: line, endLine: line + 1, hash: sha256(text), vector: vectorOf(topic) };
}

const qdrantUrl = process.env.QDRANT_URL?.trim();
const backends: Array<{ name: string; open: () => MemoryBackend; run: boolean }> = [
  {
    name: 'sqlite (embedded)',
    open: () => openSqliteBackend(join(mkdtempSync(join(tmpdir(), 'switchyard-contract-')), 'main.sqlite')),
    run: true,
  },
  {
    name: qdrantUrl
      ? `qdrant at ${qdrantUrl}`
      : 'qdrant — NOT RUN: QDRANT_URL is not set (no Qdrant server here)',
    open: () =>
      openQdrantBackend({
        url: qdrantUrl!,
        collectionPrefix: `switchyard-contract-${Date.now().toString(36)}`,
      }),
    run: Boolean(qdrantUrl),
  },
];
if (!qdrantUrl) {
  console.warn(
    '[memory contract] The Qdrant backend was NOT tested: QDRANT_URL is not set. Run `docker compose up -d qdrant` and QDRANT_URL=http://127.0.0.1:6333 npx vitest run test/memory/backend-contract.test.ts',
  );
}

for (const backend of backends) {
  describe.skipIf(!backend.run)(`memory backend contract: ${backend.name}`, () => {
    let store: MemoryBackend;
    beforeAll(async () => {
      store = backend.open();
      expect(await store.useModel('test:model-a')).toEqual({ reset: false });
    });
    afterAll(async () => {
      await store?.clear();
      await store?.close();
    });

    it('starts empty', async () => {
      expect((await store.files()).size).toBe(0);
      expect(await store.vectorSearch(vectorOf(1), 5)).toEqual([]);
      expect(await store.textSearch(['anything'], 5)).toEqual([]);
    });

    it('lists a stored file by path, content hash and chunk count', async () => {
      await store.replaceFile('MEMORY.md', 'hash-1', [
        chunk(0, 'My daughter is called Ana and she loves horses.', 1),
        chunk(1, 'Invoice INV-2024-0087 from Acme is unpaid.', 2),
        chunk(2, 'The recycling goes out on Thursdays.', 3),
      ]);
      await store.replaceFile('memory/2026-03-04.md', 'hash-2', [
        chunk(0, 'Dentist with Dr. Patel on 12 April.', 4),
      ]);
      const files = await store.files();
      expect([...files.values()].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
        { path: 'MEMORY.md', hash: 'hash-1', chunks: 3 },
        { path: 'memory/2026-03-04.md', hash: 'hash-2', chunks: 1 },
      ]);
      expect(await store.status()).toMatchObject({ files: 2, chunks: 4, dims: DIMS, model: 'test:model-a' });
    });

    it('finds the nearest chunk by vector first, with its path, lines and cosine similarity', async () => {
      const hits = await store.vectorSearch(vectorOf(2, 0.1), 3);
      expect(hits[0]).toMatchObject({
        path: 'MEMORY.md',
        startLine: 3,
        endLine: 4,
        text: expect.stringContaining('INV-2024-0087'),
      });
      expect(hits[0]!.similarity).toBeGreaterThan(0.9);
      expect(hits.map((h) => h.similarity)).toEqual([...hits.map((h) => h.similarity)].sort((a, b) => b - a));
    });

    it('finds chunks by keywords, those with every term first, and reads ids and codes whole', async () => {
      const both = await store.textSearch(['daughter', 'horses'], 5);
      expect(both[0]!.text).toContain('Ana');
      const one = await store.textSearch(['horses', 'thursdays'], 5);
      expect(one.map((c) => c.text).sort()).toEqual([
        'My daughter is called Ana and she loves horses.',
        'The recycling goes out on Thursdays.',
      ]);
      expect((await store.textSearch(['inv', '2024', '0087'], 5))[0]!.text).toContain('Acme');
      expect(one.every((c) => c.relevance > 0)).toBe(true);
    });

    it('replaces a file whole and removes one', async () => {
      await store.replaceFile('MEMORY.md', 'hash-3', [chunk(0, 'My daughter is called Ana.', 1)]);
      expect((await store.files()).get('MEMORY.md')).toEqual({
        path: 'MEMORY.md',
        hash: 'hash-3',
        chunks: 1,
      });
      expect(await store.textSearch(['invoice'], 5)).toEqual([]);
      await store.removeFile('memory/2026-03-04.md');
      expect([...(await store.files()).keys()]).toEqual(['MEMORY.md']);
      expect(await store.textSearch(['dentist'], 5)).toEqual([]);
      expect((await store.vectorSearch(vectorOf(4), 5)).map((h) => h.path)).toEqual(['MEMORY.md']);
    });

    it('drops every vector when the embedding model changes, and when cleared', async () => {
      expect(await store.useModel('test:model-b')).toEqual({ reset: true });
      expect((await store.files()).size).toBe(0);
      expect(await store.vectorSearch(vectorOf(1), 5)).toEqual([]);
      await store.replaceFile('MEMORY.md', 'hash-4', [chunk(0, 'Sam is allergic to peanuts.', 5)]);
      expect(await store.status()).toMatchObject({ model: 'test:model-b', chunks: 1 });
      await store.clear();
      expect((await store.files()).size).toBe(0);
    });
  });
}

describe('the embedded store above its exact limit (sign-bit candidates, exact rescoring)', () => {
  it('returns the same top hits as the exact scan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-bits-'));
    const exact = openSqliteBackend(join(dir, 'exact.sqlite'));
    const quantised = openSqliteBackend(join(dir, 'bits.sqlite'), { exactLimit: 50 });
    let seed = 7;
    const random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return (seed / 2 ** 32) * 2 - 1;
    };
    const vec = () => normalise(Float32Array.from({ length: 64 }, random));
    for (const store of [exact, quantised]) await store.useModel('test:random');
    for (let f = 0; f < 20; f++) {
      const chunks = Array.from({ length: 30 }, (_, i) => ({
        ...chunk(i, `file ${f} chunk ${i}`, 0),
        vector: vec(),
      }));
      for (const store of [exact, quantised]) await store.replaceFile(`memory/${f}.md`, `h${f}`, chunks);
    }
    expect((await quantised.status()).vectorIndex).toMatch(/sign-bit/);
    let same = 0;
    for (let q = 0; q < 20; q++) {
      const query = vec();
      const a = (await exact.vectorSearch(query, 10)).map((h) => h.text);
      const b = (await quantised.vectorSearch(query, 10)).map((h) => h.text);
      same += b.filter((t) => a.includes(t)).length;
    }
    // 200 of 600 chunks are rescored per query: the top 10 match the exact scan (nearly) always.
    expect(same / 200).toBeGreaterThanOrEqual(0.95);
    // The hits' similarities are exact (float32), read from chunks_f32 — and from chunks_vec for
    // chunks of a store made before that table (emptied here to stand for one).
    const query = vec();
    const exactHits = new Map((await exact.vectorSearch(query, 10)).map((h) => [h.text, h.similarity]));
    const check = async () => {
      const hits = await quantised.vectorSearch(query, 10);
      expect(hits.length).toBe(10);
      for (const h of hits)
        if (exactHits.has(h.text)) expect(h.similarity).toBeCloseTo(exactHits.get(h.text)!, 6);
      return hits.map((h) => h.text);
    };
    const before = await check();
    await quantised.close();
    const raw = new Database(join(dir, 'bits.sqlite'));
    expect((raw.prepare('select count(*) as n from chunks_f32').get() as { n: number }).n).toBe(600);
    raw.exec('delete from chunks_f32');
    raw.close();
    const older = openSqliteBackend(join(dir, 'bits.sqlite'), { exactLimit: 50 });
    expect(
      await (async () => {
        const hits = await older.vectorSearch(query, 10);
        for (const h of hits)
          if (exactHits.has(h.text)) expect(h.similarity).toBeCloseTo(exactHits.get(h.text)!, 6);
        return hits.map((h) => h.text);
      })(),
    ).toEqual(before);
    // New chunks get their row; a file replaced or removed takes its rows with it.
    const f32Rows = () => {
      const db = new Database(join(dir, 'bits.sqlite'), { readonly: true });
      const n = (db.prepare('select count(*) as n from chunks_f32').get() as { n: number }).n;
      db.close();
      return n;
    };
    const two = [0, 1].map((i) => ({ ...chunk(i, `new chunk ${i}`, 0), vector: vec() }));
    await older.replaceFile('memory/0.md', 'h0-new', two);
    expect(f32Rows()).toBe(2);
    await older.replaceFile('memory/0.md', 'h0-newer', two.slice(0, 1));
    expect(f32Rows()).toBe(1);
    await older.removeFile('memory/0.md');
    expect(f32Rows()).toBe(0);
    await older.close();
    await exact.close();
  });
});

describe('chunking', () => {
  it('keeps line ranges, starts a chunk at each heading, and cuts long sections with overlap', () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');
    const text = [
      '# Title',
      '',
      '## A',
      words(10),
      '',
      '## B',
      ...Array.from({ length: 12 }, () => words(20)),
    ].join('\n');
    const chunks = chunkMarkdown(text, {
      maxTokens: 70,
      overlapTokens: 25,
      countTokens: (t) => t.split(/\s+/).filter(Boolean).length,
    });
    expect(chunks[0]).toMatchObject({ startLine: 1, endLine: 4 });
    expect(chunks[1]!.startLine).toBe(6);
    expect(chunks.every((c) => c.text.split(/\s+/).length <= 70)).toBe(true);
    // Overlap: each later chunk of section B starts with the last line of the one before.
    for (let i = 2; i < chunks.length; i++) expect(chunks[i]!.startLine).toBe(chunks[i - 1]!.endLine);
    expect(chunks.at(-1)!.endLine).toBe(18);
  });
});

describe('an unreachable Qdrant', () => {
  it('fails with an error that names the server and what to fix, retried as MemoryStoreUnavailable', async () => {
    const store = openQdrantBackend({
      url: 'http://127.0.0.1:9',
      collectionPrefix: 'switchyard-unreachable',
    });
    const error = await store.useModel('test:model').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryError);
    expect(error).toMatchObject({ kind: 'store-unavailable' });
    expect((error as Error).message).toMatch(
      /^Qdrant at http:\/\/127\.0\.0\.1:9 is not reachable when asked to list collections: .*Start Qdrant \(docker compose up -d qdrant\) or fix memory\.qdrant\.url$/,
    );
    const failure = memoryFailure(error) as ApplicationFailure;
    expect(failure).toMatchObject({ type: Failures.MemoryStoreUnavailable, nonRetryable: false });
    expect(RETRYABLE_FAILURES).toContain(Failures.MemoryStoreUnavailable);
  });
});
