import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { validateInboundMessage } from '../../channels/envelope.js';
import { normalizeUpdate } from '../../channels/telegram/normalize.js';

const bot = { id: 424242, username: 'switchyard_bot' };
const alice = { id: 5001, is_bot: false, first_name: 'Alice', last_name: 'Liddell', username: 'alice' };

function update(
  message: Record<string, unknown>,
  chat: Record<string, unknown> = { id: 5001, type: 'private' },
) {
  return {
    update_id: 1,
    message: { message_id: 10, date: 1_767_225_600, chat, from: alice, ...message },
  } as unknown as Update;
}

function normalized(u: Update) {
  const result = normalizeUpdate(u, bot);
  if (result.kind !== 'message') throw new Error(`skipped: ${result.reason}`);
  expect(validateInboundMessage(result.message).ok).toBe(true);
  return result.message;
}

describe('normalising Telegram updates', () => {
  it('turns a forum topic message into a thread of its group', () => {
    const msg = normalized(
      update(
        { text: 'in a topic', message_thread_id: 33, is_topic_message: true },
        { id: -100900, type: 'supergroup', title: 'Home', is_forum: true },
      ),
    );
    expect(msg.chat).toEqual({ id: '-100900', kind: 'thread', title: 'Home', threadId: '33' });
    expect(msg.sender).toEqual({ id: '5001', name: 'Alice Liddell', username: 'alice' });
  });

  it('keeps a reply chain in an ordinary group as the group, not a thread', () => {
    const msg = normalized(
      update({ text: 'reply chain', message_thread_id: 9 }, { id: -100901, type: 'supergroup', title: 'G' }),
    );
    expect(msg.chat).toEqual({ id: '-100901', kind: 'group', title: 'G' });
  });

  it('records voice notes and documents as references with their mime types', () => {
    const voice = normalized(
      update({
        voice: {
          file_id: 'voice-file',
          file_unique_id: 'v1',
          duration: 3,
          mime_type: 'audio/ogg',
          file_size: 4096,
        },
      }),
    );
    expect(voice.text).toBe('');
    expect(voice.attachments).toEqual([
      { id: 'v1', kind: 'voice', mime: 'audio/ogg', size: 4096, url: 'telegram:file/voice-file' },
    ]);
    const doc = normalized(
      update({
        caption: 'the contract',
        document: {
          file_id: 'doc-file',
          file_unique_id: 'd1',
          file_name: 'contract.pdf',
          mime_type: 'application/pdf',
        },
      }),
    );
    expect(doc.attachments).toEqual([
      {
        id: 'd1',
        kind: 'document',
        mime: 'application/pdf',
        name: 'contract.pdf',
        url: 'telegram:file/doc-file',
      },
    ]);
  });

  it('takes an image sent as a file for an image, and a sticker for what it is', () => {
    const photoAsFile = normalized(
      update({
        document: { file_id: 'f', file_unique_id: 'u', file_name: 'scan.png', mime_type: 'image/png' },
      }),
    );
    expect(photoAsFile.attachments).toEqual([
      { id: 'u', kind: 'image', mime: 'image/png', name: 'scan.png', url: 'telegram:file/f' },
    ]);
    const sticker = (is_animated: boolean, is_video: boolean) =>
      normalized(
        update({
          sticker: {
            file_id: 's',
            file_unique_id: 'su',
            type: 'regular',
            width: 512,
            height: 512,
            is_animated,
            is_video,
          },
        }),
      ).attachments[0];
    expect(sticker(false, false)).toMatchObject({ kind: 'image', mime: 'image/webp' });
    expect(sticker(false, true)).toMatchObject({ kind: 'video', mime: 'video/webm' });
    expect(sticker(true, false)).toMatchObject({ kind: 'file', mime: 'application/x-tgsticker' });
  });

  it('counts a command for this bot, but not a mention of another bot, as addressed to it', () => {
    const group = { id: -100902, type: 'group', title: 'G' };
    const command = normalized(
      update(
        { text: '/status@switchyard_bot', entities: [{ type: 'bot_command', offset: 0, length: 22 }] },
        group,
      ),
    );
    expect(command.wasMentioned).toBe(true);
    const other = normalized(
      update({ text: 'ask @other_bot', entities: [{ type: 'mention', offset: 4, length: 10 }] }, group),
    );
    expect(other).toMatchObject({ mentions: ['@other_bot'], wasMentioned: false });
  });

  it('skips updates that are not new messages, and service messages', () => {
    expect(normalizeUpdate({ update_id: 2, edited_message: {} } as unknown as Update, bot)).toEqual({
      kind: 'skip',
      reason: 'not-a-new-message',
    });
    expect(normalizeUpdate(update({ new_chat_members: [alice] }), bot)).toEqual({
      kind: 'skip',
      reason: 'service-message',
    });
  });
});
