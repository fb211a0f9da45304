import { describe, expect, it } from 'vitest';
import type { QueuedMessage, QueueMode } from '../../workflows/session/session-api.js';
import { SeenMessages } from '../../workflows/session/session-dedupe.js';
import { takeTurn, turnInput } from '../../workflows/session/session-queue.js';
import { chat, echoPipeline } from './harness.js';

const pipeline = echoPipeline('1s');
const other = echoPipeline('2s');
const { message } = chat();

function queued(id: string, mode: QueueMode, startsTurn = false, hash = pipeline.hash): QueuedMessage {
  return {
    message: message(id, `text ${id}`),
    ir: pipeline.ir,
    hash,
    agentId: 'main',
    pipeline: 'session-echo',
    mode,
    startsTurn,
  };
}

describe('how queued messages become turns', () => {
  it('a message that found the session idle is answered alone; collect batches the rest', () => {
    const pending = [queued('1', 'collect', true), queued('2', 'collect'), queued('3', 'collect')];
    expect(takeTurn(pending).messages.map((m) => m.message.messageId)).toEqual(['1']);
    expect(takeTurn(pending).messages.map((m) => m.message.messageId)).toEqual(['2', '3']);
    expect(pending).toEqual([]);
  });

  it('followup messages are never batched, and batches never mix pipelines', () => {
    const pending = [
      queued('1', 'collect'),
      queued('2', 'followup'),
      queued('3', 'collect'),
      queued('4', 'collect', false, other.hash),
    ];
    const turns = [takeTurn(pending), takeTurn(pending), takeTurn(pending), takeTurn(pending)];
    expect(turns.map((t) => t.messages.map((m) => m.message.messageId))).toEqual([
      ['1'],
      ['2'],
      ['3'],
      ['4'],
    ]);
  });

  it('a batched turn gets the first envelope with all texts, and only the inputs its pipeline declares', () => {
    const input = turnInput(
      { messages: [queued('1', 'collect'), queued('2', 'collect')], mode: 'collect' },
      { sessionKey: 'agent:main:main', transcript: [], summary: 'x' },
    );
    expect(Object.keys(input.inputs).sort()).toEqual(['batch', 'text']);
    expect(input.inputs.text).toBe('text 1\n\ntext 2');
    expect(input.message).toMatchObject({ messageId: '1', text: 'text 1\n\ntext 2' });
  });
});

describe('the dedupe memory', () => {
  it('knows a message by its message id or its delivery id, and forgets the oldest beyond its bound', () => {
    const seen = new SeenMessages([], 2);
    const first = { ...message('1', 'a'), platformId: 'update:100' };
    seen.remember(first);
    expect(seen.has({ ...first, platformId: 'update:101' })).toBe(true);
    expect(seen.has({ ...message('9', 'other'), platformId: 'update:100' })).toBe(true);
    expect(seen.has({ ...message('9', 'other'), platformId: 'update:102' })).toBe(false);
    seen.remember(message('2', 'b'));
    seen.remember(message('3', 'c'));
    expect(seen.has(first)).toBe(false);
    const carried = new SeenMessages(seen.toJSON(), 2);
    expect(carried.has(message('3', 'c'))).toBe(true);
  });
});
