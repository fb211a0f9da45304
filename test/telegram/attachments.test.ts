// Telegram files reach the blob store: the real grammy connector polls a local Bot API server
// (crabline behind a front that speaks getFile and file downloads), and an accepted message's
// photo, voice note or document is downloaded before the message goes on.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import { createTelegramConnector, type TelegramConnector } from '../../channels/telegram/connector.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { BlobStore } from '../../media/blob-store.js';
import { type FakeTelegram, Inbox, recordingLog, startFakeTelegram, tempDb } from './helpers.js';

const OWNER = 5101;
const STRANGER = 7107;
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('telegram attachments go to the blob store', () => {
  let telegram: FakeTelegram;
  let db: ReturnType<typeof tempDb>;
  let connector: TelegramConnector;
  let inbound: Inbox<InboundMessage>;
  let blobs: BlobStore;
  let dir: string;
  let failNext = 0;
  const logged = recordingLog();

  beforeEach(async () => {
    telegram = await startFakeTelegram({ files: true });
    db = tempDb();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-test-tgfiles-'));
    blobs = new BlobStore({ dir, maxBytes: { video: 1000 } });
    inbound = new Inbox();
    failNext = 0;
    connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'polling',
      access: new PairingStore(db.db),
      policy: { dmPolicy: 'pairing', allowFrom: [String(OWNER)] },
      onInbound: async (msg) => {
        if (failNext > 0) {
          failNext--;
          throw new Error('Temporal unavailable (test)');
        }
        inbound.push(msg);
      },
      log: logged.log,
      attachments: blobs,
      polling: { timeoutSeconds: 5, minBackoffMs: 20, maxBackoffMs: 100 },
    });
    await connector.start();
  });

  afterEach(async () => {
    await connector?.stop();
    await telegram?.close();
    db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads a photo, a voice note and a document and hands on their addresses', async () => {
    const photo = Buffer.from('not really a jpeg, but bytes all the same');
    const voice = Buffer.from('OggS pretend opus');
    const pdf = Buffer.from('%PDF-1.4 pretend');
    await telegram.injectMedia({ chatId: OWNER, fromId: OWNER }, { photo: { bytes: photo } }, 'look at this');
    await telegram.injectMedia(
      { chatId: OWNER, fromId: OWNER },
      { voice: { bytes: voice, mime: 'audio/ogg', duration: 3 } },
    );
    await telegram.injectMedia(
      { chatId: OWNER, fromId: OWNER },
      { document: { bytes: pdf, name: 'contract.pdf', mime: 'application/pdf' } },
    );
    const [withPhoto, withVoice, withPdf] = await inbound.waitFor(3);
    expect(withPhoto!.text).toBe('look at this');
    expect(withPhoto!.attachments).toEqual([
      expect.objectContaining({ kind: 'image', mime: 'image/jpeg', sha256: sha(photo), size: photo.length }),
    ]);
    expect(withVoice!.text).toBe('');
    expect(withVoice!.attachments).toEqual([
      expect.objectContaining({ kind: 'voice', mime: 'audio/ogg', sha256: sha(voice) }),
    ]);
    expect(withPdf!.attachments).toEqual([
      expect.objectContaining({ kind: 'document', name: 'contract.pdf', sha256: sha(pdf) }),
    ]);
    expect(await blobs.read(sha(voice))).toEqual(voice);
  });

  it('passes a file Telegram will not hand over, or one over the limit, on as a note', async () => {
    await telegram.injectMedia(
      { chatId: OWNER, fromId: OWNER },
      { video: { bytes: Buffer.alloc(10), mime: 'video/mp4', refused: 'Bad Request: file is too big' } },
      'the big one',
    );
    await telegram.injectMedia(
      { chatId: OWNER, fromId: OWNER },
      { video: { bytes: Buffer.alloc(5000), mime: 'video/mp4', declaredSize: 5000 } },
    );
    const [refused, tooLarge] = await inbound.waitFor(2);
    expect(refused!.attachments[0]).toMatchObject({
      kind: 'video',
      error: 'Telegram will not hand the file over: Bad Request: file is too big',
    });
    expect(refused!.attachments[0]!.sha256).toBeUndefined();
    expect(tooLarge!.attachments[0]!.error).toMatch(
      /^too large: 4\.9 KB \(the limit for video files is 1000 B/,
    );
    // The declared size was enough: nothing was downloaded for it.
    expect(telegram.fileCalls.filter((c) => c.startsWith('download'))).toEqual([]);
    expect(logged.entries.filter((e) => e.msg === 'telegram: attachment not kept')).toHaveLength(2);
  });

  it('downloads nothing for a stranger', async () => {
    await telegram.injectMedia(
      { chatId: STRANGER, fromId: STRANGER },
      { photo: { bytes: Buffer.from('x') } },
    );
    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: 'sentinel' });
    const [sentinel] = await inbound.waitFor(1);
    expect(sentinel!.text).toBe('sentinel');
    expect(telegram.fileCalls).toEqual([]);
  });

  it('keeps the message when the hand-off fails, and stores the file once when it comes again', async () => {
    failNext = 1;
    const photo = Buffer.from('retry me');
    await telegram.injectMedia({ chatId: OWNER, fromId: OWNER }, { photo: { bytes: photo } });
    const [msg] = await inbound.waitFor(1);
    expect(msg!.attachments[0]!.sha256).toBe(sha(photo));
    expect(telegram.fileCalls.filter((c) => c.startsWith('download'))).toHaveLength(2);
  });
});
