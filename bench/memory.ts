/**
 * Memory: the embedded store at 100,000 chunks and the local embedding model.
 * - Search: 100,000 chunks of Zipf-distributed text (~60 words) with clustered 384-dimensional
 *   unit vectors that share a common component (as MiniLM's do), stored through the real SQLite
 *   backend; 200 queries (a perturbed chunk vector + three of its words). Vector search (sign-bit
 *   candidates + exact rescoring), keyword search (FTS5) and the whole hybrid search (both +
 *   fusion, what memory_search and memory.recall run, without embedding the query), p50/p99;
 *   recall@10 of the vector half against an exact float32 scan.
 * - The local model: load time, one query, one ~200-wordpiece chunk (p50 per chunk), and
 *   indexing throughput end to end (notes → chunks → embeddings → store) in chunks/s.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryConfig } from '../config/config.js';
import type { StoredChunk } from '../memory/backend.js';
import { sha256 } from '../memory/chunker.js';
import { cosine, normalise } from '../memory/embedder.js';
import { fuse } from '../memory/hybrid.js';
import { createLocalEmbedder } from '../memory/local-embedder.js';
import { createMemoryService } from '../memory/service.js';
import { openSqliteBackend } from '../memory/sqlite-backend.js';
import { textTerms } from '../memory/text-query.js';
import type { Measurement } from './types.js';

const N = Number(process.env.SWITCHYARD_BENCH_MEMORY_CHUNKS ?? 100_000);
const DIMS = 384;
const QUERIES = 200;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const r = rng(11);
const gauss = () => {
  let u = 0;
  while (!u) u = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
};
const COMMON = normalise(Float32Array.from({ length: DIMS }, gauss));
const CENTRES = Array.from({ length: 2000 }, () => normalise(Float32Array.from({ length: DIMS }, gauss)));
function member(centre: Float32Array, spread: number): Float32Array {
  const v = new Float32Array(DIMS);
  for (let d = 0; d < DIMS; d++) v[d] = 0.8 * COMMON[d]! + centre[d]! + (spread * gauss()) / Math.sqrt(DIMS);
  return normalise(v);
}

// English-like text: 100 function words and a Zipf tail of content words.
const FUNCTION =
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more go see no way could people my than first been call who its now find long down day did get come made may part'.split(
    ' ',
  );
const CONTENT = Array.from({ length: 50_000 }, (_, i) => `c${i.toString(36)}`);
const ALL = [...FUNCTION, ...CONTENT];
const CDF = (() => {
  const c = new Float64Array(ALL.length);
  let acc = 0;
  for (let i = 0; i < ALL.length; i++) c[i] = acc += 1 / (i + 1);
  return c.map((x) => x / acc);
})();
function word(): string {
  const u = r();
  let lo = 0;
  let hi = CDF.length - 1;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (CDF[m]! < u) lo = m + 1;
    else hi = m;
  }
  return ALL[lo]!;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export const memory: Measurement = {
  name: 'memory',
  description: `memory: hybrid search over ${N.toLocaleString('en')} chunks (embedded store), local model latency, indexing chunks/s`,
  async run(ctx) {
    const dir = mkdtempSync(join(ctx.tmp, 'memory-'));
    // --- the store at N chunks ---
    const store = openSqliteBackend(join(dir, 'bench.sqlite'));
    await store.useModel('bench:synthetic-384');
    const vectors = new Float32Array(N * DIMS);
    const texts: string[] = [];
    const centreOf = new Uint16Array(N);
    const perFile = 100;
    let t0 = performance.now();
    for (let f = 0; f < N / perFile; f++) {
      const chunks: StoredChunk[] = [];
      for (let i = 0; i < perFile; i++) {
        const id = f * perFile + i;
        const c = Math.floor(r() * CENTRES.length);
        centreOf[id] = c;
        const v = member(CENTRES[c]!, 0.6);
        vectors.set(v, id * DIMS);
        const text = Array.from({ length: 60 }, word).join(' ');
        texts.push(text);
        chunks.push({
          seq: i,
          text,
          startLine: i * 3 + 1,
          endLine: i * 3 + 2,
          hash: sha256(text),
          vector: v,
        });
      }
      await store.replaceFile(`memory/${f}.md`, `h${f}`, chunks);
    }
    const storeMs = performance.now() - t0;
    ctx.log(`memory: stored ${N} chunks in ${(storeMs / 1000).toFixed(1)} s`);
    const status = await store.status();

    const queries = Array.from({ length: QUERIES }, () => {
      const id = Math.floor(r() * N);
      const v = new Float32Array(DIMS);
      const base = vectors.subarray(id * DIMS, (id + 1) * DIMS);
      for (let d = 0; d < DIMS; d++) v[d] = base[d]! + (0.5 * gauss()) / Math.sqrt(DIMS);
      const content = texts[id]!.split(' ').filter((w) => w.startsWith('c'));
      return { vector: normalise(v), text: content.slice(0, 3).join(' ') };
    });
    // Warm: the first vector search builds the in-memory bit index.
    t0 = performance.now();
    await store.vectorSearch(queries[0]!.vector, 24);
    const indexBuildMs = performance.now() - t0;

    const limit = 24; // maxResults 6 × candidateMultiplier 4, what memory_search fetches
    const vectorMs: number[] = [];
    const textMs: number[] = [];
    const hybridMs: number[] = [];
    let found = 0;
    for (const q of queries) {
      let s = performance.now();
      const byVector = await store.vectorSearch(q.vector, limit);
      vectorMs.push(performance.now() - s);
      s = performance.now();
      const byText = await store.textSearch(textTerms(q.text), limit);
      textMs.push(performance.now() - s);
      s = performance.now();
      const [v2, t2] = await Promise.all([
        store.vectorSearch(q.vector, limit),
        store.textSearch(textTerms(q.text), limit),
      ]);
      fuse(v2, t2, { vectorWeight: 0.7, textWeight: 0.3 }).slice(0, 10);
      hybridMs.push(performance.now() - s);
      void byText;
      // recall@10 of the vector half against an exact scan of every vector
      const exact: Array<[number, number]> = [];
      for (let id = 0; id < N; id++) {
        const sim = cosine(q.vector, vectors.subarray(id * DIMS, (id + 1) * DIMS));
        if (exact.length < 10 || sim > exact[9]![1]) {
          exact.push([id, sim]);
          exact.sort((a, b) => b[1] - a[1]);
          exact.length = Math.min(10, exact.length);
        }
      }
      const truth = new Set(exact.map(([id]) => texts[id]));
      found += byVector.slice(0, 10).filter((h) => truth.has(h.text)).length;
    }
    await store.close();

    // --- the local model ---
    const embedder = createLocalEmbedder();
    t0 = performance.now();
    await embedder.embed(['warm-up']);
    const loadMs = performance.now() - t0;
    const chunkText = Array.from({ length: 150 }, word).join(' ');
    const chunkTokens = Math.min(254, embedder.countTokens(chunkText));
    const perChunk: number[] = [];
    const perQuery: number[] = [];
    for (let i = 0; i < 20; i++) {
      let s = performance.now();
      await embedder.embed([`${chunkText} ${i}`]);
      perChunk.push(performance.now() - s);
      s = performance.now();
      await embedder.embed([`what did I decide about ${CONTENT[i]}?`]);
      perQuery.push(performance.now() - s);
    }
    await embedder.close?.();

    // --- indexing end to end: 30 daily notes of ~6 sections ---
    const home = join(dir, 'home');
    const workspace = join(home, 'agents', 'main');
    mkdirSync(join(workspace, 'memory'), { recursive: true });
    for (let d = 1; d <= 30; d++) {
      const sections = Array.from(
        { length: 6 },
        (_, s) =>
          `## ${s + 8}:00\n${Array.from({ length: 3 }, () => `- ${Array.from({ length: 25 }, word).join(' ')}`).join('\n')}`,
      );
      writeFileSync(
        join(workspace, 'memory', `2026-04-${String(d).padStart(2, '0')}.md`),
        `# 2026-04-${d}\n\n${sections.join('\n\n')}\n`,
      );
    }
    const config: MemoryConfig = {
      enabled: true,
      backend: 'sqlite',
      dir: join(home, 'memory'),
      embedding: { provider: 'local' },
      chunking: {},
      search: { maxResults: 6, minScore: 0.25, vectorWeight: 0.7, textWeight: 0.3, candidateMultiplier: 4 },
      qdrant: { collection: 'bench' },
    };
    const service = createMemoryService(config, { workspaceOf: () => workspace, secrets: { env: {} } });
    t0 = performance.now();
    const report = await service.agent('main').sync();
    const indexMs = performance.now() - t0;
    await service.close();
    rmSync(dir, { recursive: true, force: true });

    const data = {
      chunks: N,
      vectorIndex: status.vectorIndex,
      storeChunksPerS: round(N / (storeMs / 1000), 0),
      bitIndexBuildMs: round(indexBuildMs, 0),
      vectorSearch: { p50Ms: round(pct(vectorMs, 0.5)), p99Ms: round(pct(vectorMs, 0.99)) },
      textSearch: { p50Ms: round(pct(textMs, 0.5)), p99Ms: round(pct(textMs, 0.99)) },
      hybridSearch: { p50Ms: round(pct(hybridMs, 0.5)), p99Ms: round(pct(hybridMs, 0.99)) },
      vectorRecallAt10: round(found / (QUERIES * 10), 3),
      localModel: {
        loadMs: round(loadMs, 0),
        chunkTokens,
        perChunkP50Ms: round(pct(perChunk, 0.5), 1),
        perQueryP50Ms: round(pct(perQuery, 0.5), 1),
      },
      indexing: {
        chunks: report.chunksEmbedded,
        seconds: round(indexMs / 1000, 1),
        chunksPerS: round(report.chunksEmbedded / (indexMs / 1000), 1),
      },
    };
    return {
      data,
      rows: [
        [
          `hybrid search, ${N.toLocaleString('en')} chunks (p50 / p99)`,
          `${data.hybridSearch.p50Ms} / ${data.hybridSearch.p99Ms} ms`,
        ],
        ['  vector half (p50 / p99)', `${data.vectorSearch.p50Ms} / ${data.vectorSearch.p99Ms} ms`],
        ['  keyword half, FTS5 (p50 / p99)', `${data.textSearch.p50Ms} / ${data.textSearch.p99Ms} ms`],
        ['  vector recall@10 vs exact', String(data.vectorRecallAt10)],
        ['  vector index', data.vectorIndex],
        [
          'local model: load / query / chunk',
          `${data.localModel.loadMs} / ${data.localModel.perQueryP50Ms} / ${data.localModel.perChunkP50Ms} ms`,
        ],
        [
          'indexing notes end to end',
          `${data.indexing.chunksPerS} chunks/s (${data.indexing.chunks} chunks)`,
        ],
      ],
    };
  },
};
