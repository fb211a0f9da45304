// The content-addressed blob store: every attachment and every file derived from one (a
// normalised image, a video's keyframes) is a file named by the sha256 of its bytes, under
// <data dir>/media/blobs/<first two hex digits>/<sha256>. The same bytes are stored once; a file
// never changes once written. Temporal history only ever carries the address.
//
// Bytes arrive as a stream and are hashed on the way into a temporary file, which is renamed into
// place only when complete, so a reader never sees half a file and a crash leaves only a temp
// file (swept later). Retention: `sweep()` forgets blobs not stored or used for a while and keeps
// the total under a cap, oldest first.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AttachmentKind,
  type AttachmentStore,
  AttachmentTooLargeError,
} from '../channels/attachments.js';

const MB = 1024 * 1024;

/** Default per-kind limits in bytes (`media.maxMB`). */
export const DEFAULT_MAX_BYTES: Readonly<Record<AttachmentKind, number>> = {
  image: 20 * MB,
  voice: 25 * MB,
  audio: 25 * MB,
  video: 50 * MB,
  document: 20 * MB,
  file: 20 * MB,
};

const SHA256 = /^[0-9a-f]{64}$/;
/** A temporary file older than this was left by a crash. */
const STALE_TEMP_MS = 60 * 60_000;

export interface BlobStoreOptions {
  /** The media directory, normally `<data dir>/media`. */
  dir: string;
  /** Per-kind size limits in bytes; missing kinds take DEFAULT_MAX_BYTES. */
  maxBytes?: Partial<Record<AttachmentKind, number>>;
  now?: () => number;
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface SweepOptions {
  /** Forget blobs last stored longer ago than this. */
  olderThanMs?: number;
  /** Then forget the oldest until the rest fit in this many bytes. */
  maxTotalBytes?: number;
}

export interface SweepResult {
  deleted: number;
  freedBytes: number;
  keptBlobs: number;
  keptBytes: number;
}

/** The address is not (or no longer) in the store: never stored, or swept by retention. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly sha256: string) {
    super(
      `blob ${sha256.slice(0, 12)}… is not in the media store (never stored, or removed by media.retention)`,
    );
  }
}

export class BlobStore implements AttachmentStore {
  readonly dir: string;
  private readonly blobsDir: string;
  private readonly tempDir: string;
  private readonly limits: Record<AttachmentKind, number>;
  private readonly now: () => number;

  constructor(options: BlobStoreOptions) {
    this.dir = options.dir;
    this.blobsDir = join(options.dir, 'blobs');
    this.tempDir = join(options.dir, 'tmp');
    this.limits = { ...DEFAULT_MAX_BYTES, ...options.maxBytes };
    this.now = options.now ?? Date.now;
  }

  maxBytes(kind: AttachmentKind): number {
    return this.limits[kind];
  }

  /** An attachment from a connector, capped by its kind's limit. */
  put(bytes: Uint8Array | AsyncIterable<Uint8Array>, kind: AttachmentKind): Promise<StoredBlob> {
    return this.write(
      bytes,
      this.limits[kind],
      (size) => new AttachmentTooLargeError(kind, this.limits[kind], size),
    );
  }

  /** Bytes made here (a normalised image, a keyframe), capped by `maxBytes`. */
  putDerived(bytes: Uint8Array | AsyncIterable<Uint8Array>, maxBytes = 100 * MB): Promise<StoredBlob> {
    return this.write(bytes, maxBytes, (size) => new AttachmentTooLargeError('file', maxBytes, size));
  }

  /** Where the blob's file is (it may not exist: check with `stat`). */
  path(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256 address: ${JSON.stringify(sha256)}`);
    return join(this.blobsDir, sha256.slice(0, 2), sha256);
  }

  async stat(sha256: string): Promise<{ size: number; storedAt: number } | undefined> {
    try {
      const s = await stat(this.path(sha256));
      return { size: s.size, storedAt: s.mtimeMs };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  /** The whole blob; BlobNotFoundError when it is not there. */
  async read(sha256: string): Promise<Buffer> {
    try {
      return await readFile(this.path(sha256));
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(sha256);
      throw error;
    }
  }

  /** The first `bytes` bytes (to recognise a file by its magic numbers). */
  async head(sha256: string, bytes = 4100): Promise<Buffer> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path(sha256), 'r');
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(sha256);
      throw error;
    }
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** A stream of the blob (for uploads); check `stat` first, a missing blob errors on the stream. */
  stream(sha256: string): ReadStream {
    return createReadStream(this.path(sha256));
  }

  /**
   * Forget blobs by age, then by total size (oldest first), and temporary files a crash left.
   * A blob stored again counts as new: storing refreshes its age.
   */
  async sweep(options: SweepOptions): Promise<SweepResult> {
    const now = this.now();
    const blobs: Array<{ path: string; size: number; at: number }> = [];
    for (const prefix of await listDir(this.blobsDir)) {
      for (const name of await listDir(join(this.blobsDir, prefix))) {
        const path = join(this.blobsDir, prefix, name);
        const s = await stat(path).catch(() => undefined);
        if (s?.isFile()) blobs.push({ path, size: s.size, at: s.mtimeMs });
      }
    }
    for (const name of await listDir(this.tempDir)) {
      const path = join(this.tempDir, name);
      const s = await stat(path).catch(() => undefined);
      if (s && now - s.mtimeMs > STALE_TEMP_MS) await rm(path, { force: true });
    }
    blobs.sort((a, b) => a.at - b.at);
    let total = blobs.reduce((sum, b) => sum + b.size, 0);
    const result: SweepResult = { deleted: 0, freedBytes: 0, keptBlobs: blobs.length, keptBytes: total };
    for (const blob of blobs) {
      const expired = options.olderThanMs !== undefined && now - blob.at > options.olderThanMs;
      const over = options.maxTotalBytes !== undefined && total > options.maxTotalBytes;
      if (!expired && !over) continue;
      await rm(blob.path, { force: true });
      total -= blob.size;
      result.deleted++;
      result.freedBytes += blob.size;
    }
    result.keptBlobs = blobs.length - result.deleted;
    result.keptBytes = total;
    return result;
  }

  private async write(
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    limit: number,
    tooLarge: (size?: number) => Error,
  ): Promise<StoredBlob> {
    await mkdir(this.tempDir, { recursive: true, mode: 0o700 });
    const temp = join(this.tempDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const file = await open(temp, 'wx', 0o600);
    try {
      for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
        size += chunk.byteLength;
        if (size > limit) throw tooLarge(bytes instanceof Uint8Array ? size : undefined);
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
    } catch (error) {
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
    await file.close();
    const sha256 = hash.digest('hex');
    const target = this.path(sha256);
    await mkdir(join(this.blobsDir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
    if (await this.has(sha256)) {
      // Already here: keep the old file, refresh its age for retention.
      await unlink(temp).catch(() => {});
      const at = new Date(this.now());
      await utimes(target, at, at).catch(() => {});
    } else {
      await rename(temp, target);
    }
    return { sha256, size };
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'ENOENT';
}
