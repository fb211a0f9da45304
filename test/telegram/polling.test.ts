import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContextOnlyReason } from '../../channels/access.js';
import { type InboundMessage, validateInboundMessage } from '../../channels/envelope.js';
import type { ChannelPolicy } from '../../channels/routing.js';
import { createTelegramConnector, type TelegramConnector } from '../../channels/telegram/connector.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import {
  BOT_USERNAME,
  eventually,
  type FakeTelegram,
  Inbox,
  recordingLog,
  startFakeTelegram,
  tempDb,
} from './helpers.js';

const OWNER = 5001;
const STRANGER = 7007;
const GROUP = -100200;

const policy: ChannelPolicy = {
  dmPolicy: 'pairing',
  allowFrom: [String(OWNER)],
  groupPolicy: 'allowlist',
  groups: { [String(GROUP)]: {} },
};

describe('telegram connector, long polling against a local Bot API server', () => {
  let telegram: FakeTelegram;
  let store: { db: ReturnType<typeof tempDb>['db']; cleanup(): void };
  let pairing: PairingStore;
  let connector: TelegramConnector;
  let inbound: Inbox<InboundMessage>;
  let context: Inbox<{ msg: InboundMessage; reason: ContextOnlyReason }>;
  let failNextInbound: number;
  const logged = recordingLog();

  beforeEach(async () => {
    telegram = await startFakeTelegram();
    store = tempDb();
    pairing = new PairingStore(store.db);
    inbound = new Inbox();
    context = new Inbox();
    failNextInbound = 0;
    connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'polling',
      access: pairing,
      policy,
      onInbound: async (msg) => {
        if (failNextInbound > 0) {
          failNextInbound--;
          throw new Error('Temporal unavailable (test)');
        }
        inbound.push(msg);
      },
      onContext: async (msg, reason) => context.push({ msg, reason }),
      log: logged.log,
      polling: { timeoutSeconds: 5, minBackoffMs: 20, maxBackoffMs: 100 },
    });
    await connector.start();
  });

  afterEach(async () => {
    await connector?.stop();
    await telegram?.close();
    store?.cleanup();
  });

  it('hands an allowlisted DM to onInbound as a valid InboundMessage', async () => {
    const update = await telegram.inject({
      chatId: OWNER,
      fromId: OWNER,
      fromName: 'Alice',
      text: 'hello there',
    });
    const [msg] = await inbound.waitFor(1);
    expect(validateInboundMessage(msg)).toEqual({ ok: true, value: msg });
    expect(msg).toMatchObject({
      channel: 'telegram',
      accountId: 'default',
      chat: { id: String(OWNER), kind: 'direct' },
      sender: { id: String(OWNER), name: 'Alice' },
      messageId: String(update.message.message_id),
      text: 'hello there',
      attachments: [],
      wasMentioned: false,
      platformId: `telegram:${OWNER}:${update.message.message_id}`,
    });
    expect(telegram.calls('sendMessage')).toEqual([]);
  });

  it('sends a stranger a pairing code and starts nothing; after approval their next DM is accepted', async () => {
    await telegram.inject({ chatId: STRANGER, fromId: STRANGER, fromName: 'Mallory', text: 'let me in' });
    const challenge = await eventually(() => telegram.calls('sendMessage')[0]);
    expect(challenge.body.chat_id).toBe(String(STRANGER));
    const code = /switchyard pairing approve telegram ([A-Z2-9]{8})/.exec(String(challenge.body.text))?.[1];
    expect(code).toBeDefined();
    expect(pairing.listPending('telegram').map((p) => p.code)).toEqual([code]);
    expect(inbound.items).toEqual([]);

    pairing.approve('telegram', code!);
    await telegram.inject({ chatId: STRANGER, fromId: STRANGER, fromName: 'Mallory', text: 'now?' });
    const [msg] = await inbound.waitFor(1);
    expect(msg).toMatchObject({ sender: { id: String(STRANGER) }, text: 'now?' });
    expect(telegram.calls('sendMessage')).toHaveLength(1);
  });

  it('keeps an unmentioned group message as context and answers a mentioned one', async () => {
    const group = { chatId: GROUP, chatType: 'supergroup', fromId: OWNER, fromName: 'Alice' };
    await telegram.inject({ ...group, text: 'just chatting' });
    const mention = `hey @${BOT_USERNAME} what time is it`;
    await telegram.inject({
      ...group,
      text: mention,
      entities: [{ type: 'mention', offset: 4, length: BOT_USERNAME.length + 1 }],
    });
    const [mentioned] = await inbound.waitFor(1);
    expect(mentioned).toMatchObject({
      chat: { id: String(GROUP), kind: 'group' },
      text: mention,
      mentions: [`@${BOT_USERNAME}`],
      wasMentioned: true,
    });
    const [kept] = await context.waitFor(1);
    expect(kept).toMatchObject({
      reason: 'not-mentioned',
      msg: { text: 'just chatting', wasMentioned: false },
    });
    expect(inbound.items).toHaveLength(1);
  });

  it('does not lose a message whose hand-off failed: it is retried until accepted', async () => {
    failNextInbound = 2;
    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: 'survive this' });
    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: 'and then this' });
    const msgs = await inbound.waitFor(2);
    expect(msgs.map((m) => m.text)).toEqual(['survive this', 'and then this']);
    expect(logged.entries.filter((e) => e.level === 'error' && /stays unconfirmed/.test(e.msg))).toHaveLength(
      2,
    );
  });
});
