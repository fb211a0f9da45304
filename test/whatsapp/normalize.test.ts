import { describe, expect, it } from 'vitest';
import { validateInboundMessage } from '../../channels/envelope.js';
import { normalizeMessage, personId } from '../../channels/whatsapp/normalize.js';
import * as fx from './fixtures.js';

const self = { jid: fx.SELF, lid: fx.SELF_LID };
const message = (raw: Parameters<typeof normalizeMessage>[0], accountId?: string) => {
  const result = normalizeMessage(raw, self, accountId);
  if (result.kind !== 'message') throw new Error(`skipped: ${result.reason}`);
  const checked = validateInboundMessage(result.message);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.value;
};

describe('whatsapp messages → InboundMessage', () => {
  it('names people by E.164 and chats by JID', () => {
    expect(personId('15551234567:3@s.whatsapp.net')).toBe('+15551234567');
    expect(personId('11112222333344@lid')).toBe('11112222333344@lid');
    expect(message(fx.dm, 'work')).toEqual({
      channel: 'whatsapp',
      accountId: 'work',
      chat: { id: fx.ALICE, kind: 'direct' },
      sender: { id: '+15551234567', name: 'Alice' },
      messageId: 'INBOUND-DM-1',
      text: 'hello bot',
      attachments: [],
      mentions: [],
      wasMentioned: false,
      timestamp: 1796300745000,
      platformId: `whatsapp:${fx.ALICE}:INBOUND-DM-1`,
    });
  });

  it('puts a group message in the group, from its participant', () => {
    expect(message(fx.groupPlain)).toMatchObject({
      chat: { id: fx.GROUP, kind: 'group' },
      sender: { id: '+15551234567' },
      wasMentioned: false,
    });
  });

  it('counts an @-mention of the linked number — in the text, in mentionedJid, or of its LID', () => {
    expect(message(fx.groupTextMention).wasMentioned).toBe(true);
    expect(message(fx.groupContextMention)).toMatchObject({ wasMentioned: true, mentions: ['+15550000000'] });
    expect(message(fx.groupLid)).toMatchObject({
      wasMentioned: true,
      sender: { id: '+15551234567' },
      mentions: [fx.SELF_LID],
    });
    // @15550000001 is somebody else.
    expect(
      message({ ...fx.groupPlain, message: { conversation: 'ask @155500000001 please' } }).wasMentioned,
    ).toBe(false);
  });

  it('counts a reply to the assistant as addressed to it, a reply to someone else not', () => {
    expect(message(fx.groupReplyToBot)).toMatchObject({
      wasMentioned: true,
      replyTo: { messageId: '3EB0ABCDEF', senderId: '+15550000000', text: 'Sunny today.' },
    });
    expect(message(fx.groupReplyToOther).wasMentioned).toBe(false);
  });

  it('unwraps disappearing messages and keeps media as references', () => {
    expect(message(fx.ephemeralImage)).toMatchObject({
      text: 'look at this',
      attachments: [
        { id: 'IMG-1', kind: 'image', mime: 'image/jpeg', size: 2048, url: 'whatsapp:message/IMG-1' },
      ],
    });
    expect(message(fx.voiceNote)).toMatchObject({
      text: '',
      attachments: [{ kind: 'voice', mime: 'audio/ogg', size: 28 }],
    });
  });

  it('skips our own messages, status updates and reactions', () => {
    expect(normalizeMessage(fx.fromMe, self)).toEqual({ kind: 'skip', reason: 'from-me' });
    expect(normalizeMessage(fx.status, self)).toEqual({ kind: 'skip', reason: 'status-or-broadcast' });
    expect(normalizeMessage(fx.reaction, self)).toEqual({ kind: 'skip', reason: 'reaction' });
  });
});
