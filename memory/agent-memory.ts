/**
 * One agent's memory: its workspace's notes (workspace-files.ts), kept indexed in a backend
 * (backend.ts) with vectors from an embedder (through the embedding cache), searched hybrid
 * (hybrid.ts). Indexing is incremental: a file is re-read only when its size or mtime changed,
 * re-chunked only when its content hash changed, and a chunk is embedded only when the cache has
 * not seen its text. Search first brings the index up to date, waiting at most `freshnessWaitMs`
 * (a large first index goes on in the background; the search sees what is indexed so far).
 */

import type { IndexedFile, MemoryBackend, StoredChunk } from './backend.js';
import { chunkMarkdown, sha256, WRITE_MARKER } from './chunker.js';
import type { Embedder } from './embedder.js';
import type { EmbeddingCache } from './embedding-cache.js';
import { isCorruption, MemoryError } from './errors.js';
import { fuse, type Hit } from './hybrid.js';
import { textTerms } from './text-query.js';
import {
  type AppendResult,
  type AppendTarget,
  appendNote,
  listMemoryFiles,
  memoryPath,
  readNote,
} from './workspace-files.js';

export interface SearchSettings {
  maxResults: number;
  minScore: number;
  vectorWeight: number;
  textWeight: number;
  /** Each retriever fetches maxResults × this many candidates before fusion. */
  candidateMultiplier: number;
}

export interface AgentMemorySettings {
  search: SearchSettings;
  /** Chunk size and overlap in the embedder's tokens. */
  chunkTokens: number;
  chunkOverlap: number;
  /** How long a search waits for the index to catch up before searching what is there. */
  freshnessWaitMs: number;
  /** Queries longer than this are cut (the embedder cuts again at its token limit). */
  maxQueryChars: number;
  /** The time zone of daily note dates; default the process's. */
  timeZone?: string;
}

export type MemoryLog = (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;

export interface AgentMemoryDeps {
  agentId: string;
  workspace: string;
  backend: MemoryBackend;
  embedder: Embedder;
  cache: EmbeddingCache;
  settings: AgentMemorySettings;
  log?: MemoryLog;
}

export interface SyncReport {
  files: number;
  indexed: string[];
  removed: string[];
  skipped: Array<{ path: string; reason: string }>;
  chunksEmbedded: number;
  chunksCached: number;
  /** The store held another model's vectors (or was corrupt) and was rebuilt. */
  rebuilt: boolean;
}

export interface SearchResult {
  hits: Hit[];
  /** The index was still catching up when the search ran. */
  stale: boolean;
}

export interface ReadResult {
  path: string;
  text: string;
  from: number;
  to: number;
  totalLines: number;
}

const MAX_READ_LINES = 400;
const MAX_READ_CHARS = 20_000;

export class AgentMemory {
  private syncing: Promise<SyncReport> | undefined;
  private queued: Promise<SyncReport> | undefined;
  private seen = new Map<string, string>();
  private modelChecked = false;
  private chunkCount: number | undefined;
  private readonly logged = new Set<string>();

  constructor(readonly deps: AgentMemoryDeps) {}

  get agentId(): string {
    return this.deps.agentId;
  }

  /** Brings the index up to date with the workspace. Concurrent calls share one run (plus one rerun). */
  sync(): Promise<SyncReport> {
    if (!this.syncing) {
      this.syncing = this.runSync().finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    this.queued ??= this.syncing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
  }

  /** Syncs, waiting at most `waitMs`; true when the index is up to date. A failure within the wait throws. */
  async ensureFresh(waitMs = this.deps.settings.freshnessWaitMs): Promise<boolean> {
    const run = this.sync();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    try {
      const done = await Promise.race([run.then(() => true as const), late]);
      if (!done) {
        run.catch((error) =>
          this.deps.log?.('warn', `memory: indexing agent '${this.agentId}' failed`, {
            error: String(error),
          }),
        );
      }
      return done;
    } finally {
      clearTimeout(timer);
    }
  }

  async search(
    query: string,
    options: { maxResults?: number; minScore?: number } = {},
  ): Promise<SearchResult> {
    const settings = this.deps.settings.search;
    const text = query.trim().slice(0, this.deps.settings.maxQueryChars);
    if (!text) return { hits: [], stale: false };
    const fresh = await this.ensureFresh();
    // An empty index needs no query vector: no model is loaded for a workspace without notes.
    if (this.chunkCount === 0) return { hits: [], stale: !fresh };
    const maxResults = Math.max(1, Math.min(50, Math.floor(options.maxResults ?? settings.maxResults)));
    const minScore = options.minScore ?? settings.minScore;
    const candidates = maxResults * Math.max(1, settings.candidateMultiplier);
    const run = async () => {
      const [vector] = await this.deps.embedder.embed([text]);
      const [byVector, byText] = await Promise.all([
        this.deps.backend.vectorSearch(vector!, candidates),
        this.deps.backend.textSearch(textTerms(text), candidates),
      ]);
      return fuse(byVector, byText, settings)
        .filter((h) => h.score >= minScore)
        .slice(0, maxResults);
    };
    try {
      return { hits: await run(), stale: !fresh };
    } catch (error) {
      if (!isCorruption(error)) throw error;
      await this.rebuild(error);
      await this.sync();
      return { hits: await run(), stale: false };
    }
  }

  /** Lines of a memory file: from line `from` (1-based), `lines` of them (default: the rest, capped). */
  async read(path: string, from?: number, lines?: number): Promise<ReadResult> {
    const rel = memoryPath(path);
    const note = await readNote(this.deps.workspace, rel);
    if ('skipped' in note) {
      const missing = note.skipped.includes('ENOENT');
      throw new MemoryError(
        'path-refused',
        missing ? `${rel} does not exist in the workspace` : `${rel} cannot be read: ${note.skipped}`,
      );
    }
    const all = note.text
      .replace(WRITE_MARKER, '')
      .replace(/[ \t]+$/gm, '')
      .split('\n');
    const start = Math.max(1, Math.floor(from ?? 1));
    const count = Math.max(1, Math.min(MAX_READ_LINES, Math.floor(lines ?? MAX_READ_LINES)));
    let selected = all.slice(start - 1, start - 1 + count);
    let text = selected.join('\n');
    if (text.length > MAX_READ_CHARS) {
      text = text.slice(0, MAX_READ_CHARS);
      selected = text.split('\n');
    }
    return {
      path: rel,
      text,
      from: start,
      to: start + Math.max(0, selected.length - 1),
      totalLines: all.length,
    };
  }

  /** Appends to today's note or MEMORY.md once per key, then indexes it (waiting briefly). */
  async append(input: { target: AppendTarget; text: string; key: string; at: Date }): Promise<AppendResult> {
    const result = await appendNote(this.deps.workspace, { ...input, timeZone: this.deps.settings.timeZone });
    await this.ensureFresh();
    return result;
  }

  async status() {
    const backend = await this.deps.backend.status();
    const files = await listMemoryFiles(this.deps.workspace);
    const indexed = await this.deps.backend.files();
    return {
      agent: this.agentId,
      workspace: this.deps.workspace,
      embedder: this.deps.embedder.id,
      ...backend,
      notes: files.length,
      notIndexed: files.filter((f) => !indexed.has(f.path)).map((f) => f.path),
      modelMatches: backend.model === undefined || backend.model === this.deps.embedder.id,
    };
  }

  /** Forgets the index and indexes every file again (what `switchyard memory index --force` does). */
  async reindex(): Promise<SyncReport> {
    await this.syncing?.catch(() => undefined);
    await this.deps.backend.clear();
    this.seen.clear();
    this.modelChecked = false;
    return { ...(await this.sync()), rebuilt: true };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.syncing, this.queued]);
    await this.deps.backend.close();
  }

  private async rebuild(error: unknown): Promise<void> {
    this.deps.log?.(
      'warn',
      `memory: the index of agent '${this.agentId}' is corrupt; rebuilding it from the notes`,
      {
        error: String(error),
      },
    );
    await this.deps.backend.clear();
    this.seen.clear();
    this.modelChecked = false;
  }

  private async runSync(): Promise<SyncReport> {
    try {
      return await this.syncOnce();
    } catch (error) {
      if (!isCorruption(error)) throw error;
      await this.rebuild(error);
      return { ...(await this.syncOnce()), rebuilt: true };
    }
  }

  private async syncOnce(): Promise<SyncReport> {
    const { backend, embedder, cache, workspace } = this.deps;
    const report: SyncReport = {
      files: 0,
      indexed: [],
      removed: [],
      skipped: [],
      chunksEmbedded: 0,
      chunksCached: 0,
      rebuilt: false,
    };
    if (!this.modelChecked) {
      const { reset } = await backend.useModel(embedder.id);
      if (reset) {
        report.rebuilt = true;
        this.seen.clear();
        this.deps.log?.(
          'info',
          `memory: agent '${this.agentId}' now embeds with ${embedder.id}; re-indexing`,
        );
      }
      this.modelChecked = true;
    }
    const files = await listMemoryFiles(workspace);
    report.files = files.length;
    if (files.length > 0) await embedder.prepare?.();
    const indexed = await backend.files();
    const present = new Set(files.map((f) => f.path));
    for (const file of files) {
      const stamp = `${file.size}:${file.mtimeMs}`;
      if (this.seen.get(file.path) === stamp && indexed.has(file.path)) continue;
      const note = await readNote(workspace, file.path);
      if ('skipped' in note) {
        report.skipped.push({ path: file.path, reason: note.skipped });
        const key = `${file.path}:${stamp}`;
        if (!this.logged.has(key)) {
          this.logged.add(key);
          this.deps.log?.('warn', `memory: skipped ${file.path} in ${workspace}: ${note.skipped}`);
        }
        if (indexed.delete(file.path)) await backend.removeFile(file.path);
        this.seen.set(file.path, stamp);
        continue;
      }
      const hash = sha256(note.text);
      if (indexed.get(file.path)?.hash !== hash) {
        const chunks = chunkMarkdown(note.text, {
          maxTokens: Math.min(this.deps.settings.chunkTokens, embedder.maxTokens),
          overlapTokens: this.deps.settings.chunkOverlap,
          countTokens: (t) => embedder.countTokens(t),
        });
        const { vectors, embedded } = await cache.embed(embedder, chunks);
        report.chunksEmbedded += embedded;
        report.chunksCached += chunks.length - embedded;
        const stored: StoredChunk[] = chunks.map((c, seq) => ({ ...c, seq, vector: vectors[seq]! }));
        await backend.replaceFile(file.path, hash, stored);
        indexed.set(file.path, { path: file.path, hash, chunks: stored.length } satisfies IndexedFile);
        report.indexed.push(file.path);
      }
      this.seen.set(file.path, stamp);
    }
    for (const path of indexed.keys()) {
      if (present.has(path)) continue;
      await backend.removeFile(path);
      indexed.delete(path);
      this.seen.delete(path);
      report.removed.push(path);
    }
    this.chunkCount = [...indexed.values()].reduce((n, f) => n + f.chunks, 0);
    if (report.indexed.length > 0 || report.removed.length > 0) {
      this.deps.log?.('info', `memory: indexed agent '${this.agentId}'`, {
        indexed: report.indexed,
        removed: report.removed,
        embedded: report.chunksEmbedded,
        cached: report.chunksCached,
      });
    }
    return report;
  }
}
