import { describe, expect, it } from 'vitest';
import { sessionWorkflowId } from '../../channels/session-key.js';
import { listSessions, resetSession, SessionNotFoundError } from '../../client/sessions.js';
import { compilePipeline, formatErrors } from '../../engine/index.js';
import { sessionCompactUpdate, turnWorkflowId } from '../../workflows/session/session-api.js';
import { chat, echoPipeline, idle, runSessionsCli, sessionHarness } from './harness.js';

describe('a session: one conversation as a workflow', () => {
  const h = sessionHarness('session');
  const quick = echoPipeline('10ms');

  it('turns a message into a child turn named after the message id', async () => {
    const { sessionKey, message } = chat();
    const ingested = await h.ingest(message('7', 'hello'), sessionKey, quick);
    expect(ingested.workflowId).toBe(sessionWorkflowId(sessionKey));

    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(history.turns[0]).toMatchObject({
      workflowId: `turn:${sessionKey}:7`,
      messageIds: ['7'],
      status: 'completed',
    });
    const turn = h.client.workflow.getHandle(`turn:${sessionKey}:7`);
    expect(await turn.result()).toEqual({ reply: 'echo: hello', count: 1 });
    const description = await turn.describe();
    expect(description.type).toBe('pipelineWorkflow');
    expect(description.parentExecution?.workflowId).toBe(sessionWorkflowId(sessionKey));
  });

  it('records a failed turn and still answers the next message', async () => {
    const failing = compilePipeline(
      'name: broken\nsteps:\n  - raise:\n      error: Broken\n      message: this pipeline always fails\n',
      'test/session/broken.yaml',
    );
    if (!failing.ok) throw new Error(formatErrors(failing.errors));
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'first'), sessionKey, failing.pipeline);
    await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    await h.ingest(message('2', 'second'), sessionKey, quick);
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(history.turns[0]).toMatchObject({ messageIds: ['1'], status: 'failed' });
    expect(history.turns[0]?.error).toContain('this pipeline always fails');
    expect(history.turns[1]).toMatchObject({ messageIds: ['2'], status: 'completed' });
    expect(history.transcript.map((e) => e.text)).toEqual(['first', 'second', 'echo: second']);
  });

  it('drops a re-delivered message: the same update signalled twice is one turn', async () => {
    const { sessionKey, message } = chat();
    const first = message('1', 'hi');
    await h.ingest(first, sessionKey, quick);
    await h.ingest(first, sessionKey, quick);
    // A later message proves the duplicate signal was already handled (signals are ordered).
    await h.ingest(message('2', 'still there?'), sessionKey, quick);
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(history.turns.map((t) => t.messageIds)).toEqual([['1'], ['2']]);
    expect(history.turnCount).toBe(2);
    expect(history.transcript.filter((e) => e.role === 'user').map((e) => e.messageId)).toEqual(['1', '2']);
  });

  it('answers the history query with the transcript, and reset empties it but still drops old re-deliveries', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'remember the milk'), sessionKey, quick);
    const before = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(before).toMatchObject({ sessionKey, summary: '', pending: [], running: null, turnCount: 1 });
    expect(before.transcript).toMatchObject([
      { role: 'user', text: 'remember the milk', messageId: '1', senderName: 'Alice' },
      { role: 'assistant', text: 'echo: remember the milk', turnId: turnWorkflowId(sessionKey, '1') },
    ]);
    await h.client.workflow
      .getHandle(sessionWorkflowId(sessionKey))
      .executeUpdate(sessionCompactUpdate, { args: [{ summary: 'Alice needs milk.' }] });
    expect((await h.history(sessionKey)).summary).toBe('Alice needs milk.');

    expect(await resetSession(h.client, sessionKey)).toEqual({ cleared: 2 });
    const after = await h.history(sessionKey);
    expect(after.transcript).toEqual([]);
    expect(after.summary).toBe('');

    await h.ingest(message('1', 'remember the milk'), sessionKey, quick);
    await h.ingest(message('2', 'fresh start'), sessionKey, quick);
    const latest = await h.historyWhen(sessionKey, (s) => idle(s) && s.turnCount === 2);
    expect(latest.transcript.map((e) => e.text)).toEqual(['fresh start', 'echo: fresh start']);
  });

  it('continues as new after K turns, keeping the transcript and the dedupe memory', async () => {
    const { sessionKey, message } = chat();
    const sessionOptions = { turnsPerRun: 2 };
    const handle = h.client.workflow.getHandle(sessionWorkflowId(sessionKey));
    await h.ingest(message('1', 'one'), sessionKey, quick, { sessionOptions });
    const firstRunId = (await handle.describe()).runId;
    await h.ingest(message('2', 'two'), sessionKey, quick, { sessionOptions });
    await h.ingest(message('3', 'three'), sessionKey, quick, { sessionOptions, queueMode: 'followup' });
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turnCount === 3);
    expect(history.generation).toBeGreaterThanOrEqual(1);
    expect(
      (await h.client.workflow.getHandle(sessionWorkflowId(sessionKey), firstRunId).describe()).status.name,
    ).toBe('CONTINUED_AS_NEW');

    // Re-deliveries of messages answered in the previous run are still recognised.
    await h.ingest(message('1', 'one'), sessionKey, quick);
    await h.ingest(message('2', 'two'), sessionKey, quick);
    await h.ingest(message('4', 'four'), sessionKey, quick);
    const latest = await h.historyWhen(sessionKey, (s) => idle(s) && s.turnCount === 4);
    expect(latest.turns.flatMap((t) => t.messageIds)).toEqual(['1', '2', '3', '4']);
    expect(latest.transcript.filter((e) => e.role === 'user').map((e) => e.text)).toEqual([
      'one',
      'two',
      'three',
      'four',
    ]);
  });

  it('switchyard sessions list | show | reset work against the running sessions', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'hello from the CLI test'), sessionKey, quick);
    await h.historyWhen(sessionKey, (s) => idle(s) && s.turnCount === 1);

    // Visibility is eventually consistent: wait until the list shows the new session.
    const deadline = Date.now() + 15_000;
    while (
      !(await listSessions(h.client, { limit: 1000, taskQueue: h.taskQueue })).some(
        (s) => s.sessionKey === sessionKey,
      )
    ) {
      if (Date.now() > deadline) throw new Error('the session never appeared in the visibility list');
      await new Promise((r) => setTimeout(r, 200));
    }
    const list = await run('sessions', 'list', '--limit', '1000');
    expect(list.exitCode).toBe(0);
    expect(list.out).toMatch(/^SESSION\s+STARTED\s+RUN\n/);
    expect(list.out).toContain(sessionKey);

    const show = await run('sessions', 'show', sessionKey);
    expect(show.out).toContain(`Session ${sessionKey}`);
    expect(show.out).toMatch(/Alice: hello from the CLI test\n.*assistant: echo: hello from the CLI test/);

    expect(await run('sessions', 'reset', sessionKey)).toEqual({
      out: `Reset ${sessionKey}: 2 transcript entries forgotten.\n`,
      err: '',
      exitCode: 0,
    });
    expect((await run('sessions', 'show', sessionKey)).out).toContain('(transcript is empty)');

    const missing = await run('sessions', 'show', 'agent:main:nobody');
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain("no open session 'agent:main:nobody'");
  });

  it('names a missing session instead of failing obscurely', async () => {
    await expect(resetSession(h.client, 'agent:main:telegram:direct:ghost')).rejects.toThrow(
      SessionNotFoundError,
    );
  });

  const run = (...args: string[]) => runSessionsCli(h, ...args);
});
