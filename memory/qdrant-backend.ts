/**
 * The Qdrant backend (`memory.backend: qdrant`), for memory that outgrows one machine or is
 * shared by workers on several. One collection per agent and embedding model
 * (`<prefix>-<model hash>`; a new model gets a new collection and the old one is dropped, so
 * vectors of two models never meet) with two named vectors per chunk: `dense` (the embedding,
 * cosine) and `text`, a sparse BM25-style term vector that Qdrant weighs by IDF, for the keyword
 * half of hybrid search. Each point carries its file's path and content hash; the first chunk of
 * a file is written last, so a file whose first chunk is present is complete.
 */
import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { BackendStatus, IndexedFile, MemoryBackend, StoredChunk } from './backend.js';
import { MemoryError, reason } from './errors.js';
import type { TextCandidate, VectorCandidate } from './hybrid.js';
import { termCounts } from './text-query.js';

export interface QdrantBackendOptions {
  url: string;
  apiKey?: string;
  /** `<memory.qdrant.collection>-<agent>`; the model hash is appended. */
  collectionPrefix: string;
}

interface ChunkPayload {
  path: string;
  seq: number;
  startLine: number;
  endLine: number;
  text: string;
  hash: string;
  fileHash: string;
  chunks: number;
  model: string;
}

const K1 = 1.2;
const B = 0.75;
/** Typical chunk length in terms, for BM25's length normalisation (Qdrant computes only the IDF). */
const AVERAGE_TERMS = 60;

export function openQdrantBackend(options: QdrantBackendOptions): MemoryBackend {
  const client = new QdrantClient({
    url: options.url,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    timeout: 30_000,
    checkCompatibility: false,
  });
  let model: string | undefined;
  let collection: string | undefined;
  let exists: boolean | undefined;

  /** Runs a Qdrant call, turning its failures into errors that say what to fix. */
  const q = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status === 401 || status === 403) {
        throw new MemoryError(
          'config',
          `Qdrant at ${options.url} refused the API key (${status}) when it was asked to ${what}: check memory.qdrant.apiKey`,
          { cause: error },
        );
      }
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw new MemoryError(
          'config',
          `Qdrant at ${options.url} rejected a request to ${what} (${status}): ${detail(error)}`,
          {
            cause: error,
          },
        );
      }
      throw new MemoryError(
        'store-unavailable',
        `Qdrant at ${options.url} ${status ? `answered ${status}` : 'is not reachable'} when asked to ${what}: ${detail(error)}. Start Qdrant (docker compose up -d qdrant) or fix memory.qdrant.url`,
        { cause: error },
      );
    }
  };

  const bound = (): string => {
    if (!collection) throw new Error('qdrant backend: useModel() first');
    return collection;
  };
  const ready = async (): Promise<boolean> => {
    exists ??= (await q('check the collection', () => client.collectionExists(bound()))).exists;
    return exists;
  };
  const create = async (dims: number) => {
    const name = bound();
    await q('create the collection', () =>
      client.createCollection(name, {
        vectors: { dense: { size: dims, distance: 'Cosine' } },
        sparse_vectors: { text: { modifier: 'idf' } },
      }),
    );
    for (const [field, schema] of [
      ['path', 'keyword'],
      ['seq', 'integer'],
    ] as const) {
      await q('index the payload', () =>
        client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true }),
      );
    }
    exists = true;
  };
  const payloadOf = (p: unknown) => p as ChunkPayload;
  const candidate = (id: string | number, p: ChunkPayload) => ({
    id: String(id),
    path: p.path,
    startLine: p.startLine,
    endLine: p.endLine,
    text: p.text,
  });

  return {
    name: 'qdrant',

    async useModel(m) {
      model = m;
      collection = `${options.collectionPrefix}-${createHash('sha256').update(m).digest('hex').slice(0, 12)}`;
      exists = undefined;
      const all = await q('list collections', () => client.getCollections());
      const others = all.collections
        .map((c) => c.name)
        .filter(
          (n) => n.startsWith(`${options.collectionPrefix}-`) && n !== collection && /-[0-9a-f]{12}$/.test(n),
        );
      for (const other of others)
        await q('drop the collection of another model', () => client.deleteCollection(other));
      exists = all.collections.some((c) => c.name === collection);
      return { reset: others.length > 0 };
    },

    async files() {
      const out = new Map<string, IndexedFile>();
      if (!(await ready())) return out;
      let offset: string | number | undefined | null;
      do {
        const page = await q('list indexed files', () =>
          client.scroll(bound(), {
            filter: { must: [{ key: 'seq', match: { value: 0 } }] },
            with_payload: ['path', 'fileHash', 'chunks'],
            limit: 256,
            ...(offset !== undefined && offset !== null ? { offset } : {}),
          }),
        );
        for (const point of page.points) {
          const p = payloadOf(point.payload);
          out.set(p.path, { path: p.path, hash: p.fileHash, chunks: p.chunks });
        }
        offset = page.next_page_offset as string | number | null | undefined;
      } while (offset !== undefined && offset !== null);
      return out;
    },

    async replaceFile(path, fileHash, chunks) {
      if (chunks.length > 0 && !(await ready())) await create(chunks[0]!.vector.length);
      if (!(await ready())) return;
      await q('delete a file', () =>
        client.delete(bound(), { wait: true, filter: { must: [{ key: 'path', match: { value: path } }] } }),
      );
      const points = chunks.map((c: StoredChunk) => ({
        id: pointId(path, c.seq),
        vector: { dense: Array.from(c.vector), text: sparse(c.text) },
        payload: {
          path,
          seq: c.seq,
          startLine: c.startLine,
          endLine: c.endLine,
          text: c.text,
          hash: c.hash,
          fileHash,
          chunks: chunks.length,
          model: model!,
        } satisfies ChunkPayload,
      }));
      // The first chunk last: files() lists a file by its first chunk, so it never lists a partial one.
      const ordered = [...points.slice(1), ...points.slice(0, 1)];
      for (let i = 0; i < ordered.length; i += 64) {
        const batch = ordered.slice(i, i + 64);
        await q('store chunks', () => client.upsert(bound(), { wait: true, points: batch }));
      }
    },

    async removeFile(path) {
      if (!(await ready())) return;
      await q('delete a file', () =>
        client.delete(bound(), { wait: true, filter: { must: [{ key: 'path', match: { value: path } }] } }),
      );
    },

    async vectorSearch(vector, limit) {
      if (limit <= 0 || !(await ready())) return [];
      const res = await q('search', () =>
        client.query(bound(), { query: Array.from(vector), using: 'dense', limit, with_payload: true }),
      );
      return res.points.map(
        (p): VectorCandidate => ({ ...candidate(p.id, payloadOf(p.payload)), similarity: p.score }),
      );
    },

    async textSearch(terms, limit) {
      if (terms.length === 0 || limit <= 0 || !(await ready())) return [];
      const res = await q('search', () =>
        client.query(bound(), {
          query: { indices: terms.map(termId), values: terms.map(() => 1) },
          using: 'text',
          limit,
          with_payload: true,
        }),
      );
      return res.points.map(
        (p): TextCandidate => ({ ...candidate(p.id, payloadOf(p.payload)), relevance: p.score }),
      );
    },

    async status(): Promise<BackendStatus> {
      const present = collection ? await ready() : false;
      const chunks = present
        ? (await q('count chunks', () => client.count(bound(), { exact: true }))).count
        : 0;
      const files = present ? (await this.files()).size : 0;
      const info = present
        ? await q('describe the collection', () => client.getCollection(bound()))
        : undefined;
      const dense = (info?.config.params.vectors as { dense?: { size: number } } | undefined)?.dense;
      return {
        backend: 'qdrant',
        model: present ? model : undefined,
        dims: dense?.size,
        files,
        chunks,
        location: `${options.url}/collections/${collection ?? `${options.collectionPrefix}-…`}`,
        vectorIndex: 'Qdrant HNSW (cosine) + sparse term vectors with IDF',
      };
    },

    async clear() {
      if (collection && (await ready())) {
        await q('drop the collection', () => client.deleteCollection(bound()));
      }
      exists = false;
    },

    async close() {},
  };
}

/** A point id Qdrant accepts: a UUID made from the file path and chunk position. */
function pointId(path: string, seq: number): string {
  const h = createHash('sha256').update(`${path}\u0000${seq}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A term's dimension in the sparse vector: 31 bits of its hash (collisions only cost precision). */
function termId(term: string): number {
  return createHash('sha256').update(term).digest().readUInt32BE(0) >>> 1;
}

/** BM25's term-frequency part per term; Qdrant multiplies in the IDF (`modifier: idf`). */
function sparse(text: string): { indices: number[]; values: number[] } {
  const counts = termCounts(text);
  const length = [...counts.values()].reduce((a, b) => a + b, 0);
  const byId = new Map<number, number>();
  for (const [term, tf] of counts) {
    const weight = (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * length) / AVERAGE_TERMS));
    const id = termId(term);
    byId.set(id, (byId.get(id) ?? 0) + weight);
  }
  return { indices: [...byId.keys()], values: [...byId.values()] };
}

function detail(error: unknown): string {
  const data = (error as { data?: { status?: { error?: string } } }).data;
  return data?.status?.error ?? reason(error);
}
