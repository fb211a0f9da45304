// Attachments at the door: what kind a file is, and how a connector puts a downloaded file into
// the blob store without knowing where the store lives. The gateway passes an AttachmentStore in
// (media/blob-store.ts implements it), the way it passes AccessStore; connectors never import it.
// The envelope then carries a reference (sha256, mime, size, name, kind), never the bytes.
import type { Readable } from 'node:stream';
import type { AttachmentKind, AttachmentRef } from './envelope.js';

export type { AttachmentKind, AttachmentRef } from './envelope.js';

export const ATTACHMENT_KINDS: readonly AttachmentKind[] = [
  'image',
  'voice',
  'audio',
  'video',
  'document',
  'file',
];

const DOCUMENT_MIMES = new Set([
  'application/pdf',
  'application/json',
  'application/xml',
  'application/x-yaml',
  'application/yaml',
]);

/**
 * The kind a MIME type suggests (a platform that knows better — Telegram's voice notes — says so
 * itself). The bytes are checked again before anything reads them: a MIME type may lie.
 */
export function kindFromMime(mime: string): AttachmentKind {
  const type = mime.toLowerCase().split(';')[0]!.trim();
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('text/') || DOCUMENT_MIMES.has(type)) return 'document';
  return 'file';
}

/** Where connectors put downloaded attachments, and read files they send; the gateway hands one in. */
export interface AttachmentStore {
  /** The largest file accepted for a kind, in bytes (`media.maxMB` in switchyard.yaml). */
  maxBytes(kind: AttachmentKind): number;
  /**
   * Streams the bytes into the store, hashing them on the way, and returns their address.
   * Throws AttachmentTooLargeError as soon as more than `maxBytes(kind)` arrived (nothing is kept).
   */
  put(
    bytes: Uint8Array | AsyncIterable<Uint8Array>,
    kind: AttachmentKind,
  ): Promise<{ sha256: string; size: number }>;
  /** Size of a stored file; undefined when it is not (or no longer) there. */
  stat(sha256: string): Promise<{ size: number } | undefined>;
  /** The stored file's bytes as a stream (for uploading it to a platform, or serving it). */
  stream(sha256: string): Readable;
}

/** More bytes than the kind's limit; the message goes on with a note instead of the file. */
export class AttachmentTooLargeError extends Error {
  override readonly name = 'AttachmentTooLargeError';
  constructor(
    readonly kind: AttachmentKind,
    readonly limit: number,
    readonly size?: number,
  ) {
    super(
      `too large: ${size === undefined ? `more than ${formatBytes(limit)}` : formatBytes(size)} ` +
        `(the limit for ${kind} files is ${formatBytes(limit)}; media.maxMB in switchyard.yaml)`,
    );
  }
}

/**
 * The platform will never hand these bytes over (file expired, too big for its API, removed).
 * Connectors throw it from `download`; any other error counts as passing trouble and is rethrown,
 * so the platform delivers the message again rather than losing the file.
 */
export class AttachmentUnavailableError extends Error {
  override readonly name = 'AttachmentUnavailableError';
}

/**
 * Downloads one attachment into the store and returns its reference with `sha256` and the real
 * `size`, or with `error` saying why the file is not there (too large, unavailable) — the message
 * still goes through, and the agent is told. Passing failures are thrown (retry the message).
 */
export async function saveAttachment(
  store: AttachmentStore,
  ref: AttachmentRef,
  download: () => Promise<Uint8Array | AsyncIterable<Uint8Array>>,
): Promise<AttachmentRef> {
  const { sha256: _sha, error: _error, ...base } = ref;
  const limit = store.maxBytes(ref.kind);
  if (ref.size !== undefined && ref.size > limit) {
    return { ...base, error: new AttachmentTooLargeError(ref.kind, limit, ref.size).message };
  }
  try {
    const stored = await store.put(await download(), ref.kind);
    return { ...base, sha256: stored.sha256, size: stored.size };
  } catch (error) {
    if (error instanceof AttachmentTooLargeError || error instanceof AttachmentUnavailableError) {
      return { ...base, error: error.message };
    }
    throw error;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  const mb = bytes / (1024 * 1024);
  return `${mb.toFixed(mb < 10 ? 1 : 0)} MB`;
}
