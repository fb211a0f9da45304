// Files out to Telegram: a reply that carries stored files (an image, a PDF) goes through the
// exactly-once send activity and the real grammy connector to a local Bot API (crabline behind a
// front that takes sendPhoto/sendDocument uploads): the text once, each file once, as the bytes
// in the blob store — also when an upload is refused and the activity tries again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChannelSender,
  createChannelSendActivities,
  type SendToChannelInput,
  type SendToChannelResult,
} from '../../activities/channel-send.js';
import { createTelegramConnector } from '../../channels/telegram/connector.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { BlobStore } from '../../media/blob-store.js';
import { pdf, photo } from '../media/fixtures.js';
import { type FakeTelegram, recordingLog, startFakeTelegram, tempDb } from './helpers.js';

const CHAT = '5301';

function runActivity(
  fn: (input: SendToChannelInput) => Promise<SendToChannelResult>,
  input: SendToChannelInput,
  attempt = 1,
): Promise<SendToChannelResult> {
  return new MockActivityEnvironment({ attempt }).run(fn, input) as Promise<SendToChannelResult>;
}

describe('sendToChannel with files: Telegram gets each one once', () => {
  let telegram: FakeTelegram;
  let db: ReturnType<typeof tempDb>;
  let dir: string;
  let blobs: BlobStore;
  let sender: ChannelSender;

  beforeEach(async () => {
    telegram = await startFakeTelegram({ files: true });
    db = tempDb();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-test-tgsend-'));
    blobs = new BlobStore({ dir });
    const connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'polling',
      access: new PairingStore(db.db),
      policy: undefined,
      onInbound: async () => {},
      log: recordingLog().log,
      attachments: blobs,
    });
    sender = {
      channel: connector.channel,
      accountId: connector.accountId,
      textLimit: connector.textLimit,
      send: connector.sender,
      ...(connector.sendFile ? { sendFile: connector.sendFile } : {}),
    };
  });

  afterEach(async () => {
    await telegram?.close();
    db?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts the text, an image as a photo and a PDF as a named document, and a retry sends nothing new', async () => {
    const picture = await photo(640, 480);
    const contract = await pdf(1);
    const image = await blobs.put(picture, 'image');
    const doc = await blobs.put(contract, 'document');
    const outbox = new Outbox(db.db, { runId: 'run-1' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });
    const input: SendToChannelInput = {
      channel: 'telegram',
      accountId: 'default',
      chatId: CHAT,
      text: 'Here they are.',
      replyToMessageId: '7',
      idempotencyKey: 'message:telegram:5301:7/reply',
      media: [
        { sha256: image.sha256, mime: 'image/jpeg', kind: 'image', name: 'plan.jpg' },
        { sha256: doc.sha256, mime: 'application/pdf', kind: 'document', name: 'contract.pdf' },
      ],
    };

    const first = await runActivity(sendToChannel, input);
    expect(first).toMatchObject({ chunks: 3, skipped: 0, uncertain: [] });
    const retry = await runActivity(sendToChannel, input, 2);
    expect(retry).toMatchObject({ chunks: 3, skipped: 3, messageIds: first.messageIds });

    expect(telegram.calls('sendMessage').map((c) => c.body.text)).toEqual(['Here they are.']);
    // Only the first message of a reply answers the user's message, as with text chunks.
    expect(telegram.calls('sendMessage')[0]!.body.reply_parameters).toMatchObject({ message_id: 7 });
    expect(telegram.sentFiles.map((f) => [f.method, f.chatId, f.name, f.replyTo])).toEqual([
      ['sendPhoto', CHAT, 'plan.jpg', undefined],
      ['sendDocument', CHAT, 'contract.pdf', undefined],
    ]);
    expect(telegram.sentFiles[0]!.bytes.equals(picture)).toBe(true);
    expect(telegram.sentFiles[1]!.bytes.equals(contract)).toBe(true);
  });

  it('sends a refused upload again on the next attempt, once', async () => {
    const picture = await photo(320, 240);
    const image = await blobs.put(picture, 'image');
    const outbox = new Outbox(db.db, { runId: 'run-2' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });
    const input: SendToChannelInput = {
      channel: 'telegram',
      accountId: 'default',
      chatId: CHAT,
      text: '',
      idempotencyKey: 'message:telegram:5301:8/reply',
      media: [{ sha256: image.sha256, mime: 'image/jpeg', kind: 'image' }],
    };
    telegram.refuseNextUpload();
    await expect(runActivity(sendToChannel, input)).rejects.toThrow(/429/);
    expect(telegram.sentFiles).toHaveLength(0);
    const again = await runActivity(sendToChannel, input, 2);
    expect(again).toMatchObject({ chunks: 1, skipped: 0, uncertain: [] });
    expect(telegram.sentFiles.map((f) => [f.method, f.name])).toEqual([['sendPhoto', 'image.jpg']]);
    await runActivity(sendToChannel, input, 3);
    expect(telegram.sentFiles).toHaveLength(1);
  });

  it('refuses, without sending anything, a file that is no longer in the store', async () => {
    const outbox = new Outbox(db.db, { runId: 'run-3' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });
    const gone = 'ab'.repeat(32);
    await expect(
      runActivity(sendToChannel, {
        channel: 'telegram',
        accountId: 'default',
        chatId: CHAT,
        text: '',
        idempotencyKey: 'message:telegram:5301:9/reply',
        media: [{ sha256: gone, mime: 'image/png', kind: 'image', name: 'old.png' }],
      }),
    ).rejects.toThrow(/old\.png.*no longer in the media store/);
    expect(telegram.sentFiles).toHaveLength(0);
    expect(telegram.calls('sendMessage')).toHaveLength(0);
  });
});
