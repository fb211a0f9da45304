// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
// What the owner (and OpenClaw's chat.abort / sessions.compact) can do to a live conversation:
// stop the running turn, and what a turn hands back to the session (its compaction) — plus what
// a turn is given to read.
import { describe, expect, it } from 'vitest';
import { abortSession, compactSession } from '../../client/sessions.js';
import { compilePipeline, formatErrors } from '../../engine/index.js';
import { chat, echoPipeline, idle, runSessionsCli, sessionHarness } from './harness.js';

function pipeline(source: string) {
  const result = compilePipeline(source, 'test/session/control.yaml');
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}

/** Answers how many earlier transcript entries it was given, and which texts. */
const reader = pipeline(
  [
    'name: transcript-reader',
    'inputs:',
    '  text: { type: string }',
    '  transcript: { type: array }',
    'outputs:',
    '  reply:',
    '    value: "${{ inputs.text }} after [${{ inputs.transcript.map(e, e.text).join(\'|\') }}]"',
    'steps:',
    '  - wait: 1ms',
    '',
  ].join('\n'),
);

/** Folds everything but the last earlier entry into a summary, as the agent's compaction does. */
const compacting = pipeline(
  [
    'name: compacting',
    'inputs:',
    '  text: { type: string }',
    '  transcript: { type: array }',
    'outputs:',
    '  reply:',
    '    value: "answer to ${{ inputs.text }}"',
    '  compaction:',
    "    value: \"${{ {'summary': 'folded ' + string(size(inputs.transcript) - 1) + ' entries', 'kept': 1} }}\"",
    'steps:',
    '  - wait: 1ms',
    '',
  ].join('\n'),
);

describe('controlling a live session', () => {
  const h = sessionHarness('session-control');

  it('a turn reads the conversation before its own message, which it gets as its prompt', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'one'), sessionKey, reader);
    await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    await h.ingest(message('2', 'two'), sessionKey, reader);
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(history.transcript.map((e) => e.text)).toEqual([
      'one',
      'one after []',
      'two',
      'two after [one|one after []]',
    ]);
  });

  it('abort cancels the running turn: no answer is recorded, queued messages are dropped, the next message is answered', async () => {
    const slow = echoPipeline('5m');
    const quick = echoPipeline('10ms');
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'take your time'), sessionKey, slow);
    await h.historyWhen(sessionKey, (s) => s.running !== null);
    await h.ingest(message('2', 'queued behind it'), sessionKey, slow);
    await h.historyWhen(sessionKey, (s) => s.pending.length === 1);

    const result = await abortSession(h.client, sessionKey);
    expect(result).toEqual({
      aborted: true,
      turnIds: [`turn:${sessionKey}:1`],
      messageIds: ['1', '2'],
      dropped: ['2'],
    });
    const after = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(after.turns[0]).toMatchObject({ messageIds: ['1'], status: 'interrupted' });
    expect(after.transcript.map((e) => e.role)).toEqual(['user']);
    const turn = await h.client.workflow.getHandle(`turn:${sessionKey}:1`).describe();
    expect(turn.status.name).toBe('CANCELLED');

    await h.ingest(message('3', 'are you there?'), sessionKey, quick);
    const next = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
    expect(next.turns[1]).toMatchObject({ messageIds: ['3'], status: 'completed' });
    expect(next.transcript.at(-1)).toMatchObject({ role: 'assistant', text: 'echo: are you there?' });
    // Nothing left to stop.
    expect(await abortSession(h.client, sessionKey)).toEqual({
      aborted: false,
      turnIds: [],
      messageIds: [],
      dropped: [],
    });
  });

  it('switchyard sessions abort stops the running turn and says what it did', async () => {
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'long job'), sessionKey, echoPipeline('5m'));
    await h.historyWhen(sessionKey, (s) => s.running !== null);
    expect(await run('sessions', 'abort', sessionKey)).toEqual({
      out: `${sessionKey}: stopped turn:${sessionKey}:1.\n`,
      err: '',
      exitCode: 0,
    });
    await h.historyWhen(sessionKey, (s) => idle(s) && s.turns[0]?.status === 'interrupted');
    expect((await run('sessions', 'abort', sessionKey)).out).toBe(
      `Nothing to stop in ${sessionKey}: no turn is running.\n`,
    );
    const missing = await run('sessions', 'abort', 'agent:main:nobody');
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain("no open session 'agent:main:nobody'");
  });

  it("abort naming another run's message leaves the running turn alone, but can take back a queued message", async () => {
    const slow = echoPipeline('2s');
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'first'), sessionKey, slow);
    await h.historyWhen(sessionKey, (s) => s.running !== null);
    await h.ingest(message('2', 'second'), sessionKey, slow);
    await h.historyWhen(sessionKey, (s) => s.pending.length === 1);

    expect(await abortSession(h.client, sessionKey, { messageIds: ['nope'] })).toEqual({
      aborted: false,
      turnIds: [],
      messageIds: [],
      dropped: [],
    });
    expect(await abortSession(h.client, sessionKey, { messageIds: ['2'] })).toEqual({
      aborted: false,
      turnIds: [],
      messageIds: ['2'],
      dropped: ['2'],
    });
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(history.turns[0]).toMatchObject({ messageIds: ['1'], status: 'completed' });
    expect(history.transcript.map((e) => e.text)).toEqual(['first', 'echo: first']);
  });

  it("adopts a turn's compaction: the summary replaces older entries, the next turn starts from it", async () => {
    const quick = echoPipeline('10ms');
    const { sessionKey, message } = chat();
    for (const [id, text] of [
      ['1', 'a'],
      ['2', 'b'],
    ] as const) {
      await h.ingest(message(id, text), sessionKey, quick);
      await h.historyWhen(sessionKey, (s) => idle(s) && s.transcript.length === Number(id) * 2);
    }
    await h.ingest(message('3', 'c'), sessionKey, compacting);
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 3);
    expect(history.summary).toBe('folded 3 entries');
    expect(history.transcript.map((e) => e.text)).toEqual(['echo: b', 'c', 'answer to c']);
    // An owner's compaction that only trims (OpenClaw's sessions.compact) keeps that summary.
    expect(await compactSession(h.client, sessionKey, { keepLast: 1 })).toEqual({ transcript: 1 });
    const trimmed = await h.history(sessionKey);
    expect(trimmed.summary).toBe('folded 3 entries');
    expect(trimmed.transcript.map((e) => e.text)).toEqual(['answer to c']);
  });

  const run = (...args: string[]) => runSessionsCli(h, ...args);
});
