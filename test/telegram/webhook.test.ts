import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InboundMessage, validateInboundMessage } from '../../channels/envelope.js';
import { createTelegramConnector, type TelegramConnector } from '../../channels/telegram/connector.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../channels/telegram/webhook.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { freePort } from '../helpers/ports.js';
import { BOT_ID, type FakeTelegram, Inbox, recordingLog, startFakeTelegram, tempDb } from './helpers.js';

const OWNER = 5001;
const SECRET = 'test_secret-0123456789';

describe('telegram connector, webhook mode', () => {
  let telegram: FakeTelegram;
  let store: ReturnType<typeof tempDb>;
  let app: FastifyInstance;
  let url: string;
  let connector: TelegramConnector;
  const inbound = new Inbox<InboundMessage>();
  let failNextInbound = 0;

  beforeAll(async () => {
    telegram = await startFakeTelegram();
    store = tempDb();
    app = Fastify({ logger: false });
    const port = await freePort();
    url = `http://127.0.0.1:${port}${TELEGRAM_WEBHOOK_PATH}`;
    connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'webhook',
      webhookSecret: SECRET,
      webhookUrl: url,
      access: new PairingStore(store.db),
      policy: { dmPolicy: 'allowlist', allowFrom: [String(OWNER)] },
      onInbound: async (msg) => {
        if (failNextInbound > 0) {
          failNextInbound--;
          throw new Error('Temporal unavailable (test)');
        }
        inbound.push(msg);
      },
      log: recordingLog().log,
    });
    app.route(connector.webhookRoute);
    await app.listen({ host: '127.0.0.1', port });
    await connector.start();
  });

  afterAll(async () => {
    await connector?.stop();
    await app?.close();
    await telegram?.close();
    store?.cleanup();
  });

  const post = (body: unknown, secret: string | undefined) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }),
      },
      body: JSON.stringify(body),
    });

  const dm = (updateId: number, message: Record<string, unknown>) => ({
    update_id: updateId,
    message: {
      message_id: updateId,
      date: 1_767_225_600,
      chat: { id: OWNER, type: 'private', first_name: 'Alice' },
      from: { id: OWNER, is_bot: false, first_name: 'Alice' },
      ...message,
    },
  });

  it('registers the webhook with its secret on start', () => {
    const [call] = telegram.calls('setWebhook');
    // The recorder redacts the secret itself; the 401 test below proves which one is checked.
    expect(call?.body).toMatchObject({ url, secret_token: expect.any(String) });
  });

  it('answers 401 to a wrong or missing secret and starts nothing', async () => {
    const before = inbound.items.length;
    const wrong = await post(dm(900, { text: 'forged' }), 'not-the-secret');
    expect(wrong.status).toBe(401);
    const missing = await post(dm(901, { text: 'forged' }), undefined);
    expect(missing.status).toBe(401);
    // The bare handler, mounted by hand, checks the secret as well.
    const bare = Fastify({ logger: false });
    bare.post('/hook', connector.webhookHandler);
    const viaHandler = await bare.inject({
      method: 'POST',
      url: '/hook',
      headers: { 'x-telegram-bot-api-secret-token': `${SECRET}x` },
      payload: dm(902, { text: 'forged' }),
    });
    expect(viaHandler.statusCode).toBe(401);
    await bare.close();
    // A genuine update after them: updates are handled in order, so once it is in, a forged one
    // that got through would be in before it.
    expect((await post(dm(903, { text: 'genuine' }), SECRET)).status).toBe(200);
    const msgs = await inbound.waitFor(before + 1);
    expect(msgs.slice(before).map((m) => m.text)).toEqual(['genuine']);
    expect(telegram.calls('sendMessage')).toEqual([]);
  });

  it('receives a message Telegram pushes, and a failed hand-off (500) is re-delivered', async () => {
    failNextInbound = 1;
    const before = inbound.items.length;
    const update = await telegram.inject({
      chatId: OWNER,
      fromId: OWNER,
      fromName: 'Alice',
      text: 'via webhook',
    });
    const msgs = await inbound.waitFor(before + 1);
    const msg = msgs.at(-1)!;
    expect(msg).toMatchObject({
      text: 'via webhook',
      platformId: `telegram:${OWNER}:${update.message.message_id}`,
    });
    expect(failNextInbound).toBe(0);
  });

  it('records a photo as an attachment reference, never bytes', async () => {
    const res = await post(
      dm(1000, {
        caption: 'look',
        photo: [
          { file_id: 'small-id', file_unique_id: 'uniq-small', width: 90, height: 60, file_size: 1200 },
          {
            file_id: 'AgACAgIAAxkBAAIB',
            file_unique_id: 'AQADuq0',
            width: 1280,
            height: 853,
            file_size: 98765,
          },
        ],
      }),
      SECRET,
    );
    expect(res.status).toBe(200);
    const msg = inbound.items.at(-1)!;
    expect(validateInboundMessage(msg).ok).toBe(true);
    expect(msg.text).toBe('look');
    expect(msg.attachments).toEqual([
      {
        id: 'AQADuq0',
        kind: 'image',
        mime: 'image/jpeg',
        size: 98765,
        url: 'telegram:file/AgACAgIAAxkBAAIB',
      },
    ]);
  });

  it('sees a reply to the bot as addressed to it', async () => {
    const res = await post(
      dm(1001, {
        text: 'and what about tomorrow?',
        reply_to_message: {
          message_id: 77,
          date: 1_767_225_500,
          chat: { id: OWNER, type: 'private', first_name: 'Alice' },
          from: { id: BOT_ID, is_bot: true, first_name: 'Crabline', username: 'crabline_bot' },
          text: 'It will rain today.',
        },
      }),
      SECRET,
    );
    expect(res.status).toBe(200);
    expect(inbound.items.at(-1)).toMatchObject({
      replyTo: { messageId: '77', senderId: String(BOT_ID), text: 'It will rain today.' },
      wasMentioned: true,
    });
  });
});
