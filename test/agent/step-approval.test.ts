// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { randomUUID } from 'node:crypto';
import { fauxAssistantMessage, fauxToolCall, type ToolResultMessage } from '@mariozechner/pi-ai';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentToolDefinition, ToolSpec } from '../../activities/agent/index.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { listApprovals, resolveApproval, workflowApprovals } from '../../client/approvals.js';
import type { CompiledPipeline } from '../../engine/index.js';
import type { PendingApproval } from '../../workflows/agent/approval-api.js';
import { checkToolOverrides } from '../../workflows/agent/tools.js';
import type { PipelineRunInput } from '../../workflows/pipeline/pipeline-api.js';
import { type AgentChat, chatMessage, startAgentChat } from '../helpers/agent-chat.js';
import type { FauxAgent } from '../helpers/faux-agent.js';
import type { startRecordingChannel } from '../helpers/recording-channel.js';
import { until } from '../helpers/until.js';
import { compile, type Harness, testActivities } from '../pipeline/harness.js';
import { scheduledByType } from './harness.js';

const address = inject('temporalAddress');

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** An agent turn overriding, for this step only, how two registered tools behave. */
const tooled = compile(`
name: tooled
outputs:
  reply:
    value: \${{ steps.turn.output.text }}
steps:
  - id: turn
    uses: agent.turn
    with:
      prompt: \${{ message.text }}
      tool_options:
        lookup:
          timeout: 20s
          retry: { max_attempts: 2, initial_interval: 1500ms, backoff_coefficient: 3 }
        transfer:
          approval: required
          approval_timeout: 15m
`);

/** A step with side effects the owner must approve; a denial is caught. */
const invoice = compile(`
name: invoice
inputs:
  amount:
    type: integer
    default: 20
outputs:
  result:
    value: \${{ steps.guarded.output }}
env: [BILLING_TOKEN]
steps:
  - set:
      note: "ref \${{ env.BILLING_TOKEN }}"
  - id: guarded
    try:
      - id: send_invoice
        uses: test.sleep
        approval: required
        with:
          ms: 1
          value:
            to: acme
            amount: \${{ inputs.amount }}
            token: \${{ env.BILLING_TOKEN }}
            note: \${{ vars.note }}
    catch:
      errors: [StepNotApproved]
      steps:
        - uses: echo
          with:
            value: "\${{ error.name }}: \${{ error.message }}"
`);

/** A block asks once, before it starts, and shows what it will go through. */
const batch = compile(`
name: batch
outputs:
  sent:
    value: \${{ steps.each.output }}
steps:
  - id: each
    approval: required
    foreach:
      items: [a, b]
      steps:
        - uses: echo
          with: { value: "\${{ item }}!" }
`);

/** A call: nobody answers in time, and nothing catches the failure. */
const publisher = compile(
  `
name: publisher
steps:
  - id: publish
    call: announce
    with: { text: hello }
    approval: required
    approval_timeout: 1s
`,
  undefined,
  { announce: 'name: announce\ninputs:\n  text: { type: string }\nsteps:\n  - uses: noop\n' },
);

describe('approvals declared in the pipeline, on a real Temporal server', () => {
  let agent: FauxAgent;
  let h: Harness;
  let chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  const effects: string[] = [];
  const recorder = testActivities();

  const lookup: AgentToolDefinition = {
    name: 'lookup',
    description: 'Looks a word up.',
    parameters: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
    timeoutMs: 45_000,
    retry: { maximumIntervalMs: 7000 },
    execute: async (args) => `${args.word}: a small crab`,
  };
  const transfer: AgentToolDefinition = {
    name: 'transfer',
    description: 'Transfers money.',
    parameters: {
      type: 'object',
      properties: { to: { type: 'string' }, amount: { type: 'number' } },
      required: ['to', 'amount'],
    },
    async execute(args) {
      effects.push(`${args.to} ${args.amount}`);
      return `sent ${args.amount} to ${args.to}`;
    },
  };

  let stack: AgentChat;
  beforeAll(async () => {
    stack = await startAgentChat(address, 'step-approval', {
      agent: { tools: [lookup, transfer] },
      extraActivities: recorder.activities,
    });
    ({ agent, h, chat } = stack);
  });
  afterAll(async () => stack?.close());

  const message = (text: string) => chatMessage(chat.channel, text);

  /** Starts a run with the environment values its pipeline lists. */
  function start(
    pipeline: CompiledPipeline,
    msg?: InboundMessage,
    env?: Record<string, string>,
  ): Promise<WorkflowHandle> {
    const input: PipelineRunInput = {
      ir: pipeline.ir,
      hash: pipeline.hash,
      inputs: {},
      ...(msg ? { message: msg } : {}),
      ...(env ? { env } : {}),
    };
    return h.client.workflow.start('pipelineWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: `step-approval-${pipeline.name}-${randomUUID().slice(0, 8)}`,
      args: [input],
      workflowExecutionTimeout: '60s',
    });
  }

  /** The model calls `tool` with `args`, then answers with the tool result. */
  function script(tool: string, args: Record<string, unknown>) {
    agent.faux.setResponses([
      fauxAssistantMessage([fauxToolCall(tool, args)], { stopReason: 'toolUse' }),
      (context) => {
        const results = context.messages.filter((m): m is ToolResultMessage => m.role === 'toolResult');
        const text = results.map((r) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join(''));
        return fauxAssistantMessage(`Done: ${text.join(' | ')}`);
      },
    ]);
  }

  async function pending(handle: WorkflowHandle): Promise<PendingApproval> {
    return until(async () => (await workflowApprovals(h.client, handle.workflowId))[0]);
  }

  it('tool_options: the tool activity runs with the step’s timeout and retry, the rest stays the tool’s', async () => {
    script('lookup', { word: 'ferris' });
    const handle = await start(tooled, message('what is a ferris?'));
    expect(await handle.result()).toEqual({ reply: 'Done: ferris: a small crab' });

    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'agentToolCall',
    )?.activityTaskScheduledEventAttributes;
    expect(ms(scheduled?.startToCloseTimeout)).toBe(20_000);
    expect({
      maximumAttempts: scheduled?.retryPolicy?.maximumAttempts,
      initialInterval: ms(scheduled?.retryPolicy?.initialInterval),
      backoffCoefficient: scheduled?.retryPolicy?.backoffCoefficient,
      maximumInterval: ms(scheduled?.retryPolicy?.maximumInterval),
    }).toEqual({ maximumAttempts: 2, initialInterval: 1500, backoffCoefficient: 3, maximumInterval: 7000 });
  });

  it('tool_options approval: the call waits, is announced in the chat, and runs once approved', async () => {
    script('transfer', { to: 'bob', amount: 20 });
    const msg = message('Send Bob 20.');
    const handle = await start(tooled, msg);
    const approval = await pending(handle);
    expect(approval).toMatchObject({ tool: 'transfer', args: '{"to":"bob","amount":20}' });
    expect(approval.expiresAt - approval.requestedAt).toBe(15 * 60_000);
    const notice = await until(() => chat.sent.find((s) => s.chatId === msg.chat.id));
    expect(notice.text).toBe(
      `Approval needed: \`transfer\` {"to":"bob","amount":20} (id ${approval.id}). Reply /approve ${approval.id} or /deny ${approval.id} within 15 min.`,
    );
    expect(effects).toEqual([]);

    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    expect(await handle.result()).toEqual({ reply: 'Done: sent 20 to bob' });
    expect(effects).toEqual(['bob 20']);
  });

  it('a step with approval: waits, shows its arguments without secrets, is listed, and runs once approved', async () => {
    const msg = message('bill acme');
    const handle = await start(invoice, msg, { BILLING_TOKEN: 's3cr3t-billing' });
    const approval = await pending(handle);
    const args =
      '{"ms":1,"value":{"to":"acme","amount":20,"token":"[hidden: read from env]","note":"ref [env.BILLING_TOKEN]"}}';
    expect(approval).toMatchObject({
      tool: 'step send_invoice',
      step: 'send_invoice',
      toolCallId: 'step:send_invoice',
      args,
    } satisfies Partial<PendingApproval>);
    expect(approval.expiresAt - approval.requestedAt).toBe(10 * 60_000);
    const notice = await until(() => chat.sent.find((s) => s.chatId === msg.chat.id));
    expect(notice.text).toBe(
      `Approval needed: step \`send_invoice\` ${args} (id ${approval.id}). Reply /approve ${approval.id} or /deny ${approval.id} within 10 min.`,
    );
    // Listed with every other pending approval (the memo of running workflows).
    const listed = await until(async () =>
      (await listApprovals(h.client, { taskQueue: h.taskQueue })).find((a) => a.id === approval.id),
    );
    expect(listed).toMatchObject({ workflowId: handle.workflowId, tool: 'step send_invoice' });
    // The secret stays out of what others read: the memo (and so `switchyard approvals list`).
    expect(JSON.stringify((await handle.describe()).memo)).not.toContain('s3cr3t');
    expect(scheduledByType((await handle.fetchHistory()).events ?? []).testSleep).toBeUndefined();

    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    const out = (await handle.result()) as { result: Record<string, unknown> };
    expect(out.result).toMatchObject({ to: 'acme', amount: 20 });

    // The step's activity was scheduled after the owner's answer, not before.
    const events = (await handle.fetchHistory()).events ?? [];
    const accepted = eventIndex(events, (e) => !!e.workflowExecutionUpdateAcceptedEventAttributes);
    const sleep = eventIndex(
      events,
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'testSleep',
    );
    expect(accepted).toBeGreaterThan(0);
    expect(sleep).toBeGreaterThan(accepted);
    expect(scheduledByType(events).testSleep).toBe(1);
  });

  it('a denied step fails with StepNotApproved, which try/catch handles; the step never runs', async () => {
    const handle = await start(invoice, undefined, { BILLING_TOKEN: 's3cr3t-billing' });
    const approval = await pending(handle);
    await resolveApproval(h.client, handle.workflowId, approval.id, 'deny', 'wrong customer');
    expect(await handle.result()).toEqual({
      result: 'StepNotApproved: The owner denied step send_invoice: wrong customer. The step was not run.',
    });
    expect(scheduledByType((await handle.fetchHistory()).events ?? []).testSleep).toBeUndefined();
  });

  it('a foreach with approval: asks once for all its items, then runs every iteration', async () => {
    const handle = await start(batch);
    const approval = await pending(handle);
    expect(approval).toMatchObject({ tool: 'step each', args: '{"items":["a","b"]}' });
    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    expect(await handle.result()).toEqual({ sent: ['a!', 'b!'] });
  });

  it('no answer in time counts as a denial; uncaught, it fails the run like any step failure', async () => {
    const handle = await start(publisher);
    const approval = await pending(handle);
    expect(approval).toMatchObject({ tool: 'step publish', args: '{"text":"hello"}' });
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'StepNotApproved',
      message: 'No answer from the owner within 1 second: step publish counts as denied and was not run.',
    });
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
  });

  it('a turn whose tool_options name a tool it does not offer fails before any model call', async () => {
    const misspelled = compile(`
name: misspelled
steps:
  - uses: agent.turn
    with:
      prompt: hi
      tool_options:
        lokup: { timeout: 5s }
`);
    const handle = await h.start(misspelled, {}, message('hi'));
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'UnknownTool',
      message: expect.stringContaining("tool_options names 'lokup', which this turn does not offer"),
    });
    expect(scheduledByType((await handle.fetchHistory()).events ?? []).agentModelCall).toBeUndefined();
  });

  it('tool_options naming a tool the turn does not offer is refused once the turn is prepared', () => {
    const offered = [{ name: 'lookup' }, { name: 'transfer' }] as ToolSpec[];
    expect(() => checkToolOverrides({ lookup: { timeoutMs: 1000 } }, offered)).not.toThrow();
    expect(() => checkToolOverrides({ lokup: { timeoutMs: 1000 } }, offered)).toThrow(
      expect.objectContaining({
        type: 'UnknownTool',
        message:
          "tool_options names 'lokup', which this turn does not offer (its tools: lookup, transfer); fix the name, or register the tool with the worker",
      }),
    );
  });
});

function eventIndex(events: HistoryEvent[], match: (e: HistoryEvent) => boolean): number {
  return events.findIndex(match);
}

/** A protobuf duration in milliseconds. */
function ms(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!d) return undefined;
  return Number(String(d.seconds ?? 0)) * 1000 + Math.round((d.nanos ?? 0) / 1e6);
}
