import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  type Message,
  registerFauxProvider,
  type ToolResultMessage,
} from '@mariozechner/pi-ai';
import { type Client, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type AgentModelsConfig, loadAgentModelsConfig } from '../../activities/agent/index.js';
import { registerApprovalsCommands } from '../../cli/commands/approvals.js';
import {
  ApprovalError,
  listApprovals,
  parseApprovalCommand,
  resolveApproval,
  workflowApprovals,
} from '../../client/approvals.js';
import { approvalResolveUpdate, type PendingApproval } from '../../workflows/agent/approval-api.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { transferTool } from '../helpers/agent-chat.js';
import { runCli } from '../helpers/cli.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { bundleAgentWorkflows, connectClient, scheduledByType, startAgentWorker } from './harness.js';

const address = inject('temporalAddress');

describe('tool approval on a real Temporal server (faux provider)', () => {
  let bundle: WorkflowBundle;
  let client: Client;
  let faux: FauxProviderRegistration;
  let home: string;
  let config: AgentModelsConfig;

  beforeAll(async () => {
    [bundle, client] = await Promise.all([bundleAgentWorkflows(), connectClient(address)]);
    faux = registerFauxProvider({ provider: 'faux' });
    home = mkdtempSync(join(tmpdir(), 'switchyard-approval-'));
    mkdirSync(join(home, 'agents', 'main'), { recursive: true });
    config = loadAgentModelsConfig(
      {
        providers: {
          faux: {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'faux-1', contextWindow: 8000 }],
          },
        },
        agents: [{ id: 'main', model: { primary: 'faux/faux-1', contextReserve: 2000 } }],
      },
      { home },
    );
  });
  afterAll(() => faux?.unregister());

  /** The model asks for the given calls, then answers with what the tool results said. */
  function script(calls: Array<{ to: string; amount: number }>, seen: ToolResultMessage[][]) {
    faux.setResponses([
      fauxAssistantMessage(
        calls.map((c) => fauxToolCall('transfer', c)),
        { stopReason: 'toolUse' },
      ),
      (context) => {
        const results = context.messages.filter((m): m is ToolResultMessage => m.role === 'toolResult');
        seen.push(results);
        return fauxAssistantMessage(`Results: ${results.map(resultText).join(' | ')}`);
      },
    ]);
  }

  async function startTurn(taskQueue: string): Promise<WorkflowHandle> {
    return client.workflow.start('agentTurnWorkflow', {
      taskQueue,
      workflowId: `approval-${taskQueue}`,
      args: [{ args: { prompt: 'Send Bob 20.' } } satisfies AgentTurnWorkflowInput],
    });
  }

  /**
   * A turn's set-up: its own task queue, the model scripted to ask for `calls`, and the worker
   * deps with the guarded `transfer` tool writing to `effects`.
   */
  function transferSetup(
    name: string,
    calls: Array<{ to: string; amount: number }>,
    approvalTimeoutMs?: number,
  ) {
    const taskQueue = uniqueTaskQueue(name);
    const effects = join(home, `effects-${taskQueue}.txt`);
    const seen: ToolResultMessage[][] = [];
    script(calls, seen);
    const tool = transferTool(appendTo(effects), {
      receipt: 'R-77',
      ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
    });
    return { taskQueue, effects, seen, deps: { config, tools: [tool] } };
  }

  /** Until the workflow reports `count` pending approvals (its query exists once it asked). */
  async function pending(handle: WorkflowHandle, count = 1): Promise<PendingApproval[]> {
    for (let i = 0; i < 200; i++) {
      const list = await workflowApprovals(client, handle.workflowId);
      if (list.length >= count) return list;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`workflow ${handle.workflowId} never had ${count} pending approvals`);
  }

  it('runs the tool after the owner approves it from the CLI, and the answer uses its result', async () => {
    const { taskQueue, effects, seen, deps } = transferSetup('approve', [{ to: 'bob', amount: 20 }]);
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps });
    try {
      const handle = await startTurn(taskQueue);
      const [approval] = await pending(handle);
      expect(approval).toMatchObject({ tool: 'transfer', args: '{"to":"bob","amount":20}' });
      expect(approval!.id).toMatch(/^[a-z2-9]{6}$/);
      expect(approval!.expiresAt - approval!.requestedAt).toBe(10 * 60_000);
      expect(existsSync(effects)).toBe(false);

      // Listed across workflows (from the memo, eventually consistent) and shown by the CLI.
      await vi.waitFor(
        async () =>
          expect(
            (await listApprovals(client, { taskQueue })).find((a) => a.id === approval!.id),
          ).toMatchObject({
            workflowId: handle.workflowId,
            workflowType: 'agentTurnWorkflow',
            tool: 'transfer',
          }),
        { timeout: 10_000, interval: 200 },
      );
      const list = await cli(taskQueue, 'approvals', 'list');
      expect(list.out).toMatch(/ID\s+TOOL\s+EXPIRES IN\s+WORKFLOW\s+ARGUMENTS/);
      expect(list.out).toContain(approval!.id);

      const approved = await cli(taskQueue, 'approvals', 'approve', approval!.id.toUpperCase());
      expect(approved.out).toBe(`Approved ${approval!.id} (transfer in ${handle.workflowId}).\n`);

      const result = (await handle.result()) as AgentTurnResult;
      expect(readFileSync(effects, 'utf8')).toBe('bob 20\n');
      expect(result.text).toBe('Results: sent 20 to bob, receipt R-77');
      expect(seen.at(-1)!.map((r) => r.isError)).toEqual([false]);
      expect(result.usage.toolCalls).toBe(1);
      expect(scheduledByType((await handle.fetchHistory()).events ?? [], { local: true })).toEqual({
        agentPrepareTurn: 1,
        agentModelCall: 2,
        agentToolCall: 1,
      });
      // Nothing left pending; asking again names the id as unknown.
      await vi.waitFor(
        async () =>
          expect(
            (await listApprovals(client, { taskQueue })).some((a) => a.workflowId === handle.workflowId),
          ).toBe(false),
        { timeout: 10_000, interval: 200 },
      );
      const again = await cli(taskQueue, 'approvals', 'approve', approval!.id);
      expect(again.exitCode).toBe(1);
      expect(again.err).toContain(`no pending approval '${approval!.id}'`);
    } finally {
      await worker.shutdown();
    }
  });

  it('does not run a denied tool and tells the model why', async () => {
    const { taskQueue, effects, seen, deps } = transferSetup('deny', [{ to: 'mallory', amount: 5000 }]);
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps });
    try {
      const handle = await startTurn(taskQueue);
      const [approval] = await pending(handle);
      const resolution = await resolveApproval(
        client,
        handle.workflowId,
        approval!.id,
        'deny',
        'I do not know Mallory',
      );
      expect(resolution).toEqual({ id: approval!.id, applied: true, status: 'denied' });

      const result = (await handle.result()) as AgentTurnResult;
      expect(existsSync(effects)).toBe(false);
      const [denied] = seen.at(-1)!;
      expect(denied!.isError).toBe(true);
      expect(resultText(denied!)).toBe(
        'The owner denied the call of transfer: I do not know Mallory. The tool was not run.',
      );
      expect(result.text).toContain('I do not know Mallory');
      expect(result.usage.toolCalls).toBe(0);
      expect(scheduledByType((await handle.fetchHistory()).events ?? []).agentToolCall).toBeUndefined();
    } finally {
      await worker.shutdown();
    }
  });

  it('counts no answer before the timeout as a denial', async () => {
    const { taskQueue, effects, seen, deps } = transferSetup(
      'approval-timeout',
      [{ to: 'bob', amount: 1 }],
      1000,
    );
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps });
    try {
      const handle = await startTurn(taskQueue);
      await handle.result();
      expect(existsSync(effects)).toBe(false);
      const [expired] = seen.at(-1)!;
      expect(expired!.isError).toBe(true);
      expect(resultText(expired!)).toBe(
        'No answer from the owner within 1 second: the call of transfer counts as denied and was not run.',
      );
      // The turn is over: its approvals are gone, and the error says so.
      await expect(resolveApproval(client, handle.workflowId, 'zzzzzz', 'approve')).rejects.toMatchObject({
        code: 'not_running',
      });
    } finally {
      await worker.shutdown();
    }
  });

  it('lists parallel pending calls, and rejects an unknown or already answered id', async () => {
    const { taskQueue, effects, seen, deps } = transferSetup('approval-parallel', [
      { to: 'bob', amount: 1 },
      { to: 'carol', amount: 2 },
    ]);
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps });
    try {
      const handle = await startTurn(taskQueue);
      const both = await pending(handle, 2);
      expect(both.map((a) => a.args)).toEqual(['{"to":"bob","amount":1}', '{"to":"carol","amount":2}']);
      const [bob, carol] = both;
      expect(bob!.id).not.toBe(carol!.id);

      // The update's validator rejects an unknown id (nothing is written to history).
      const unknown = handle.executeUpdate(approvalResolveUpdate, {
        args: [{ id: 'zzzzzz', decision: 'approve' }],
      });
      await expect(unknown).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(resolveApproval(client, handle.workflowId, 'zzzzzz', 'approve')).rejects.toMatchObject({
        code: 'unknown',
        message: expect.stringContaining(`pending: ${bob!.id}, ${carol!.id}`),
      });

      await resolveApproval(client, handle.workflowId, bob!.id, 'approve');
      const twice = resolveApproval(client, handle.workflowId, bob!.id, 'deny');
      await expect(twice).rejects.toBeInstanceOf(ApprovalError);
      await expect(twice).rejects.toMatchObject({
        code: 'already_resolved',
        message: `approval '${bob!.id}' was already approved`,
      });
      expect((await workflowApprovals(client, handle.workflowId)).map((a) => a.id)).toEqual([carol!.id]);
      const denied = await cli(
        taskQueue,
        'approvals',
        'deny',
        carol!.id,
        '--reason',
        'one is enough',
        '--workflow',
        handle.workflowId,
      );
      expect(denied.out).toBe(`Denied ${carol!.id} (${handle.workflowId}).\n`);

      await handle.result();
      expect(readFileSync(effects, 'utf8')).toBe('bob 1\n');
      expect(seen.at(-1)!.map((r) => [r.isError, resultText(r)])).toEqual([
        [false, 'sent 1 to bob, receipt R-77'],
        [true, 'The owner denied the call of transfer: one is enough. The tool was not run.'],
      ]);
    } finally {
      await worker.shutdown();
    }
  });

  it('keeps a pending approval through a worker restart, and the approval then works', async () => {
    const { taskQueue, effects, deps } = transferSetup('approval-restart', [{ to: 'bob', amount: 3 }]);
    const first = await startAgentWorker({ address, taskQueue, bundle, deps });
    const handle = await startTurn(taskQueue);
    const [before] = await pending(handle);
    await first.shutdown();

    const second = await startAgentWorker({ address, taskQueue, bundle, deps });
    try {
      // The new worker rebuilds the wait from history: same id, same deadline.
      expect(await workflowApprovals(client, handle.workflowId)).toEqual([before]);
      await resolveApproval(client, handle.workflowId, before!.id, 'approve');
      const result = (await handle.result()) as AgentTurnResult;
      expect(readFileSync(effects, 'utf8')).toBe('bob 3\n');
      expect(result.text).toBe('Results: sent 3 to bob, receipt R-77');
    } finally {
      await second.shutdown();
    }
  });

  /** Runs `switchyard <args>` with the test's client and captures what it prints. */
  const cli = (taskQueue: string, ...args: string[]) =>
    runCli(
      (program) =>
        registerApprovalsCommands(program, {
          connect: async () => ({ client, taskQueue, close: async () => {} }),
        }),
      ...args,
    );
});

describe('parseApprovalCommand', () => {
  it('reads /approve and /deny with an optional reason, and leaves other text to the agent', () => {
    expect(parseApprovalCommand('/approve K7Q2MX')).toEqual({ id: 'k7q2mx', decision: 'approve' });
    expect(parseApprovalCommand('/approve@switchyard_bot k7q2mx')).toEqual({
      id: 'k7q2mx',
      decision: 'approve',
    });
    expect(parseApprovalCommand(' /deny k7q2mx  not now, please ')).toEqual({
      id: 'k7q2mx',
      decision: 'deny',
      reason: 'not now, please',
    });
    expect(parseApprovalCommand('/deny k7q2mx')).toEqual({ id: 'k7q2mx', decision: 'deny' });
    expect(parseApprovalCommand('/approve')).toBeUndefined();
    expect(parseApprovalCommand('please /approve k7q2mx')).toBeUndefined();
    expect(parseApprovalCommand('/approved k7q2mx')).toBeUndefined();
  });
});

function resultText(message: Message): string {
  if (message.role !== 'toolResult') return '';
  return message.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

/** Records each transfer as a line of `file`. */
function appendTo(file: string) {
  return (line: string) => appendFileSync(file, `${line}\n`);
}
