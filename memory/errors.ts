/**
 * What can go wrong with memory, in terms a person can act on. The activities turn these into
 * Temporal failures (engine/failures.ts): `unavailable` is retried by the step's retry policy (a
 * server that may come back), `config` is not (it needs a change by the owner).
 */
export type MemoryErrorKind =
  /** The vector store (Qdrant) cannot be reached or answered with a server error. */
  | 'store-unavailable'
  /** The embedding provider cannot be reached, is rate-limiting or answered with a server error. */
  | 'embedding-unavailable'
  /** Something only the owner can fix: a missing model file, a refused key, a bad setting. */
  | 'config'
  /** `memory_get`/`memory_append` named a path that is not a memory file of the workspace. */
  | 'path-refused';

export class MemoryError extends Error {
  constructor(
    readonly kind: MemoryErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MemoryError';
  }
}

/** The first line of an error's message, for messages that quote a cause. */
export function reason(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${text.split('\n')[0]}${cause}`;
}

const CORRUPT = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** An SQLite error saying the file is damaged or not a database (the index is then rebuilt). */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (CORRUPT.has(code) || code.startsWith('SQLITE_CORRUPT'));
}
