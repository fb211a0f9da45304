// "typing…" for chats that cannot stream (Telegram): driven by the live frames of the turn that
// answers a message, stopped by the reply, by silence, or by the cap.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import { createTypingIndicator } from '../../gateway/channels/typing.js';
import { createDeltaHub } from '../../gateway/stream/hub.js';

const message = (messageId: string, threadId?: string): InboundMessage => ({
  channel: 'telegram',
  accountId: 'default',
  chat: { id: '42', kind: 'direct', ...(threadId ? { threadId } : {}) },
  sender: { id: '42' },
  messageId,
  platformId: `update:${messageId}`,
  text: 'hi',
  attachments: [],
  mentions: [],
  wasMentioned: false,
  timestamp: 0,
});

describe('the typing indicator', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const hub = createDeltaHub();
    const calls: string[] = [];
    const typing = createTypingIndicator({
      hub,
      channel: 'telegram',
      typing: async (chatId, threadId) => void calls.push(`${chatId}${threadId ? `/${threadId}` : ''}`),
      intervalMs: 4500,
      idleMs: 30_000,
      maxMs: 600_000,
    });
    let seq = 0;
    const delta = (messageId: string) =>
      hub.publish({ type: 'delta', runKey: `telegram:42:${messageId}`, seq: ++seq, text: 'x' });
    return { hub, calls, typing, delta };
  }

  it('types as soon as the answer streams, every 4.5 s, until the reply is sent', () => {
    const { calls, typing, delta, hub } = setup();
    typing.watch(message('7', '3'));
    expect(calls).toEqual([]);
    delta('7');
    expect(calls).toEqual(['42/3']);
    delta('7');
    expect(calls).toHaveLength(1);
    vi.advanceTimersByTime(4500);
    expect(calls).toHaveLength(2);
    // A long tool call: no frames, but the person still sees the assistant at work.
    hub.publish({
      type: 'tool',
      runKey: 'telegram:42:7',
      phase: 'start',
      name: 'web_fetch',
      toolCallId: 'c',
    });
    vi.advanceTimersByTime(9000);
    expect(calls).toHaveLength(4);
    typing.replied('42', '7');
    vi.advanceTimersByTime(60_000);
    expect(calls).toHaveLength(4);
    expect(hub.watched).toBe(0);
  });

  it('never types for a message whose turn streams nothing, and forgets it after the cap', () => {
    const { calls, typing, hub } = setup();
    typing.watch(message('8'));
    vi.advanceTimersByTime(600_000);
    expect(calls).toEqual([]);
    expect(hub.watched).toBe(0);
  });

  it('stops after 30 s without frames (a turn that ended without a reply)', () => {
    const { calls, typing, delta, hub } = setup();
    typing.watch(message('9'));
    delta('9');
    vi.advanceTimersByTime(30_000);
    const typed = calls.length;
    vi.advanceTimersByTime(60_000);
    expect(calls.length).toBe(typed);
    expect(hub.watched).toBe(0);
  });

  it('a reply to another message does not stop it; a failing typing call is only reported', async () => {
    const hub = createDeltaHub();
    const errors: unknown[] = [];
    const typing = createTypingIndicator({
      hub,
      channel: 'telegram',
      typing: async () => {
        throw new Error('429 Too Many Requests');
      },
      onError: (e) => void errors.push(e),
    });
    typing.watch(message('10'));
    hub.publish({ type: 'delta', runKey: 'telegram:42:10', seq: 1, text: 'x' });
    typing.replied('42', '11');
    await vi.advanceTimersByTimeAsync(4500);
    expect(errors).toHaveLength(2);
    expect(hub.watched).toBe(1);
    typing.close();
    expect(hub.watched).toBe(0);
  });
});
