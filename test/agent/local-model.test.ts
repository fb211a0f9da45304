// The llama-cpp provider with a real GGUF model (SmolLM2 135M, installed by `node scripts/setup.mjs
// --test` into .tools/smollm2) run by node-llama-cpp inside a real worker, on the real Temporal dev
// server: nothing is faked but the failing provider of the fallback test (a wire-level server).
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AgentDelta, LocalModels, loadAgentModelsConfig } from '../../activities/agent/index.js';
import { bundledLocalModelPath, toChatHistory } from '../../activities/agent/local-model.js';
import { loadConfig } from '../../config/load.js';
import { createOnboarding, setupReason } from '../../gateway/onboarding.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import {
  type AgentWorker,
  bundleAgentWorkflows,
  connectClient,
  scheduledByType,
  startAgentWorker,
  startedAttempts,
} from './harness.js';
import { startWireServer, type WireServer } from './wire-servers.js';

const address = inject('temporalAddress');
/** SWITCHYARD_TEST_GGUF: another copy of the bundled model (a worktree without .tools). */
const GGUF = process.env.SWITCHYARD_TEST_GGUF ?? bundledLocalModelPath();

describe('the llama-cpp provider: a GGUF model inside the worker', () => {
  let bundle: WorkflowBundle;
  let client: Client;
  let worker: AgentWorker;
  let wire: WireServer;
  let local: LocalModels;
  const logs: string[] = [];
  const taskQueue = uniqueTaskQueue('agent-local');
  const deltas = new Map<string, AgentDelta[]>();
  const home = mkdtempSync(join(tmpdir(), 'switchyard-agent-local-'));

  beforeAll(async () => {
    if (!existsSync(GGUF)) {
      throw new Error(
        `${GGUF} is missing: run \`node scripts/setup.mjs --test\` (installs the bundled model)`,
      );
    }
    // A GGUF cut short (a download that stopped half way) and a file that is no model at all.
    const head = Buffer.alloc(4_000_000);
    const fd = openSync(GGUF, 'r');
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    writeFileSync(join(home, 'truncated.gguf'), head);
    writeFileSync(join(home, 'notes.gguf'), 'these are my notes, not a model\n');
    copyFileSync(GGUF, join(home, 'model.gguf'));
    [bundle, client, wire] = await Promise.all([
      bundleAgentWorkflows(),
      connectClient(address),
      startWireServer('openai', () => ({ status: 401, message: 'Incorrect API key provided' })),
    ]);
    const tiny = { maxTokens: 24 };
    const config = loadAgentModelsConfig(
      {
        providers: {
          // Relative to the data directory, as in switchyard.yaml.
          local: { type: 'llama-cpp', model: 'model.gguf', contextSize: 1024 },
          gone: { type: 'llama-cpp', model: 'no-such-model.gguf' },
          cut: { type: 'llama-cpp', model: 'truncated.gguf' },
          notes: { type: 'llama-cpp', model: 'notes.gguf' },
          cloud: { type: 'openai-compatible', baseUrl: `${wire.url}/v1`, models: [{ id: 'gpt-wire' }] },
        },
        agents: [
          { id: 'local', model: { primary: 'local/smollm2', ...tiny } },
          { id: 'gone', model: { primary: 'gone/smollm2', ...tiny } },
          { id: 'broken', model: { primary: 'cut/smollm2', fallbacks: ['notes/smollm2'], ...tiny } },
          { id: 'fallback', model: { primary: 'cloud/gpt-wire', fallbacks: ['local/smollm2'], ...tiny } },
        ],
      },
      { home },
    );
    local = new LocalModels({ log: (level, message) => logs.push(`${level}: ${message}`) });
    worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: {
        config,
        local,
        onDelta: (runKey, delta) => {
          deltas.set(runKey, [...(deltas.get(runKey) ?? []), delta]);
        },
      },
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.shutdown();
    await local?.close();
    await wire?.close();
  });

  const once = { retry: { initialIntervalMs: 100, maximumIntervalMs: 200, maximumAttempts: 3 } };

  function turn(agent: string, runKey: string, prompt = 'What is the capital of France?') {
    return client.workflow.start('agentTurnWorkflow', {
      taskQueue,
      workflowId: `agent-local-${runKey}-${taskQueue}`,
      args: [{ args: { agent, prompt }, ctx: { runKey, modelCall: once } } satisfies AgentTurnWorkflowInput],
    });
  }

  async function failureOf(handle: Awaited<ReturnType<typeof turn>>) {
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const events = (await handle.fetchHistory()).events ?? [];
    const failed = events
      .filter((e) => e.activityTaskFailedEventAttributes)
      .map((e) => e.activityTaskFailedEventAttributes!.failure!);
    return { cause: (error as WorkflowFailedError).cause!, failed, events };
  }

  it('streams an answer from the real model in a worker turn: deltas as it generates, one model-call activity', async () => {
    const handle = await turn('local', 'chat-local');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.model).toBe('local/smollm2');
    expect(result.text.trim().length).toBeGreaterThan(0);
    const mine = deltas.get('chat-local') ?? [];
    expect(mine[0]).toMatchObject({ type: 'start', model: 'local/smollm2', attempt: 1 });
    expect(mine.at(-1)?.type).toBe('end');
    const texts = mine.filter((d) => d.type === 'text');
    // Streamed token by token, not in one piece at the end.
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.map((d) => (d.type === 'text' ? d.delta : '')).join('')).toBe(result.text);
    expect(result.usage.output).toBeGreaterThan(0);
    expect(result.usage.output).toBeLessThanOrEqual(24);
    expect(result.usage.input).toBeGreaterThan(0);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(scheduledByType(events).agentModelCall).toBe(1);
    expect(startedAttempts(events, 'agentModelCall')).toEqual([1]);
  });

  it('falls back from a provider that fails for good to the local model', async () => {
    const handle = await turn('fallback', 'chat-fallback', 'Say hello.');
    const result = (await handle.result()) as AgentTurnResult;
    expect(result.model).toBe('local/smollm2');
    expect(result.text.trim().length).toBeGreaterThan(0);
    expect(wire.requests).toHaveLength(1);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(scheduledByType(events).agentModelCall).toBe(2);
    // Loaded once per process: the earlier turn's load is reused.
    expect(logs.filter((l) => l.includes('loaded') && l.includes('model.gguf'))).toHaveLength(1);
  });

  it('a missing GGUF file fails the model call at once with LocalModelUnavailable, naming the file and the fix', async () => {
    const { cause, failed, events } = await failureOf(await turn('gone', 'chat-gone'));
    expect(cause.message).toMatch(
      /^Agent 'gone' got no answer: its model failed — model gone\/smollm2 failed: cannot load /,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]!.applicationFailureInfo).toMatchObject({
      type: 'LocalModelUnavailable',
      nonRetryable: true,
    });
    expect(failed[0]!.message).toContain(`${join(home, 'no-such-model.gguf')}: no such file. Fix: `);
    expect(startedAttempts(events, 'agentModelCall')).toEqual([1]);
    expect(
      logs.some((l) => l.startsWith('error: local model: cannot load') && l.includes('npm run setup')),
    ).toBe(true);
  });

  it('a GGUF cut short and a file that is not GGUF both fail with LocalModelUnavailable; the worker goes on answering', async () => {
    const { cause, failed } = await failureOf(await turn('broken', 'chat-broken'));
    expect(cause.message).toMatch(/all 2 models failed/);
    expect(failed.map((f) => f.applicationFailureInfo?.type)).toEqual([
      'LocalModelUnavailable',
      'LocalModelUnavailable',
    ]);
    expect(failed[0]!.message).toContain('truncated.gguf: not a valid or complete GGUF model');
    expect(failed[1]!.message).toContain('notes.gguf: not a GGUF file');
    expect(logs.filter((l) => l.startsWith('error: local model: cannot load'))).not.toHaveLength(0);
    // The same worker still answers with the good model.
    const again = (await (await turn('local', 'chat-after')).result()) as AgentTurnResult;
    expect(again.text.trim().length).toBeGreaterThan(0);
  });

  it('close() releases the model; the next call loads it again', async () => {
    const spec = { file: join(home, 'model.gguf'), contextSize: 1024 };
    expect(local.isLoaded(spec)).toBe(true);
    await local.close();
    expect(local.isLoaded(spec)).toBe(false);
  });
});

describe('a `switchyard worker` process with a local model', () => {
  let worker: Spawned | undefined;
  afterAll(async () => {
    await worker?.kill('SIGKILL');
  });

  it('answers a turn with it, and on SIGTERM drains, frees the model and exits 0', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-local-worker-'));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      `providers:\n  local: { type: llama-cpp, model: ${JSON.stringify(GGUF)} }\n` +
        'agents:\n  - id: main\n    model: { primary: local/smollm2, maxTokens: 16 }\nmemory: { enabled: false }\n',
    );
    const taskQueue = uniqueTaskQueue('local-worker');
    worker = spawnSwitchyard(['worker'], {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: taskQueue,
      SWITCHYARD_ENCRYPTION: 'off',
    });
    await worker.waitFor(/worker ready/);
    const client = await connectClient(address);
    const result = (await client.workflow.execute('agentTurnWorkflow', {
      taskQueue,
      workflowId: `local-worker-${taskQueue}`,
      args: [{ args: { agent: 'main', prompt: 'Say hello.' } } satisfies AgentTurnWorkflowInput],
    })) as AgentTurnResult;
    expect(result.model).toBe('local/smollm2');
    expect(result.text.trim().length).toBeGreaterThan(0);
    // node-llama-cpp brings signal-exit, which used to kill the process on SIGTERM at once.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const log = readFileSync(join(home, 'logs', 'worker.log'), 'utf8');
    expect(log).toContain('local model: loaded');
    expect(log).toContain('local model: released 1 model(s)');
  }, 90_000);
});

describe('onboarding offers the bundled model and tests it for real', () => {
  it('a file that is no model is refused by the test call; the bundled one answers and is written as providers.local', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-onboard-local-'));
    writeFileSync(join(dir, 'notes.gguf'), 'not a model');
    const current = () => loadConfig({ home: dir, env: {} });
    const session = createOnboarding(
      { config: current, env: {}, context: 'command', localModel: () => ({ file: GGUF, label: 'Tiny' }) },
      'main',
      'test',
    );
    expect(session.view().choices?.map((c) => c.id)).toContain('local');
    const form = session.choose('local');
    expect(form.fields?.find((f) => f.name === 'modelFile')?.value).toBe(GGUF);
    const refused = await session.submit({ modelFile: join(dir, 'notes.gguf') });
    expect(refused.error).toMatch(/^The test call failed: cannot load .*notes\.gguf: not a GGUF file/);
    expect(session.done).toBe(false);
    const done = await session.submit({ modelFile: GGUF });
    expect(done).toMatchObject({ step: 'done', model: 'local/smollm2-135m-instruct.q4_1' });
    expect(done.text).toMatch(/^Done: local\/smollm2-135m-instruct\.q4_1 answered the test call/);
    const config = current();
    expect(config.models.providers).toEqual({ local: { type: 'llama-cpp', model: GGUF } });
    expect(setupReason(config, 'main', {})).toBeUndefined();
  }, 60_000);
});

describe('toChatHistory', () => {
  it('keeps the system prompt and turns, shows tool calls and results as text, ends with the answer to write', () => {
    const history = toChatHistory({
      systemPrompt: 'Be brief.',
      messages: [
        { role: 'user', content: 'Weather?', timestamp: 0 },
        {
          role: 'assistant',
          content: [{ type: 'toolCall', id: 't1', name: 'web_fetch', arguments: { url: 'https://x' } }],
          api: 'x',
          provider: 'x',
          model: 'x',
          usage: {
            input: 0,
            output: 0,
            cacheRead: 0,
            cacheWrite: 0,
            totalTokens: 0,
            cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
          },
          stopReason: 'toolUse',
          timestamp: 0,
        },
        {
          role: 'toolResult',
          toolCallId: 't1',
          toolName: 'web_fetch',
          content: [{ type: 'text', text: 'Sunny' }],
          isError: false,
          timestamp: 0,
        },
      ],
    });
    expect(history).toEqual([
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Weather?' },
      { type: 'model', response: ['[called web_fetch {"url":"https://x"}]'] },
      { type: 'user', text: '[result of web_fetch]: Sunny' },
      { type: 'model', response: [] },
    ]);
  });
});
