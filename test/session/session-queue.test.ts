import { describe, expect, it, vi } from 'vitest';
import { turnWorkflowId } from '../../workflows/session/session-api.js';
import { chat, echoPipeline, idle, sessionHarness } from './harness.js';

describe('queue modes: messages that arrive while a turn runs', () => {
  const h = sessionHarness('session-queue');
  const slow = echoPipeline('1s');
  const verySlow = echoPipeline('3s');

  it('collect (default): three messages sent back to back are two turns, the later two batched', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'one'), sessionKey, slow);
    await h.ingest(message('2', 'two'), sessionKey, slow);
    await h.ingest(message('3', 'three'), sessionKey, slow);

    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(history.turns.map((t) => [t.workflowId, t.messageIds, t.status])).toEqual([
      [turnWorkflowId(sessionKey, '1'), ['1'], 'completed'],
      [turnWorkflowId(sessionKey, '2'), ['2', '3'], 'completed'],
    ]);
    const second = await h.client.workflow.getHandle(turnWorkflowId(sessionKey, '2')).result();
    expect(second).toEqual({ reply: 'echo: two\n\nthree', count: 2 });
    expect(history.transcript.map((e) => `${e.role}: ${e.text}`)).toEqual([
      'user: one',
      'assistant: echo: one',
      'user: two',
      'user: three',
      'assistant: echo: two\n\nthree',
    ]);
  });

  it('followup: three messages are three turns, in order', async () => {
    const { sessionKey, message } = chat();
    for (const [id, text] of [
      ['1', 'one'],
      ['2', 'two'],
      ['3', 'three'],
    ] as const) {
      await h.ingest(message(id, text), sessionKey, slow, { queueMode: 'followup' });
    }
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 3);
    expect(history.turns.map((t) => t.messageIds)).toEqual([['1'], ['2'], ['3']]);
    expect(history.turns.every((t) => t.status === 'completed')).toBe(true);
    expect(history.transcript.filter((e) => e.role === 'assistant').map((e) => e.text)).toEqual([
      'echo: one',
      'echo: two',
      'echo: three',
    ]);
  });

  it('interrupt: the running turn is cancelled and the new message is answered', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'write me an essay'), sessionKey, verySlow, { queueMode: 'interrupt' });
    await h.historyWhen(sessionKey, (s) => s.running?.messageIds[0] === '1');
    const firstTurn = h.client.workflow.getHandle(turnWorkflowId(sessionKey, '1'));
    await vi.waitFor(async () => expect((await firstTurn.describe()).status.name).toBe('RUNNING'), {
      timeout: 10_000,
      interval: 100,
    });

    await h.ingest(message('2', 'never mind, just say hi'), sessionKey, slow, { queueMode: 'interrupt' });
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(history.turns.map((t) => [t.messageIds, t.status])).toEqual([
      [['1'], 'interrupted'],
      [['2'], 'completed'],
    ]);
    expect((await firstTurn.describe()).status.name).toBe('CANCELLED');
    expect(history.transcript.filter((e) => e.role === 'assistant').map((e) => e.text)).toEqual([
      'echo: never mind, just say hi',
    ]);
  });

  it('steer: a message during a turn is signalled into it, and no second turn starts', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'plan my trip'), sessionKey, verySlow, { queueMode: 'steer' });
    const firstTurn = h.client.workflow.getHandle(turnWorkflowId(sessionKey, '1'));
    await vi.waitFor(async () => expect((await firstTurn.describe()).status.name).toBe('RUNNING'), {
      timeout: 10_000,
      interval: 100,
    });

    await h.ingest(message('2', 'by train, please'), sessionKey, verySlow, { queueMode: 'steer' });
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(history.turns[0]).toMatchObject({ messageIds: ['1'], steered: ['2'], status: 'completed' });
    expect(history.transcript.find((e) => e.messageId === '2')).toMatchObject({
      role: 'user',
      steered: true,
      turnId: turnWorkflowId(sessionKey, '1'),
    });
    const signals = (await firstTurn.fetchHistory()).events?.filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'pipeline.steer',
    );
    expect(signals).toHaveLength(1);
  });
});
