import { describe, expect, it } from 'vitest';
import { validateInboundMessage } from '../../channels/envelope.js';
import {
  normalizeSlackEvent,
  normalizeSlashCommand,
  type SlackEventCallback,
  type SlackNormalizeOptions,
} from '../../channels/slack/normalize.js';

const BOT = { userId: 'UBOT', botId: 'BBOT', teamId: 'T1' };
const OPTIONS: SlackNormalizeOptions = { accountId: 'default', replyInThread: true };

const envelope = (
  event: Record<string, unknown>,
  extra: Partial<SlackEventCallback> = {},
): SlackEventCallback => ({
  type: 'event_callback',
  team_id: 'T1',
  event_id: 'Ev1',
  event: { type: 'message', user: 'U1', ts: '1712000000.000100', ...event },
  ...extra,
});

const normalized = (event: Record<string, unknown>, options = OPTIONS) => {
  const result = normalizeSlackEvent(envelope(event), BOT, options);
  if (result.kind !== 'message') throw new Error(`skipped: ${result.reason}`);
  expect(validateInboundMessage(result.message).ok).toBe(true);
  return result.message;
};

describe('Slack events → InboundMessage', () => {
  it('makes a DM (an im channel) a direct chat, with the ts as message id and timestamp', () => {
    const msg = normalized({ channel: 'D1', channel_type: 'im', text: 'hi &lt;there&gt; &amp; you' });
    expect(msg).toMatchObject({
      channel: 'slack',
      chat: { id: 'D1', kind: 'direct' },
      sender: { id: 'U1' },
      messageId: '1712000000.000100',
      text: 'hi <there> & you',
      timestamp: 1712000000000,
      platformId: 'slack:T1:D1:1712000000.000100',
      wasMentioned: false,
    });
  });

  it('takes a D… channel without channel_type for a DM (test servers omit it)', () => {
    expect(normalized({ channel: 'D9', text: 'x' }).chat.kind).toBe('direct');
  });

  it('answers a top-level channel message in a thread under it: that thread is its session', () => {
    const msg = normalized({ channel: 'C1', channel_type: 'channel', text: '<@UBOT> hello' });
    expect(msg.chat).toEqual({
      id: 'C1',
      kind: 'thread',
      threadId: '1712000000.000100',
      roomType: 'channel',
      parentId: 'T1',
    });
    expect(msg.mentions).toEqual(['UBOT']);
    expect(msg.wasMentioned).toBe(true);
  });

  it('keeps a top-level channel message in the channel when replyInThread is off', () => {
    const msg = normalized({ channel: 'C1', text: 'hello' }, { ...OPTIONS, replyInThread: false });
    expect(msg.chat).toEqual({ id: 'C1', kind: 'group', roomType: 'channel', parentId: 'T1' });
  });

  it('puts a thread reply in its thread; a group DM is a group, not a channel', () => {
    const reply = normalized({ channel: 'C1', text: 'more', thread_ts: '1711999999.000001' });
    expect(reply.chat).toMatchObject({ kind: 'thread', threadId: '1711999999.000001' });
    const mpim = normalized({ channel: 'G1', channel_type: 'mpim', text: 'hey' });
    expect(mpim.chat.roomType).toBe('group');
  });

  it('counts app_mention, <@bot> in the text, and replies in a thread the assistant answered in as addressed to it', () => {
    expect(normalized({ type: 'app_mention', channel: 'C1', text: 'hey you' }).wasMentioned).toBe(true);
    expect(normalized({ channel: 'C1', text: 'ping <@UBOT|assistant>' }).wasMentioned).toBe(true);
    expect(normalized({ channel: 'C1', text: 'ping <@U2>' }).wasMentioned).toBe(false);
    const followUp = { channel: 'C1', text: 'and then?', thread_ts: '1711999999.000001' };
    expect(normalized(followUp).wasMentioned).toBe(false);
    expect(
      normalized(followUp, { ...OPTIONS, inBotThread: (c, t) => c === 'C1' && t === '1711999999.000001' })
        .wasMentioned,
    ).toBe(true);
    expect(normalized({ ...followUp, parent_user_id: 'UBOT' }).wasMentioned).toBe(true);
  });

  it('gives the message and app_mention twins of one mention the same platform id', () => {
    const a = normalized({ channel: 'C1', text: '<@UBOT> hi' });
    const b = normalized({ type: 'app_mention', channel: 'C1', text: '<@UBOT> hi' });
    expect(a.platformId).toBe(b.platformId);
    expect(a.messageId).toBe(b.messageId);
  });

  it('references shared files by their private URL, with a kind from the MIME type', () => {
    const msg = normalized({
      channel: 'D1',
      subtype: 'file_share',
      text: '',
      files: [
        {
          id: 'F1',
          name: 'cat.png',
          mimetype: 'image/png',
          size: 1234,
          url_private_download: 'https://files.slack.com/x',
        },
        { id: 'F2', mode: 'tombstone' },
        { id: 'F3', mimetype: 'not a mime' },
      ],
    });
    expect(msg.attachments).toEqual([
      {
        id: 'F1',
        kind: 'image',
        mime: 'image/png',
        size: 1234,
        name: 'cat.png',
        url: 'https://files.slack.com/x',
      },
      { id: 'F3', kind: 'file', mime: 'application/octet-stream', url: 'slack:file/F3' },
    ]);
  });

  it('makes a slash command a message addressed to the assistant, keyed by its trigger id', () => {
    const result = normalizeSlashCommand(
      {
        command: '/deny',
        text: 'ab12 not now',
        user_id: 'U1',
        channel_id: 'C1',
        team_id: 'T1',
        trigger_id: 'tr1',
      },
      BOT,
      OPTIONS,
      1_712_000_000_000,
    );
    expect(result).toEqual({
      kind: 'message',
      message: {
        channel: 'slack',
        accountId: 'default',
        chat: { id: 'C1', kind: 'group', roomType: 'channel', parentId: 'T1' },
        sender: { id: 'U1' },
        messageId: 'command:tr1',
        text: '/deny ab12 not now',
        attachments: [],
        mentions: [],
        wasMentioned: true,
        timestamp: 1_712_000_000_000,
        platformId: 'slack:T1:C1:command:tr1',
      },
    });
    expect(normalizeSlashCommand({ command: '/x', user_id: 'U1', channel_id: 'C1' }, BOT, OPTIONS)).toEqual({
      kind: 'skip',
      reason: 'malformed',
    });
  });

  it.each([
    [{ subtype: 'message_changed', channel: 'C1', text: 'x' }, 'edit-or-service-message'],
    [{ subtype: 'channel_join', channel: 'C1', text: 'x' }, 'edit-or-service-message'],
    [{ bot_id: 'B2', channel: 'C1', text: 'x' }, 'from-a-bot'],
    [{ user: 'UBOT', channel: 'C1', text: 'x' }, 'from-a-bot'],
    [{ user: undefined, channel: 'C1', text: 'x' }, 'no-sender'],
    [{ channel: 'C1', text: '   ' }, 'empty'],
    [{ channel: 'C1', text: 'x', ts: 'soon' }, 'malformed'],
    [{ type: 'reaction_added', channel: 'C1' }, 'not-a-message'],
  ])('skips %j (%s)', (event, reason) => {
    expect(normalizeSlackEvent(envelope(event), BOT, OPTIONS)).toEqual({ kind: 'skip', reason });
  });
});
