// The Discord connector on its own, against Discord's wire protocol (crabline's REST API and
// gateway, through a proxy that can drop the connection or replay a dispatch): the real discord.js.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordConnector, type DiscordConnector } from '../../channels/discord/connector.js';
import { discordNonce } from '../../channels/discord/send.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { eventually, Inbox, recordingLog, tempDb } from '../telegram/helpers.js';
import { type FakeDiscord, startFakeDiscord } from './helpers.js';

const ALICE = '135000000000009001';

describe('Discord connector', () => {
  let discord: FakeDiscord;
  let store: ReturnType<typeof tempDb>;
  let connector: DiscordConnector;
  let inbox: Inbox<InboundMessage>;
  let failures: number;
  let logged: ReturnType<typeof recordingLog>;

  beforeEach(async () => {
    logged = recordingLog();
    discord = await startFakeDiscord();
    store = tempDb();
    inbox = new Inbox<InboundMessage>();
    failures = 0;
    connector = createDiscordConnector({
      botToken: discord.botToken,
      apiRoot: discord.apiRoot,
      access: new PairingStore(store.db),
      policy: { dmPolicy: 'open', groupPolicy: 'open', requireMention: false },
      onInbound: async (msg) => {
        if (failures > 0) {
          failures--;
          throw new Error('Temporal is down');
        }
        inbox.push(msg);
      },
      log: logged.log,
      retry: { minMs: 20, maxMs: 100 },
    });
    await connector.start();
  });
  afterEach(async () => {
    await connector.stop();
    await discord.close();
    store.cleanup();
  });

  it('hands over a DM, a guild message and a thread message with their chats', async () => {
    await discord.send({
      channelId: discord.dmChannel(ALICE),
      senderId: ALICE,
      senderName: 'alice',
      content: 'dm',
    });
    await discord.send({
      channelId: discord.channelId,
      guildId: discord.guildId,
      senderId: ALICE,
      content: `<@${discord.botUserId}> in the guild`,
    });
    await discord.send({
      channelId: '135000000000008001',
      parentChannelId: discord.channelId,
      guildId: discord.guildId,
      senderId: ALICE,
      content: 'in a thread',
    });
    const [dm, guild, thread] = await inbox.waitFor(3);
    expect(dm).toMatchObject({ chat: { id: discord.dmChannel(ALICE), kind: 'direct' }, text: 'dm' });
    expect(guild).toMatchObject({
      chat: { id: discord.channelId, kind: 'group', roomType: 'channel', parentId: discord.guildId },
      wasMentioned: true,
    });
    expect(thread).toMatchObject({
      chat: { id: discord.channelId, kind: 'thread', threadId: '135000000000008001', roomType: 'channel' },
      wasMentioned: false,
    });
  });

  it('retries a failed hand-off until it succeeds, keeping order', async () => {
    failures = 2;
    await discord.send({ channelId: discord.dmChannel(ALICE), senderId: ALICE, content: 'first' });
    await discord.send({ channelId: discord.dmChannel(ALICE), senderId: ALICE, content: 'second' });
    const got = await inbox.waitFor(2);
    expect(got.map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('sends with a nonce derived from the chunk key, enforced, and the same nonce on a retry', async () => {
    const channel = discord.dmChannel(ALICE);
    await discord.send({ channelId: channel, senderId: ALICE, content: 'hi' });
    await inbox.waitFor(1);
    await connector.sender(channel, 'answer', {
      idempotencyKey: 'turn:x:reply:0',
      replyToMessageId: inbox.items[0]!.messageId,
    });
    await connector.sender(channel, 'answer', { idempotencyKey: 'turn:x:reply:0' });
    const posts = discord.posts(channel);
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post).toMatchObject({
        content: 'answer',
        nonce: discordNonce('turn:x:reply:0'),
        enforce_nonce: true,
      });
    }
    expect(posts[0]).toMatchObject({ message_reference: { message_id: inbox.items[0]!.messageId } });
    await connector.typing(channel);
    expect(discord.calls('POST', new RegExp(`/channels/${channel}/typing$`))).toHaveLength(1);
  });

  it('comes back after the gateway connection drops, and a replayed dispatch reaches it again', async () => {
    const before = discord.sessions();
    discord.drop();
    await eventually(
      () => (discord.sessions() > before && discord.connections() === 1 ? true : undefined),
      30_000,
    );
    const sent = await discord.send({
      channelId: discord.dmChannel(ALICE),
      senderId: ALICE,
      content: 'after',
    });
    await inbox.waitFor(1);
    discord.redeliver(sent.id);
    const both = await inbox.waitFor(2);
    // The connector passes it on; the session workflow drops it by its platform id (see e2e).
    expect(both[1]?.platformId).toBe(both[0]?.platformId);
  });

  it('never writes its token into its logs or errors, a refused post and a reconnect included', async () => {
    await discord.send({ channelId: discord.dmChannel(ALICE), senderId: ALICE, content: 'hello' });
    await inbox.waitFor(1);
    const refused = await connector.sender('not-a-channel', 'x').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Error);
    const before = discord.sessions();
    const backBefore = logged.entries.filter((e) => /gateway (ready|resumed)/.test(e.msg)).length;
    discord.drop();
    // Back once the fake saw a new session and the connector itself logged being back (the
    // fake counts the session before discord.js hears READY/RESUMED, so the log can lag it).
    await eventually(
      () =>
        discord.sessions() > before &&
        discord.connections() === 1 &&
        logged.entries.filter((e) => /gateway (ready|resumed)/.test(e.msg)).length > backBefore
          ? true
          : undefined,
      30_000,
    );
    // Errors are serialised with their message and stack, which JSON.stringify alone would drop.
    const text = JSON.stringify([logged.entries, refused], (_key, value: unknown) =>
      value instanceof Error ? { ...value, message: value.message, stack: value.stack } : value,
    );
    expect(logged.entries.length).toBeGreaterThan(2);
    expect(text).toContain('not-a-channel');
    expect(text).not.toContain(discord.botToken);
  });
});
