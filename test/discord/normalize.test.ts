import { describe, expect, it } from 'vitest';
import { type DiscordMessageFacts, normalizeDiscordMessage } from '../../channels/discord/normalize.js';
import { validateInboundMessage } from '../../channels/envelope.js';

const BOT = '900';

const facts = (over: Partial<DiscordMessageFacts> = {}): DiscordMessageFacts => ({
  id: '1001',
  channelId: '50',
  guildId: '7',
  type: 0,
  content: 'hello',
  author: { id: '42', bot: false, username: 'alice', globalName: 'Alice' },
  isThread: false,
  parentId: null,
  channelName: 'general',
  mentionedUserIds: [],
  repliedUserId: null,
  referenceMessageId: null,
  attachments: [],
  createdTimestamp: 1_712_000_000_000,
  ...over,
});

const normalized = (over: Partial<DiscordMessageFacts>) => {
  const result = normalizeDiscordMessage(facts(over), BOT);
  if (result.kind !== 'message') throw new Error(`skipped: ${result.reason}`);
  expect(validateInboundMessage(result.message).ok).toBe(true);
  return result.message;
};

describe('Discord messages → InboundMessage', () => {
  it('makes a message without a guild a direct chat in its DM channel', () => {
    expect(normalized({ guildId: null, channelName: null })).toMatchObject({
      channel: 'discord',
      chat: { id: '50', kind: 'direct' },
      sender: { id: '42', name: 'Alice', username: 'alice' },
      messageId: '1001',
      platformId: 'discord:50:1001',
      timestamp: 1_712_000_000_000,
    });
  });

  it("puts a guild message in its channel, with OpenClaw's word 'channel' and the guild as parent", () => {
    expect(normalized({}).chat).toEqual({
      id: '50',
      kind: 'group',
      roomType: 'channel',
      parentId: '7',
      title: 'general',
    });
  });

  it('puts a thread message in its channel with the thread as threadId', () => {
    expect(
      normalized({ channelId: '60', isThread: true, parentId: '50', channelName: 'a thread' }).chat,
    ).toEqual({
      id: '50',
      kind: 'thread',
      threadId: '60',
      roomType: 'channel',
      parentId: '7',
      title: 'a thread',
    });
  });

  it('counts a mention of the bot or a reply to it as addressed to it', () => {
    expect(normalized({ mentionedUserIds: [BOT] }).wasMentioned).toBe(true);
    expect(normalized({ mentionedUserIds: ['43'] }).wasMentioned).toBe(false);
    const reply = normalized({ type: 19, referenceMessageId: '999', repliedUserId: BOT });
    expect(reply.wasMentioned).toBe(true);
    expect(reply.replyTo).toEqual({ messageId: '999', senderId: BOT });
  });

  it('references attachments by URL with a kind from the content type', () => {
    const msg = normalized({
      content: '',
      attachments: [
        { id: 'a1', name: 'v.ogg', contentType: 'audio/ogg; codecs=opus', size: 10, url: 'https://cdn/x' },
        { id: 'a2', name: null, contentType: null, url: 'https://cdn/y' },
      ],
    });
    expect(msg.attachments).toEqual([
      { id: 'a1', kind: 'audio', mime: 'audio/ogg', size: 10, name: 'v.ogg', url: 'https://cdn/x' },
      { id: 'a2', kind: 'file', mime: 'application/octet-stream', url: 'https://cdn/y' },
    ]);
  });

  it.each([
    [{ author: { id: '43', bot: true } }, 'from-a-bot'],
    [{ type: 7 }, 'service-message'],
    [{ content: ' ' }, 'empty'],
  ] as const)('skips %j (%s)', (over, reason) => {
    expect(normalizeDiscordMessage(facts(over as Partial<DiscordMessageFacts>), BOT)).toEqual({
      kind: 'skip',
      reason,
    });
  });
});
