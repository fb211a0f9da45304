import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChannelSender,
  chunkText,
  createChannelSendActivities,
  type SendToChannelInput,
  type SendToChannelResult,
} from '../../activities/channel-send.js';
import { createTelegramConnector } from '../../channels/telegram/connector.js';
import { TELEGRAM_TEXT_LIMIT } from '../../channels/telegram/send.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { type FakeTelegram, recordingLog, startFakeTelegram, tempDb } from './helpers.js';

const CHAT = '5001';

function runActivity(
  fn: (input: SendToChannelInput) => Promise<SendToChannelResult>,
  input: SendToChannelInput,
  attempt = 1,
): Promise<SendToChannelResult> {
  return new MockActivityEnvironment({ attempt }).run(fn, input) as Promise<SendToChannelResult>;
}

/** 9000 characters of words: three Telegram messages. */
const LONG_REPLY = `${Array.from({ length: 2000 }, (_, i) => `w${String(i % 1000).padStart(3, '0')}`)
  .join(' ')
  .slice(0, 8999)}.`;

describe('chunkText', () => {
  it('cuts 9000 characters into three pieces under the Telegram limit, at spaces', () => {
    const chunks = chunkText(LONG_REPLY, TELEGRAM_TEXT_LIMIT);
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(chunks.join(' ')).toBe(LONG_REPLY);
  });

  it('prefers a paragraph break, then a line break, and keeps short text whole', () => {
    const para = `${'a'.repeat(60)}\n\n${'b'.repeat(30)} ${'c'.repeat(30)}`;
    expect(chunkText(para, 80)).toEqual(['a'.repeat(60), `${'b'.repeat(30)} ${'c'.repeat(30)}`]);
    expect(chunkText(`${'x'.repeat(50)}\n${'y'.repeat(20)} zz`, 60)).toEqual([
      'x'.repeat(50),
      `${'y'.repeat(20)} zz`,
    ]);
    expect(chunkText('short', 4000)).toEqual(['short']);
    expect(chunkText('   ', 4000)).toEqual([]);
  });

  it('never splits a surrogate pair when it has to cut hard', () => {
    const chunks = chunkText('😀'.repeat(5), 3);
    expect(chunks.join('')).toBe('😀'.repeat(5));
    for (const chunk of chunks) expect([...chunk].every((ch) => ch === '😀')).toBe(true);
  });
});

describe('sendToChannel: a reply reaches Telegram exactly once', () => {
  let telegram: FakeTelegram;
  let store: ReturnType<typeof tempDb>;
  let sender: ChannelSender;

  beforeEach(async () => {
    telegram = await startFakeTelegram();
    store = tempDb();
    const connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'polling',
      access: new PairingStore(store.db),
      policy: undefined,
      onInbound: async () => {},
      log: recordingLog().log,
    });
    sender = {
      channel: connector.channel,
      accountId: connector.accountId,
      textLimit: connector.textLimit,
      send: connector.sender,
    };
  });

  afterEach(async () => {
    await telegram?.close();
    store?.cleanup();
  });

  const input = (over: Partial<SendToChannelInput> = {}): SendToChannelInput => ({
    channel: 'telegram',
    accountId: 'default',
    chatId: CHAT,
    text: LONG_REPLY,
    replyToMessageId: '1',
    idempotencyKey: 'message:telegram:5001:1/reply',
    ...over,
  });

  it('sends 9000 characters as 3 messages, and a retry with the same key sends nothing new', async () => {
    const outbox = new Outbox(store.db, { runId: 'run-1' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });

    const first = await runActivity(sendToChannel, input());
    expect(first).toMatchObject({ chunks: 3, skipped: 0, uncertain: [] });
    expect(first.messageIds).toHaveLength(3);

    const retry = await runActivity(sendToChannel, input(), 2);
    expect(retry).toEqual({ chunks: 3, skipped: 3, uncertain: [], messageIds: first.messageIds });

    const sent = telegram.calls('sendMessage');
    expect(sent).toHaveLength(3);
    expect(sent.map((c) => c.body.text)).toEqual(chunkText(LONG_REPLY, TELEGRAM_TEXT_LIMIT));
    expect(sent.map((c) => c.body.chat_id)).toEqual([CHAT, CHAT, CHAT]);
    expect(sent[0]!.body.reply_parameters).toMatchObject({ message_id: 1 });
    expect(sent[1]!.body.reply_parameters).toBeUndefined();
    expect(outbox.chunksOf(input().idempotencyKey).map((r) => [r.state, r.messageId])).toEqual(
      first.messageIds.map((id) => ['sent', id]),
    );
  });

  it('never resends a chunk whose earlier call has no known outcome (gateway died mid-call)', async () => {
    const key = input().idempotencyKey;
    // The previous gateway run claimed chunk 1 and died before Telegram's answer was stored.
    new Outbox(store.db, { runId: 'dead-run' }).claim({
      key: `${key}:1`,
      channel: 'telegram',
      accountId: 'default',
      chatId: CHAT,
      textSha256: 'unknown',
    });
    const outbox = new Outbox(store.db, { runId: 'run-2' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });

    const result = await runActivity(sendToChannel, input(), 2);

    expect(result).toMatchObject({ chunks: 3, skipped: 1, uncertain: [1] });
    expect(result.messageIds).toHaveLength(2);
    const chunks = chunkText(LONG_REPLY, TELEGRAM_TEXT_LIMIT);
    expect(telegram.calls('sendMessage').map((c) => c.body.text)).toEqual([chunks[0], chunks[2]]);
    expect(outbox.get(`${key}:1`)).toMatchObject({
      state: 'uncertain',
      error: expect.stringMatching(/dead-run/),
    });
  });

  it('releases the claim when Telegram refuses, so nothing is marked sent that was not', async () => {
    const outbox = new Outbox(store.db, { runId: 'run-3' });
    const { sendToChannel } = createChannelSendActivities({ outbox, senders: [sender] });
    const refused = input({ text: 'hi', chatId: 'not a chat', idempotencyKey: 'refused' });

    const error = await runActivity(sendToChannel, refused).catch((e: unknown) => e);

    expect(error).toMatchObject({ type: 'SendRefused', nonRetryable: true });
    expect(outbox.get('refused:0')).toBeUndefined();
  });
});
