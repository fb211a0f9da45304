// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { randomUUID } from 'node:crypto';
import {
  type Context,
  fauxAssistantMessage,
  fauxToolCall,
  type Message,
  type ToolResultMessage,
} from '@mariozechner/pi-ai';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentToolDefinition } from '../../activities/agent/index.js';
import { resolveApproval, workflowApprovals } from '../../client/approvals.js';
import { builtInStepTypes } from '../../engine/index.js';
import type { PendingApproval } from '../../workflows/agent/approval-api.js';
import { type AgentChat, chatMessage, startAgentChat } from '../helpers/agent-chat.js';
import type { FauxAgent } from '../helpers/faux-agent.js';
import type { startRecordingChannel } from '../helpers/recording-channel.js';
import { until } from '../helpers/until.js';
import { compile, type Harness } from '../pipeline/harness.js';
import { scheduledByType } from './harness.js';

const address = inject('temporalAddress');

/** The pipelines the agent is offered as tools. */
const lookup = `
name: lookup
description: Looks a word up in the crab dictionary.
inputs:
  word:
    type: string
    description: The word to look up.
  lang:
    type: string
    default: en
outputs:
  meaning:
    value: \${{ steps.define.output }}
steps:
  - id: define
    uses: echo
    with:
      value: "\${{ inputs.word }} (\${{ inputs.lang }}): a small crab, asked in '\${{ message.text }}'"
`;
const broken = `
name: broken
inputs:
  word:
    type: string
steps:
  - raise: { error: NoSuchWord, message: "no entry for \${{ inputs.word }}" }
`;

const slow = 'name: slow\ndescription: Takes its time.\nsteps:\n  - wait: 30s\n';

const asker = compile(
  `
name: asker
outputs:
  reply:
    value: \${{ steps.turn.output.text }}
  tool_calls:
    value: \${{ steps.turn.output.usage.toolCalls }}
steps:
  - id: turn
    uses: agent.turn
    with:
      prompt: \${{ message.text }}
      pipeline_tools:
        - lookup
        - { pipeline: broken, name: strict_lookup, description: Looks a word up; fails when it is unknown. }
        - { pipeline: lookup, name: checked_lookup, approval: required }
        - { pipeline: slow, timeout: 1s }
`,
  builtInStepTypes,
  { lookup, broken, slow },
);

/** Offers a pipeline under the name of a tool the worker registers. */
const clashing = compile(
  `
name: clashing
steps:
  - uses: agent.turn
    with:
      prompt: hi
      pipeline_tools: [{ pipeline: lookup, name: clock }]
`,
  builtInStepTypes,
  { lookup },
);

const clock: AgentToolDefinition = {
  name: 'clock',
  description: 'Tells the time.',
  parameters: { type: 'object', properties: {} },
  execute: async () => '12:00',
};

describe('pipelines offered to the model as tools, on a real Temporal server (faux provider)', () => {
  let agent: FauxAgent;
  let h: Harness;
  let chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  const seen: { tools: Context['tools'][]; results: ToolResultMessage[][] } = { tools: [], results: [] };

  let stack: AgentChat;
  beforeAll(async () => {
    stack = await startAgentChat(address, 'pipeline-tools', { agent: { tools: [clock] } });
    ({ agent, h, chat } = stack);
  });
  afterAll(async () => stack?.close());

  const message = (text: string) => chatMessage(chat.channel, text);

  /** The model calls `tool` with `args` once, then answers with what the tool result said. */
  function script(tool: string, args: Record<string, unknown>, id = `call_${randomUUID().slice(0, 8)}`) {
    agent.faux.setResponses([
      (context) => {
        seen.tools.push(context.tools);
        return fauxAssistantMessage([fauxToolCall(tool, args, { id })], { stopReason: 'toolUse' });
      },
      (context) => {
        const results = context.messages.filter((m): m is ToolResultMessage => m.role === 'toolResult');
        seen.results.push(results);
        return fauxAssistantMessage(`Answer: ${results.map(resultText).join(' | ')}`);
      },
    ]);
    return id;
  }

  it('runs the called pipeline as a child workflow with the model’s arguments, and its outputs reach the answer', async () => {
    const toolCallId = script('lookup', { word: 'ferris' });
    const handle = await h.start(asker, {}, message('what is a ferris?'));
    const out = await handle.result();

    const meaning = "ferris (en): a small crab, asked in 'what is a ferris?'";
    expect(out).toEqual({ reply: `Answer: {"meaning":"${meaning}"}`, tool_calls: 1 });
    expect(seen.results.at(-1)!.map((r) => [r.toolName, r.isError])).toEqual([['lookup', false]]);

    // The model was offered the pipeline with its description and its inputs as arguments.
    const offered = seen.tools.at(-1)!.find((t) => t.name === 'lookup');
    expect(offered).toMatchObject({
      description: 'Looks a word up in the crab dictionary.',
      parameters: {
        type: 'object',
        properties: { word: { type: 'string', description: 'The word to look up.' } },
        required: ['word'],
      },
    });

    // The child is in the parent's history, under an id made of the run and the tool call id.
    const events = (await handle.fetchHistory()).events ?? [];
    const started = events
      .map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
      .filter((a) => !!a);
    expect(started.map((a) => [a.workflowType?.name, a.workflowId])).toEqual([
      ['pipelineWorkflow', `lookup-${handle.firstExecutionRunId}-turn-${toolCallId}`],
    ]);
    expect(events.some((e) => e.childWorkflowExecutionCompletedEventAttributes)).toBe(true);
    const child = await h.client.workflow.getHandle(started[0]!.workflowId!).describe();
    expect(child.status.name).toBe('COMPLETED');
    expect(child.memo).toMatchObject({ pipeline: 'lookup', tool: 'lookup' });
    expect(await h.client.workflow.getHandle(started[0]!.workflowId!).result()).toEqual({ meaning });
  });

  it('hands a failed child to the model as an error result, and the turn still answers', async () => {
    script('strict_lookup', { word: 'zzz' });
    const out = await h.run(asker, {}, message('what is zzz?'));

    const [result] = seen.results.at(-1)!;
    expect(result!.isError).toBe(true);
    expect(resultText(result!)).toBe('pipeline broken failed: NoSuchWord: no entry for zzz');
    expect(out.reply).toBe('Answer: pipeline broken failed: NoSuchWord: no entry for zzz');
  });

  it('cancels a child that outlives the tool timeout, and the model reads that it timed out', async () => {
    script('slow', {});
    const handle = await h.start(asker, {}, message('take your time'));
    const out = (await handle.result()) as { reply: string };
    expect(out.reply).toBe('Answer: pipeline slow did not finish within 1s and was cancelled');
    const events = (await handle.fetchHistory()).events ?? [];
    const childId = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
      ?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    const child = h.client.workflow.getHandle(childId ?? '');
    expect(
      await until(async () => ((await child.describe()).status.name === 'CANCELLED' ? true : undefined)),
    ).toBe(true);
  });

  it('refuses, before any model call, a pipeline tool named like a registered tool', async () => {
    const handle = await h.start(clashing, {}, message('hi'));
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'PipelineToolConflict',
      message:
        "pipeline tool 'clock' (pipeline lookup) has the name of a tool this worker registers; give it another name: in pipeline_tools, or leave the registered one out with tools:",
    });
    expect(scheduledByType((await handle.fetchHistory()).events ?? []).agentModelCall).toBeUndefined();
  });

  it('asks the chat to approve a pipeline tool marked approval: required, then runs it', async () => {
    script('checked_lookup', { word: 'kelp' });
    const msg = message('what is kelp?');
    const handle = await h.start(asker, {}, msg);
    const notice = await until(() => chat.sent.find((s) => s.chatId === msg.chat.id));
    const [pending] = await until(async () => {
      const list = await workflowApprovals(h.client, handle.workflowId);
      return list.length > 0 ? list : undefined;
    });
    expect(pending).toMatchObject({
      tool: 'checked_lookup',
      args: '{"word":"kelp"}',
    } satisfies Partial<PendingApproval>);
    expect(notice.text).toBe(
      `Approval needed: \`checked_lookup\` {"word":"kelp"} (id ${pending!.id}). Reply /approve ${pending!.id} or /deny ${pending!.id} within 10 min.`,
    );
    // Nothing ran before the owner said yes.
    const before = (await handle.fetchHistory()).events ?? [];
    expect(before.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);

    await resolveApproval(h.client, handle.workflowId, pending!.id, 'approve');
    const out = (await handle.result()) as { reply: string };
    expect(out.reply).toBe(`Answer: {"meaning":"kelp (en): a small crab, asked in 'what is kelp?'"}`);
    expect(chat.sent.filter((s) => s.chatId === msg.chat.id)).toHaveLength(1);
  });
});

function resultText(message: Message): string {
  if (message.role !== 'toolResult') return '';
  return message.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}
