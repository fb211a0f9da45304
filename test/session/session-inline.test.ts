// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
// The turn fast path: pipelines that wait for nothing run inside the session workflow (no child),
// answer-only messages get their answer as the result of the `session.turn` update, a failed turn
// is still a failed workflow that a reset re-runs into its conversation, and messages of
// different origins in one shared session never share a turn.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createChannelSendActivities } from '../../activities/channel-send.js';
import type { InboundMessage } from '../../channels/envelope.js';
import type { CompiledPipeline } from '../../engine/ir.js';
import { startChannelWorker } from '../../gateway/channels/channel-worker.js';
import { openDb } from '../../gateway/store/db.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { channelTaskQueue } from '../../workflows/channel/channel-api.js';
import { type PipelineRunInput, UNCERTAIN_SENDS_MEMO } from '../../workflows/pipeline/pipeline-api.js';
import { turnWorkflowId } from '../../workflows/session/session-api.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { writeHistoryFixture } from '../helpers/histories.js';
import { chat, compiled, echoPipeline, idle, runSessionsCli, sessionHarness } from './harness.js';

const run = promisify(execFile);

/**
 * `RECORD_SESSION_HISTORIES=1 npx vitest run test/session/session-inline.test.ts` writes the
 * sessions' histories as replay fixtures (test/replay/histories/). Not the reset turns' own:
 * see test/replay/README.md.
 */
async function record(client: Client, id: string, file: string): Promise<void> {
  if (!process.env.RECORD_SESSION_HISTORIES) return;
  const history = await client.workflow.getHandle(id).fetchHistory();
  writeHistoryFixture(join(import.meta.dirname, '..', 'replay', 'histories', file), history, id);
}

const INLINE_FILE = 'test/session/inline.yaml';

/** Messages of several people, each in a chat of their own, that share one session. */
function messageFrom(channel: string, options: { named: boolean }) {
  return (who: string, id: string, text: string): InboundMessage => ({
    channel,
    accountId: 'default',
    chat: { id: `chat-${who}`, kind: 'direct' },
    sender: options.named ? { id: `user-${who}`, name: who } : { id: `user-${who}` },
    messageId: id,
    text,
    attachments: [],
    mentions: [],
    wasMentioned: false,
    timestamp: 1_767_225_600_000 + Number(id),
    platformId: `${who}:${id}`,
  });
}

/** Waits for nothing: runs inside the session. Replies to the message's chat. */
const inline = compiled(
  [
    'name: session-inline',
    'inputs:',
    '  text:',
    '    type: string',
    '  batch:',
    '    type: array',
    'outputs:',
    '  reply:',
    '    value: "echo: ${{ inputs.text }}"',
    'steps:',
    '  - id: answer',
    '    uses: reply.send',
    '    with:',
    '      text: "echo: ${{ inputs.text }} (${{ size(inputs.batch) }})"',
    '',
  ],
  INLINE_FILE,
);

/** An agent turn and nothing else; `wait` makes it a child workflow. */
function agentPipeline(wait: boolean): CompiledPipeline {
  return compiled(
    [
      `name: session-agent-${wait ? 'child' : 'inline'}`,
      'inputs:',
      '  text:',
      '    type: string',
      '  transcript:',
      '    type: array',
      'outputs:',
      '  reply:',
      '    value: ${{ steps.turn.output.text }}',
      'steps:',
      ...(wait ? ['  - id: breathe', '    wait: 10ms'] : []),
      '  - id: turn',
      '    uses: agent.turn',
      '    with:',
      '      prompt: ${{ inputs.text }}',
      '      transcript: ${{ inputs.transcript }}',
      '',
    ],
    INLINE_FILE,
  );
}

let wire: WireServer;
let failNext = 0;

describe('the turn fast path', () => {
  const cli = inject('temporalCli');
  const address = inject('temporalAddress');
  beforeAll(async () => {
    wire = await startWireServer('openai', (req) => {
      if (failNext > 0) {
        failNext--;
        return { status: 401, message: 'invalid api key' };
      }
      const messages = (req.body.messages ?? []) as unknown[];
      const last = JSON.stringify(messages.at(-1));
      return { text: last.includes('first question') ? 'first answer' : 'another answer' };
    });
  });
  afterAll(async () => {
    await wire?.close();
  });
  const h = sessionHarness('inline', {
    yaml: () =>
      [
        'providers:',
        '  wire:',
        '    type: openai-compatible',
        `    baseUrl: ${wire.url}/v1`,
        '    apiKey: none',
        '    models: [{ id: m1, contextWindow: 32000, maxTokens: 1000 }]',
        'agents:',
        '  - id: main',
        '    model: wire/m1',
        '',
      ].join('\n'),
  });

  it('runs a pipeline that waits for nothing inside the session: no child workflow', async () => {
    expect(inline.ir.inline).toBe(true);
    expect(echoPipeline('10ms').ir.inline).toBeUndefined();
    const { sessionKey, message } = chat();
    await h.ingest(message('1', 'hello'), sessionKey, agentPipeline(false));
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
    expect(history.turns[0]).toMatchObject({ messageIds: ['1'], status: 'completed', inline: true });
    expect(history.turns[0]!.usage).toMatchObject({ modelCalls: 1, toolCalls: 0 });
    expect(history.transcript.map((e) => e.text)).toEqual(['hello', 'another answer']);
    await expect(
      h.client.workflow.getHandle(turnWorkflowId(sessionKey, '1')).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    const events = (await h.client.workflow.getHandle(`session:${sessionKey}`).fetchHistory()).events ?? [];
    expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    await record(h.client, `session:${sessionKey}`, 'session-inline-agent-turn.json');
  });

  it('answers a session.turn update with the reply to its chat; sent again, it gets the same answer and no second turn', async () => {
    const { sessionKey, message } = chat();
    const first = message('1', 'ping');
    const ingested = await h.ingest(first, sessionKey, inline, { replyVia: 'answer' });
    expect(await ingested.answer).toEqual({
      status: 'completed',
      turnId: turnWorkflowId(sessionKey, '1'),
      replies: [{ text: 'echo: ping (1)' }],
    });
    const again = await h.ingest(first, sessionKey, inline, { replyVia: 'answer' });
    expect(await again.answer).toMatchObject({ status: 'completed', replies: [{ text: 'echo: ping (1)' }] });
    const history = await h.historyWhen(sessionKey, idle);
    expect(history.turns).toHaveLength(1);
    expect(history.transcript.map((e) => e.text)).toEqual(['ping', 'echo: ping']);
    await record(h.client, `session:${sessionKey}`, 'session-turn-update.json');
  });

  it("records an inline turn's uncertain send on its turn record (not the session's memo); sessions show lists it", async () => {
    // The chat's channel is served by the real send activity on an outbox where a gateway run
    // that died had claimed the turn's reply without an outcome: the send is uncertain (skip).
    const channel = `t${randomUUID().slice(0, 8)}`;
    const chatId = randomUUID().slice(0, 8);
    const sessionKey = `agent:main:${channel}:direct:${chatId}`;
    const turnId = turnWorkflowId(sessionKey, '1');
    const db = openDb(':memory:');
    new Outbox(db, { runId: 'dead-gateway' }).claim({
      key: `${turnId}:answer:0`,
      channel,
      accountId: 'default',
      chatId,
      textSha256: 'unknown',
    });
    const sent: string[] = [];
    const sender = await startChannelWorker({
      connection: { address },
      namespace: 'default',
      dataConverter: h.dataConverter,
      taskQueue: channelTaskQueue(h.taskQueue, channel),
      activities: createChannelSendActivities({
        outbox: new Outbox(db, { runId: 'this-gateway' }),
        senders: [
          {
            channel,
            accountId: 'default',
            textLimit: 4000,
            send: async (_chat, text) => {
              sent.push(text);
              return { messageId: String(sent.length) };
            },
          },
        ],
      }),
    });
    try {
      await h.ingest(
        {
          channel,
          accountId: 'default',
          chat: { id: chatId, kind: 'direct' },
          sender: { id: chatId },
          messageId: '1',
          text: 'hello',
          attachments: [],
          mentions: [],
          wasMentioned: false,
          timestamp: 1_767_225_600_000,
          platformId: 'update:1',
        },
        sessionKey,
        inline,
      );
      const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
      expect(history.turns[0]).toMatchObject({
        workflowId: turnId,
        inline: true,
        status: 'completed',
        uncertainSends: [
          { step: 'answer', channel, chat: chatId, chunks: 1, uncertain: [0], resent: [], policy: 'skip' },
        ],
      });
      expect(sent).toEqual([]);
      const { memo } = await h.client.workflow.getHandle(`session:${sessionKey}`).describe();
      expect(memo?.[UNCERTAIN_SENDS_MEMO]).toBeUndefined();
      const shown = await runSessionsCli(h, 'sessions', 'show', sessionKey);
      expect(shown.out).toContain(
        `! uncertain send (onUncertain: skip): reply to ${channel} ${chatId} (step answer): chunk 1/1 may not have arrived and was not sent again`,
      );
    } finally {
      await sender.shutdown();
      db.close();
    }
  });

  it('never batches messages of different chats or senders in one shared session: each turn answers one origin', async () => {
    const sessionKey = `agent:main:main-${randomUUID().slice(0, 8)}`;
    const from = messageFrom('telegram', { named: true });
    const slow = echoPipeline('1s');
    await h.ingest(from('a', '1', 'a1'), sessionKey, slow);
    await h.historyWhen(sessionKey, (s) => s.running !== null);
    // While a's first turn runs: b writes, then a twice (collect mode batches a's two).
    await h.ingest(from('b', '2', 'b1'), sessionKey, slow);
    await h.ingest(from('a', '3', 'a2'), sessionKey, slow);
    await h.ingest(from('a', '4', 'a3'), sessionKey, slow);
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 3);
    expect(history.turns.map((t) => t.messageIds)).toEqual([['1'], ['2'], ['3', '4']]);
    // Each turn answered its own chat, with its own text only.
    for (const turn of history.turns) {
      const events = (await h.client.workflow.getHandle(turn.workflowId).fetchHistory()).events ?? [];
      const payload = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const input = (await h.decode(payload as Payload)) as PipelineRunInput;
      const message = input.message as InboundMessage;
      expect(message.chat.id).toBe(turn.messageIds[0] === '2' ? 'chat-b' : 'chat-a');
      expect(message.text).toBe({ '1': 'a1', '2': 'b1', '3': 'a2\n\na3' }[turn.messageIds[0]!]);
    }
  });

  it('a steer or interrupt from another chat leaves the running turn alone: it gets its own turn', async () => {
    const sessionKey = `agent:main:main-${randomUUID().slice(0, 8)}`;
    const from = messageFrom('webchat', { named: false });
    const slow = echoPipeline('1s');
    await h.ingest(from('a', '1', 'mine'), sessionKey, slow, { queueMode: 'steer' });
    await h.historyWhen(sessionKey, (s) => s.running !== null);
    await h.ingest(from('b', '2', 'steer it'), sessionKey, slow, { queueMode: 'steer' });
    await h.ingest(from('c', '3', 'stop it'), sessionKey, slow, { queueMode: 'interrupt' });
    const history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 3);
    expect(history.turns.map((t) => [t.messageIds, t.status, t.steered])).toEqual([
      [['1'], 'completed', []],
      [['2'], 'completed', []],
      [['3'], 'completed', []],
    ]);
  });

  it.each([
    ['inside the session', false],
    ['as a child workflow', true],
  ])(
    'a failed turn run %s is a failed workflow; a reset re-runs it and the session records the answer in order',
    async (_how, child) => {
      const { sessionKey, message } = chat();
      const pipeline = agentPipeline(child);
      failNext = 1;
      await h.ingest(message('1', 'first question'), sessionKey, pipeline);
      await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 1);
      await h.ingest(message('2', 'second question'), sessionKey, pipeline);
      let history = await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 2);
      expect(history.turns.map((t) => t.status)).toEqual(['failed', 'completed']);
      expect(history.turns[0]!.error).toMatch(/401|invalid api key/);

      const turnId = turnWorkflowId(sessionKey, '1');
      const failed = h.client.workflow.getHandle(turnId);
      await expect
        .poll(async () => (await failed.describe()).status.name, { timeout: 15_000 })
        .toBe('FAILED');
      expect((await failed.describe()).parentExecution?.workflowId).toBe(`session:${sessionKey}`);

      // As the UI's Reset button does.
      await run(cli, [
        'workflow',
        'reset',
        '--address',
        address,
        '--workflow-id',
        turnId,
        '--type',
        'FirstWorkflowTask',
        '--reason',
        'key fixed',
      ]);
      await expect
        .poll(async () => (await failed.describe()).status.name, { timeout: 30_000 })
        .toBe('COMPLETED');
      history = await h.historyWhen(sessionKey, (s) => s.turns[0]?.status === 'completed');
      expect(history.turns[0]).toMatchObject({ workflowId: turnId, status: 'completed', rerun: true });
      expect(history.transcript.map((e) => `${e.role}: ${e.text}`)).toEqual([
        'user: first question',
        'assistant: first answer',
        'user: second question',
        'assistant: another answer',
      ]);

      // The next turn reads the re-run's answer.
      await h.ingest(message('3', 'third question'), sessionKey, pipeline);
      await h.historyWhen(sessionKey, (s) => idle(s) && s.turns.length === 3);
      expect(JSON.stringify(wire.requests.at(-1)!.body)).toContain('first answer');
      const how = child ? 'child' : 'inline';
      await record(h.client, `session:${sessionKey}`, `session-${how}-failed-turn-rerun.json`);
    },
  );
});
