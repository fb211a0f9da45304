import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentModelsConfig } from '../../activities/agent/index.js';
import type { PipelineStepDeps } from '../../activities/pipeline-steps.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { projectRoot } from '../../config/home.js';
import { builtInStepTypes } from '../../engine/index.js';
import { MemoryError } from '../../memory/errors.js';
import type { MemoryService } from '../../memory/service.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { startRecordingChannel } from '../helpers/recording-channel.js';
import { compile, type Harness, startHarness } from './harness.js';

const run = promisify(execFile);

describe('the shipped default pipeline on a real worker, with the faux model and a recording chat', () => {
  const address = inject('temporalAddress');
  const calls: string[] = [];
  const prompts: string[] = [];
  const p = compile(readFileSync(join(projectRoot(), 'pipelines', 'default.yaml'), 'utf8'), builtInStepTypes);
  let agent: FauxAgent;
  let h: Harness;
  let chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  const sent = () => chat.sent;

  const message = (over: Partial<InboundMessage> = {}): InboundMessage => ({
    channel: chat.channel,
    accountId: 'default',
    chat: { id: 'chat-9', kind: 'direct' },
    sender: { id: 'u-1', name: 'Ada' },
    messageId: `m-${randomUUID().slice(0, 6)}`,
    platformId: `${chat.channel}:chat-9:1`,
    text: 'what is on today?',
    attachments: [{ id: 'a-1', kind: 'image', mime: 'image/png', sha256: 'a1'.repeat(32), name: 'plan.png' }],
    mentions: [],
    wasMentioned: false,
    timestamp: Date.parse('2026-01-01T00:00:00Z'),
    ...over,
  });

  // The worker reads the agent configuration on every call, as a real one re-reads its config.
  let models: AgentModelsConfig;
  // Read by the step activities at each call: a test may swap the memory.
  const stepDeps: PipelineStepDeps = { onCall: (e) => calls.push(e.activity) };
  beforeAll(async () => {
    agent = fauxAgent({ agents: ['main'], silent: ['mute'] });
    models = agent.config;
    h = await startHarness(address, 'default', {
      pipelineSteps: stepDeps,
      agent: { config: () => models },
    });
    chat = await startRecordingChannel(address, h.taskQueue, undefined, h.dataConverter);
  });
  afterAll(async () => {
    await chat?.close();
    await h?.close();
    agent?.close();
  });

  it('enriches media, recalls memory, runs the agent and sends its answer once to the chat it came from', async () => {
    sent().length = 0;
    calls.length = 0;
    agent.answerWith((prompt) => {
      prompts.push(prompt);
      return 'Nothing today, Ada.';
    });
    const msg = message();
    const out = await h.run(p, {}, msg);
    expect(out.reply).toBe('Nothing today, Ada.');
    expect(sent()).toEqual([{ chatId: 'chat-9', text: 'Nothing today, Ada.', replyTo: msg.messageId }]);
    // media.enrich runs in the workflow (its conversions are activities: test/media/media-stage.test.ts).
    expect([...calls].sort()).toEqual(['memoryRecall']);
    // What the pipeline gathered reaches the model with the question: this worker has no media
    // store, so the attachment is a note saying it could not be read, never a failed turn.
    expect(prompts.at(-1)).toMatch(
      /what is on today\?[\s\S]*could not read the attachment \(image plan\.png\)/,
    );
  });

  it("reports the agent's compaction (new summary, entries kept) for the session to adopt", async () => {
    sent().length = 0;
    agent.answerWith((prompt) =>
      prompt.includes('Write the updated summary') ? 'They talked a lot.' : 'Short answer.',
    );
    // 30 long entries (~15k tokens) cannot fit a 16k window minus the reserve: older ones are folded.
    const transcript = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      text: `entry ${i} ${'blah '.repeat(400)}`,
      at: i,
    }));
    const out = (await h.run(p, { transcript, summary: '' }, message({ attachments: [] }))) as {
      reply: string;
      compaction: { summary: string; kept: number };
    };
    expect(out.reply).toBe('Short answer.');
    expect(out.compaction.summary).toBe('They talked a lot.');
    expect(out.compaction.kept).toBeGreaterThan(0);
    expect(out.compaction.kept).toBeLessThan(30);
    // A short conversation is not compacted: the session keeps its transcript as it is.
    const small = (await h.run(
      p,
      { transcript: transcript.slice(0, 2).map((e) => ({ ...e, text: 'hi' })) },
      message({ attachments: [] }),
    )) as {
      compaction: { summary: string; kept: number };
    };
    expect(small.compaction).toEqual({ summary: '', kept: 2 });
  });

  it('answers without memories when memory is down, after the recall step’s retries', async () => {
    sent().length = 0;
    calls.length = 0;
    stepDeps.memory = {
      enabled: true,
      agent: () => ({
        search: async () => {
          throw new MemoryError('store-unavailable', 'Qdrant at http://qdrant:6333 is not reachable');
        },
      }),
    } as unknown as MemoryService;
    try {
      agent.answerWith((prompt) =>
        prompt.includes('[Things you remember]') ? 'Remembered.' : 'Answered anyway.',
      );
      const out = await h.run(p, {}, message({ attachments: [] }));
      expect(out.reply).toBe('Answered anyway.');
      expect(calls.filter((c) => c === 'memoryRecall')).toHaveLength(3);
    } finally {
      delete stepDeps.memory;
    }
  });

  it('does not answer a group message that does not mention it, and calls nothing', async () => {
    sent().length = 0;
    calls.length = 0;
    const out = await h.run(p, {}, message({ chat: { id: 'g', kind: 'group' }, attachments: [] }));
    expect(out).toEqual({ reply: '', compaction: null, media: null });
    expect(calls).toEqual([]);
    expect(sent()).toEqual([]);
  });

  it('tells the person briefly when the agent cannot answer, and fails the run so it can be reset', async () => {
    sent().length = 0;
    const handle = await h.start(p, { agent: 'mute' }, message({ attachments: [] }));
    const failure = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/agent 'mute' has no model/);
    expect(sent()).toHaveLength(1);
    expect(sent()[0]!.text).toMatch(/^Sorry, I could not answer that: .*agent 'mute' has no model/);
  });

  it('after the config is fixed, `temporal workflow reset` re-runs the failed turn and the reply is delivered once', async () => {
    sent().length = 0;
    agent.answerWith(() => 'Now I can answer.');
    const handle = await h.start(p, { agent: 'mute' }, message({ attachments: [] }));
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(sent().map((m) => m.text)).toEqual([expect.stringMatching(/^Sorry, I could not answer that: /)]);

    // The owner fixes the config: the agent gets a model. Then resets the turn, as the UI does.
    const fixed = fauxAgent({ agents: ['main', 'mute'] });
    fixed.answerWith(() => 'Now I can answer.');
    models = fixed.config;
    try {
      await run(inject('temporalCli'), [
        'workflow',
        'reset',
        '--workflow-id',
        handle.workflowId,
        '--type',
        'FirstWorkflowTask',
        '--reason',
        'config fixed',
        '--address',
        address,
      ]);
      const rerun = h.client.workflow.getHandle(handle.workflowId);
      await expect
        .poll(async () => (await rerun.describe()).status.name, { timeout: 30_000 })
        .toBe('COMPLETED');
      expect(await rerun.result()).toMatchObject({ reply: 'Now I can answer.', compaction: { summary: '' } });
      // The apology of the failed run, then the answer of the reset run: each exactly once.
      expect(sent().map((m) => m.text)).toEqual([
        expect.stringMatching(/^Sorry, I could not answer that: /),
        'Now I can answer.',
      ]);
    } finally {
      fixed.close();
    }
  });
});
