import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, type Client, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AgentDelta, loadAgentModelsConfig } from '../../activities/agent/index.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import {
  type AgentWorker,
  bundleAgentWorkflows,
  connectClient,
  scheduledByType,
  startAgentWorker,
  startedAttempts,
} from './harness.js';
import { startWireServer, type WireReply, type WireRequest, type WireServer } from './wire-servers.js';

const address = inject('temporalAddress');
const OPENAI_KEY = 'sk-wire-openai-0123456789';
const ANTHROPIC_KEY = 'sk-ant-wire-abcdefghij';

/** Per model id: what the fake provider answers to its n-th request for that model. */
function scripted(): (request: WireRequest) => WireReply {
  const seen = new Map<string, number>();
  return (request) => {
    const model = String(request.body.model);
    const n = (seen.get(model) ?? 0) + 1;
    seen.set(model, n);
    switch (model) {
      case 'gpt-wire':
        return { text: 'Hello from the OpenAI wire, streamed in pieces.' };
      case 'claude-wire':
        return { text: 'Hello from the Anthropic wire.', chunk: 3 };
      case 'flaky':
        return n <= 2 ? { status: 500, message: 'internal boom' } : { text: 'Third time lucky.' };
      case 'locked':
        // Like OpenAI, echo (part of) the key: it must not reach history.
        return { status: 401, message: `Incorrect API key provided: ${request.headers.authorization}` };
      case 'overloaded':
        return { status: 529, message: 'Overloaded' };
      default:
        return { status: 404, message: `no model ${model}` };
    }
  };
}

describe('model calls through local OpenAI and Anthropic SSE servers', () => {
  let bundle: WorkflowBundle;
  let client: Client;
  let openai: WireServer;
  let anthropic: WireServer;
  let worker: AgentWorker;
  const taskQueue = uniqueTaskQueue('agent-wire');
  const deltas = new Map<string, AgentDelta[]>();

  beforeAll(async () => {
    [bundle, client, openai, anthropic] = await Promise.all([
      bundleAgentWorkflows(),
      connectClient(address),
      startWireServer('openai', scripted()),
      startWireServer('anthropic', scripted()),
    ]);
    const home = mkdtempSync(join(tmpdir(), 'switchyard-agent-wire-'));
    writeFileSync(join(home, 'secrets.json'), JSON.stringify({ claude: ANTHROPIC_KEY }));
    const config = loadAgentModelsConfig(
      {
        secretsFile: 'secrets.json',
        providers: {
          wire: {
            type: 'openai-compatible',
            baseUrl: `${openai.url}/v1`,
            apiKey: { env: 'WIRE_KEY' },
            models: [{ id: 'gpt-wire', contextWindow: 32_000, cost: { input: 2, output: 8 } }],
          },
          claude: { type: 'anthropic', baseUrl: anthropic.url, apiKey: { secret: 'claude' } },
        },
        agents: [
          { id: 'openai', model: 'wire/gpt-wire' },
          { id: 'anthropic', model: 'claude/claude-wire' },
          { id: 'flaky', model: 'wire/flaky' },
          { id: 'locked', model: { primary: 'wire/locked', fallbacks: ['claude/claude-wire'] } },
          { id: 'doomed', model: { primary: 'wire/locked', fallbacks: ['claude/overloaded'] } },
        ],
      },
      { home },
    );
    worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: {
        config,
        env: { WIRE_KEY: OPENAI_KEY },
        onDelta: (runKey, delta) => {
          deltas.set(runKey, [...(deltas.get(runKey) ?? []), delta]);
        },
      },
    });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });

  const fastRetry = { retry: { initialIntervalMs: 100, maximumIntervalMs: 200, maximumAttempts: 3 } };

  async function turn(agent: string, runKey: string) {
    return client.workflow.start('agentTurnWorkflow', {
      taskQueue,
      workflowId: `agent-wire-${runKey}-${taskQueue}`,
      args: [
        {
          args: { agent, prompt: 'Say hello.' },
          ctx: { runKey, modelCall: fastRetry },
        } satisfies AgentTurnWorkflowInput,
      ],
    });
  }

  async function historyBytes(workflowId: string): Promise<Buffer> {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  }

  function streamedText(runKey: string): string {
    return (deltas.get(runKey) ?? []).map((d) => (d.type === 'text' ? d.delta : '')).join('');
  }

  it('streams OpenAI chat-completions deltas to the sink in order; the final text comes back through the workflow', async () => {
    const handle = await turn('openai', 'chat-openai');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.text).toBe('Hello from the OpenAI wire, streamed in pieces.');
    const received = deltas.get('chat-openai') ?? [];
    expect(received[0]).toEqual({ type: 'start', model: 'wire/gpt-wire', attempt: 1, purpose: 'turn' });
    expect(received.at(-1)).toEqual({ type: 'end', stopReason: 'stop' });
    expect(received.filter((d) => d.type === 'text').length).toBeGreaterThan(5);
    expect(streamedText('chat-openai')).toBe(result.text);
    // The key went to the provider, never into history.
    const request = openai.requests.find((r) => r.body.model === 'gpt-wire')!;
    expect(request.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(request.body.stream).toBe(true);
    expect((await historyBytes(handle.workflowId)).includes(OPENAI_KEY)).toBe(false);
    // Usage from the wire, priced with the configured cost.
    expect(result.usage).toMatchObject({ input: 42, modelCalls: 1 });
    expect(result.usage.cost).toBeCloseTo((42 * 2 + result.usage.output * 8) / 1e6, 12);
  });

  it('streams Anthropic Messages deltas to the sink in order, with the key from the secrets file', async () => {
    const handle = await turn('anthropic', 'chat-anthropic');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.text).toBe('Hello from the Anthropic wire.');
    expect(streamedText('chat-anthropic')).toBe(result.text);
    expect((deltas.get('chat-anthropic') ?? []).filter((d) => d.type === 'text').length).toBe(10);
    const request = anthropic.requests.find((r) => r.body.model === 'claude-wire')!;
    expect(request.path).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect((await historyBytes(handle.workflowId)).includes(ANTHROPIC_KEY)).toBe(false);
  });

  it('retries a provider answering 500 twice, then succeeds on attempt 3', async () => {
    const handle = await turn('flaky', 'chat-flaky');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.text).toBe('Third time lucky.');
    expect(openai.requests.filter((r) => r.body.model === 'flaky')).toHaveLength(3);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(startedAttempts(events, 'agentModelCall')).toEqual([3]);
    expect(scheduledByType(events).agentModelCall).toBe(1);
  });

  it('does not retry a 401 and answers with the fallback model', async () => {
    const before = openai.requests.filter((r) => r.body.model === 'locked').length;
    const handle = await turn('locked', 'chat-locked');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.model).toBe('claude/claude-wire');
    expect(result.text).toBe('Hello from the Anthropic wire.');
    expect(openai.requests.filter((r) => r.body.model === 'locked').length - before).toBe(1);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(scheduledByType(events).agentModelCall).toBe(2);
    const failed = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes;
    expect(failed?.failure?.message).toMatch(/^model wire\/locked failed: 401 /);
    expect(failed?.failure?.applicationFailureInfo).toMatchObject({
      type: 'ModelAuthError',
      nonRetryable: true,
    });
    expect(failed?.failure?.message).toContain('Bearer ***');
    expect((await historyBytes(handle.workflowId)).includes(OPENAI_KEY)).toBe(false);
  });

  it('fails the workflow with a message naming every model when all models fail', async () => {
    const handle = await turn('doomed', 'chat-doomed');
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('AgentModelsFailed');
    expect(cause?.message).toMatch(
      /^Agent 'doomed' got no answer: all 2 models failed — model wire\/locked failed: 401 /,
    );
    expect(cause?.message).toMatch(/model claude\/overloaded failed: 529 /);
    expect(anthropic.requests.filter((r) => r.body.model === 'overloaded')).toHaveLength(3);
    expect((await handle.describe()).status.name).toBe('FAILED');
  });
});
