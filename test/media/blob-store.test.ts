import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AttachmentTooLargeError,
  AttachmentUnavailableError,
  kindFromMime,
  saveAttachment,
} from '../../channels/attachments.js';
import type { AttachmentRef } from '../../channels/envelope.js';
import { BlobNotFoundError, BlobStore } from '../../media/blob-store.js';

const dirs: string[] = [];
function store(options: Partial<ConstructorParameters<typeof BlobStore>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-blobs-'));
  dirs.push(dir);
  return new BlobStore({ dir, ...options });
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* chunks(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

describe('the blob store', () => {
  it('stores bytes under their sha256 and gives them back', async () => {
    const blobs = store();
    const bytes = Buffer.from('a voice note, pretend');
    const stored = await blobs.put(bytes, 'voice');
    expect(stored).toEqual({ sha256: sha(bytes), size: bytes.length });
    expect(await blobs.read(stored.sha256)).toEqual(bytes);
    expect(blobs.path(stored.sha256)).toBe(
      join(blobs.dir, 'blobs', stored.sha256.slice(0, 2), stored.sha256),
    );
    expect((await blobs.head(stored.sha256, 7)).toString()).toBe('a voice');
  });

  it('hashes a stream on the way in and keeps the same bytes once', async () => {
    const blobs = store();
    const first = await blobs.put(chunks('hello ', 'world'), 'document');
    const again = await blobs.put(Buffer.from('hello world'), 'document');
    expect(again).toEqual(first);
    expect(readdirSync(join(blobs.dir, 'blobs', first.sha256.slice(0, 2)))).toEqual([first.sha256]);
    expect(readdirSync(join(blobs.dir, 'tmp'))).toEqual([]);
  });

  it('refuses more bytes than the kind allows, keeping nothing', async () => {
    const blobs = store({ maxBytes: { image: 10 } });
    await expect(blobs.put(chunks('12345', '67890', 'x'), 'image')).rejects.toThrow(AttachmentTooLargeError);
    await expect(blobs.put(Buffer.alloc(11), 'image')).rejects.toThrow(
      'too large: 11 B (the limit for image files is 10 B; media.maxMB in switchyard.yaml)',
    );
    expect(readdirSync(join(blobs.dir, 'tmp'))).toEqual([]);
    // Exactly at the limit is fine.
    await expect(blobs.put(Buffer.alloc(10), 'image')).resolves.toMatchObject({ size: 10 });
  });

  it('says plainly when a blob is not there', async () => {
    const blobs = store();
    const missing = 'ff'.repeat(32);
    expect(await blobs.stat(missing)).toBeUndefined();
    await expect(blobs.read(missing)).rejects.toThrow(BlobNotFoundError);
    await expect(blobs.read(missing)).rejects.toThrow(/removed by media\.retention/);
    expect(() => blobs.path('../../etc/passwd')).toThrow(/not a sha256 address/);
  });

  it('sweeps blobs by age, then the oldest past the size cap, and leftovers of a crash', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const blobs = store({ now: () => now });
    const old = await blobs.put(Buffer.from('old old old'), 'file');
    const middle = await blobs.put(Buffer.from('middle'), 'file');
    const fresh = await blobs.put(Buffer.from('fresh!'), 'file');
    const day = 24 * 60 * 60_000;
    const age = (sha256: string, days: number) => {
      const at = new Date(now - days * day);
      utimesSync(blobs.path(sha256), at, at);
    };
    age(old.sha256, 40);
    age(middle.sha256, 5);
    age(fresh.sha256, 1);
    mkdirSync(join(blobs.dir, 'tmp'), { recursive: true });
    writeFileSync(join(blobs.dir, 'tmp', 'crashed.part'), 'half');
    utimesSync(join(blobs.dir, 'tmp', 'crashed.part'), new Date(now - day), new Date(now - day));

    const result = await blobs.sweep({ olderThanMs: 30 * day, maxTotalBytes: 8 });
    expect(result).toEqual({ deleted: 2, freedBytes: 11 + 6, keptBlobs: 1, keptBytes: 6 });
    expect(await blobs.has(old.sha256)).toBe(false);
    expect(await blobs.has(middle.sha256)).toBe(false);
    expect(await blobs.has(fresh.sha256)).toBe(true);
    expect(readdirSync(join(blobs.dir, 'tmp'))).toEqual([]);

    // Storing the same bytes again makes them new for retention.
    age(fresh.sha256, 40);
    now += 1000;
    await blobs.put(Buffer.from('fresh!'), 'file');
    expect((await blobs.sweep({ olderThanMs: 30 * day })).deleted).toBe(0);
  });
});

describe('saving an attachment from a connector', () => {
  const ref: AttachmentRef = { id: 'f-1', kind: 'video', mime: 'video/mp4', url: 'telegram:file/abc' };

  it('fills in the sha256 and the real size', async () => {
    const blobs = store();
    const saved = await saveAttachment(blobs, { ...ref, size: 999 }, async () => chunks('movie'));
    expect(saved).toEqual({ ...ref, size: 5, sha256: sha(Buffer.from('movie')) });
  });

  it('keeps the message going with a note when the file is too large, without downloading a declared giant', async () => {
    const blobs = store({ maxBytes: { video: 4 } });
    let downloaded = false;
    const declared = await saveAttachment(blobs, { ...ref, size: 5 * 1024 * 1024 }, async () => {
      downloaded = true;
      return chunks('x');
    });
    expect(downloaded).toBe(false);
    expect(declared.error).toBe(
      'too large: 5.0 MB (the limit for video files is 4 B; media.maxMB in switchyard.yaml)',
    );
    expect(declared.sha256).toBeUndefined();
    const undeclared = await saveAttachment(blobs, ref, async () => chunks('12', '345'));
    expect(undeclared.error).toMatch(/^too large: more than 4 B/);
  });

  it('notes a file the platform will not hand over, and rethrows passing trouble', async () => {
    const blobs = store();
    const gone = await saveAttachment(blobs, ref, async () => {
      throw new AttachmentUnavailableError('Telegram: file is too big to download');
    });
    expect(gone.error).toBe('Telegram: file is too big to download');
    await expect(
      saveAttachment(blobs, ref, async () => {
        throw new Error('ECONNRESET');
      }),
    ).rejects.toThrow('ECONNRESET');
  });

  it('takes the kind from a MIME type', () => {
    expect(kindFromMime('image/heic')).toBe('image');
    expect(kindFromMime('audio/ogg; codecs=opus')).toBe('audio');
    expect(kindFromMime('video/quicktime')).toBe('video');
    expect(kindFromMime('application/pdf')).toBe('document');
    expect(kindFromMime('text/csv')).toBe('document');
    expect(kindFromMime('application/zip')).toBe('file');
  });
});
