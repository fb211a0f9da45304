import { describe, expect, it } from 'vitest';
import { validateInboundMessage } from '../../channels/envelope.js';
import { message } from './fixtures.js';

function errorsOf(value: unknown) {
  const result = validateInboundMessage(value);
  if (result.ok) throw new Error('expected the message to be rejected');
  return result.errors;
}

describe('InboundMessage validation', () => {
  it('accepts a well-formed message and returns it typed', () => {
    const msg = message({
      chat: { id: '-100777', kind: 'thread', threadId: '12', title: 'Family' },
      attachments: [
        { id: 'file-1', kind: 'image', mime: 'image/jpeg', size: 2048, url: 'https://example.org/f/1.jpg' },
      ],
      replyTo: { messageId: '40', senderId: '1002', text: 'earlier' },
      mentions: ['@switchyard_bot'],
      wasMentioned: true,
    });
    const result = validateInboundMessage(msg);
    expect(result).toEqual({ ok: true, value: msg });
  });

  it('names every missing required field by its path', () => {
    const { chat: _chat, timestamp: _ts, ...rest } = message();
    const errors = errorsOf({ ...rest, sender: {} });
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'chat', message: 'is required' },
        { path: 'timestamp', message: 'is required' },
        { path: 'sender.id', message: 'is required' },
      ]),
    );
  });

  it('says which values a chat kind may take', () => {
    const errors = errorsOf(message({ chat: { kind: 'dm' as never } }));
    expect(errors).toEqual([
      { path: 'chat.kind', message: 'must be one of "direct", "group", "thread" (got "dm")' },
    ]);
  });

  it('requires a threadId on thread messages', () => {
    const errors = errorsOf(message({ chat: { id: '-100777', kind: 'thread' } }));
    expect(errors).toEqual([{ path: 'chat.threadId', message: 'is required' }]);
  });

  it('rejects numeric ids: connectors pass platform ids as strings', () => {
    const errors = errorsOf(message({ sender: { id: 1001 as never } }));
    expect(errors).toEqual([{ path: 'sender.id', message: 'must be a string (got number)' }]);
  });

  it('takes the timestamp in epoch milliseconds, not an ISO string', () => {
    const errors = errorsOf(message({ timestamp: '2026-01-01T12:00:00Z' as never }));
    expect(errors).toEqual([{ path: 'timestamp', message: 'must be an integer (got string)' }]);
  });

  it('refuses attachment bytes: an attachment is a reference (sha256, url, or why it is missing)', () => {
    const errors = errorsOf(
      message({
        attachments: [{ id: 'a', kind: 'image', mime: 'image/png', data: 'iVBORw0KGgo=' } as never],
      }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'attachments[0].data',
          message: expect.stringMatching(/^is not a known field/),
        }),
        {
          path: 'attachments[0]',
          message:
            'is not valid: A reference to media, never the bytes: stored in the blob store (sha256), or a platform url, or why it could not be kept (error).',
        },
      ]),
    );
  });

  it('accepts an attachment kept in the blob store, and one that could not be kept', () => {
    const sha256 = 'ab'.repeat(32);
    const stored = validateInboundMessage(
      message({ attachments: [{ id: 'voice-1', kind: 'voice', mime: 'audio/ogg', size: 4096, sha256 }] }),
    );
    expect(stored.ok).toBe(true);
    const missing = validateInboundMessage(
      message({
        attachments: [
          { id: 'v-2', kind: 'video', mime: 'video/mp4', error: 'too large: 80 MB (limit 50 MB)' },
        ],
      }),
    );
    expect(missing.ok).toBe(true);
  });

  it('names the kinds an attachment may have and wants a real sha256', () => {
    const errors = errorsOf(
      message({ attachments: [{ id: 'x', kind: 'photo' as never, mime: 'image/png', sha256: 'AB12' }] }),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        {
          path: 'attachments[0].kind',
          message: 'must be one of "image", "voice", "audio", "video", "document", "file" (got "photo")',
        },
        { path: 'attachments[0].sha256', message: 'must match /^[0-9a-f]{64}$/ (got "AB12")' },
      ]),
    );
  });

  it('rejects unknown top-level fields and lists the known ones', () => {
    const errors = errorsOf({ ...message(), raw: {} });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe('raw');
    expect(errors[0]?.message).toMatch(/^is not a known field; known fields: channel, accountId, chat/);
  });

  it('rejects an upper-case channel id', () => {
    const errors = errorsOf(message({ channel: 'Telegram' }));
    expect(errors).toEqual([
      { path: 'channel', message: 'must match /^[a-z0-9][a-z0-9_-]{0,63}$/ (got "Telegram")' },
    ]);
  });

  it('rejects something that is not an object at all', () => {
    expect(errorsOf('hello')).toEqual([{ path: '', message: 'must be an object (got string)' }]);
  });
});
