/**
 * The store behind memory search, one interface for every backend (embedded SQLite, Qdrant): it
 * keeps chunks with their vectors per file and answers the two halves of a hybrid query. What
 * to index, embedding and ranking live above it (indexer.ts, hybrid.ts), so every backend ranks
 * the same way and one contract test suite (test/memory/backend-contract.test.ts) covers them all.
 */
import type { TextCandidate, VectorCandidate } from './hybrid.js';

export interface StoredChunk {
  /** 0-based position in its file. */
  seq: number;
  text: string;
  startLine: number;
  endLine: number;
  hash: string;
  vector: Float32Array;
}

/** What the store knows of a file it indexed. */
export interface IndexedFile {
  path: string;
  /** sha256 of the file's content when it was indexed. */
  hash: string;
  chunks: number;
}

export interface BackendStatus {
  backend: 'sqlite' | 'qdrant';
  /** The embedding model of the stored vectors (undefined: nothing stored yet). */
  model: string | undefined;
  dims: number | undefined;
  files: number;
  chunks: number;
  /** Where the data is: a file path or a collection URL. */
  location: string;
  /** How vector search runs now (exact, or quantised with rescoring). */
  vectorIndex: string;
}

export interface MemoryBackend {
  readonly name: 'sqlite' | 'qdrant';
  /**
   * Binds the store to an embedding model. A store holding vectors of another model (or of
   * another size) drops them all and reports `reset: true`: the caller re-indexes every file.
   */
  useModel(model: string): Promise<{ reset: boolean }>;
  files(): Promise<Map<string, IndexedFile>>;
  /** Replaces everything stored for `path` by `chunks` (atomically where the backend can). */
  replaceFile(path: string, hash: string, chunks: StoredChunk[]): Promise<void>;
  removeFile(path: string): Promise<void>;
  /** Nearest chunks by cosine similarity, best first. */
  vectorSearch(vector: Float32Array, limit: number): Promise<VectorCandidate[]>;
  /** Chunks matching the terms (all of them first, then any), most relevant first. */
  textSearch(terms: string[], limit: number): Promise<TextCandidate[]>;
  status(): Promise<BackendStatus>;
  /** Drops every stored chunk (a corrupt or outdated index); the files are the source of truth. */
  clear(): Promise<void>;
  close(): Promise<void>;
}
