/**
 * Shared set-up for the cron tests: a client, the test workflow bundle, a worker running the
 * scheduled-task activities with the real pipeline step activities, and a STAND-IN for the
 * connector's `sendToChannel` (the real one, with its exactly-once outbox, is tested elsewhere):
 * it records every call and, like the outbox, posts once per idempotency key.
 */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fauxAssistantMessage, registerFauxProvider } from '@mariozechner/pi-ai';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import { createAgentActivities, loadAgentModelsConfig } from '../../activities/agent/index.js';
import type { SendToChannelInput, SendToChannelResult } from '../../activities/channel-send.js';
import { createPipelineStepActivities } from '../../activities/pipeline-steps.js';
import { createScheduleActivities } from '../../activities/schedule.js';
import type { CronContext } from '../../client/cron/manage.js';
import {
  builtInStepTypes,
  type CompiledPipeline,
  compilePipeline,
  formatErrors,
} from '../../engine/index.js';
import { bundlerOptions } from '../../worker/bundler-options.js';
import { channelTaskQueue } from '../../workflows/channel/channel-api.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { testActivities, testStepTypes } from '../pipeline/harness.js';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by another helper in this process: keep it.
  }
}

let bundle: Promise<WorkflowBundle> | undefined;
export function cronWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: join(import.meta.dirname, 'workflows.ts'),
    logger: quietLogger,
    // The pipeline interpreter runs the agent loop in the workflow: it needs the worker's aliases.
    ...bundlerOptions,
  });
  return bundle;
}

const quietLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
  log() {},
};

export function compileTestPipeline(source: string, file = 'test.yaml'): CompiledPipeline {
  const result = compilePipeline(source, file, { stepTypes: testStepTypes });
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}

/** The shipped default pipeline (what agentTurn payloads run), with its placeholder steps. */
export function defaultPipeline(): CompiledPipeline {
  const file = join(import.meta.dirname, '../../pipelines/default.yaml');
  const result = compilePipeline(readFileSync(file, 'utf8'), file, { stepTypes: builtInStepTypes });
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}

export interface ChannelStandIn {
  channel: string;
  calls: SendToChannelInput[];
  /** Messages "posted": one per idempotency key. */
  posted: Map<string, SendToChannelInput>;
  /** Make the next sends fail (a platform outage), or stop failing. */
  failing: boolean;
}

export interface CronHarness {
  client: Client;
  connection: Connection;
  taskQueue: string;
  ctx: CronContext;
  channel: ChannelStandIn;
  /** Pipelines by name, as the loader activity sees them; tests replace entries to "edit" a file. */
  pipelines: Map<string, CompiledPipeline>;
  /** Starts the worker for scheduled runs (tests of downtime start it late). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startCronHarness(
  address: string,
  name: string,
  options: { worker?: boolean } = {},
): Promise<CronHarness> {
  quietRuntime();
  const taskQueue = uniqueTaskQueue(`cron-${name}`);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  const workflowBundle = await cronWorkflowBundle();
  const pipelines = new Map<string, CompiledPipeline>([['default', defaultPipeline()]]);

  const channel: ChannelStandIn = {
    channel: `test-${randomUUID().slice(0, 8)}`,
    calls: [],
    posted: new Map(),
    failing: false,
  };
  // The LLM is faked at pi-ai's provider level (the faux provider): it answers every prompt
  // with "Sure — <the prompt's last line>", so tests can see which message a run sent.
  const faux = registerFauxProvider({ provider: `faux-${name}` });
  const answer = () =>
    faux.appendResponses(
      Array.from({ length: 50 }, () => (context: { messages: Array<{ role: string; content: unknown }> }) => {
        const last = [...context.messages].reverse().find((m) => m.role === 'user');
        const text =
          typeof last?.content === 'string'
            ? last.content
            : ((last?.content as Array<{ text?: string }> | undefined)?.map((c) => c.text ?? '').join('') ??
              '');
        if (faux.getPendingResponseCount() < 10) answer();
        return fauxAssistantMessage(`Sure — ${text.trim().split('\n').at(-1)}`);
      }),
    );
  answer();
  const agentConfig = loadAgentModelsConfig(
    {
      providers: {
        [`faux-${name}`]: {
          type: 'openai-compatible',
          api: faux.api,
          baseUrl: 'http://127.0.0.1:9',
          apiKey: 'none',
          models: [{ id: 'faux-1', contextWindow: 8000 }],
        },
      },
      agents: [{ id: 'main', model: { primary: `faux-${name}/faux-1` } }],
    },
    { home: mkdtempSync(join(tmpdir(), 'switchyard-cron-agent-')) },
  );

  const channelWorker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: channelTaskQueue(taskQueue, channel.channel),
    activities: {
      // STAND-IN for activities/channel-send.ts `sendToChannel`: records calls, posts once per key.
      async sendToChannel(input: SendToChannelInput): Promise<SendToChannelResult> {
        channel.calls.push(input);
        if (channel.failing) throw new Error(`stand-in channel ${channel.channel} is down`);
        const first = !channel.posted.has(input.idempotencyKey);
        if (first) channel.posted.set(input.idempotencyKey, input);
        return {
          messageIds: [`m-${input.idempotencyKey}`],
          chunks: 1,
          skipped: first ? 0 : 1,
          uncertain: [],
        };
      },
    },
  });
  const channelRun = channelWorker.run();

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await Worker.create({
      connection: native,
      namespace: 'default',
      taskQueue,
      workflowBundle,
      activities: {
        ...testActivities().activities,
        ...createPipelineStepActivities(),
        ...createAgentActivities({ config: agentConfig }),
        ...createScheduleActivities({ getPipeline: (n) => pipelines.get(n) }),
      },
    });
    workerRun = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    worker = undefined;
  };
  if (options.worker !== false) await startWorker();

  const ctx: CronContext = {
    client,
    target: { taskQueue },
    uiLink: (workflowId, runId) =>
      `http://ui.test/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`,
  };
  return {
    client,
    connection,
    taskQueue,
    ctx,
    channel,
    pipelines,
    startWorker,
    stopWorker,
    async close() {
      await stopWorker();
      channelWorker.shutdown();
      await channelRun;
      await native.close();
      await connection.close();
      faux.unregister();
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws with `what` after `timeoutMs`). */
type Maybe<T> = T | undefined | null | false;
export async function eventually<T>(
  what: string,
  check: () => Promise<Maybe<T>> | Maybe<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes a task's Schedule, if it is still there (tests clean up after themselves). */
export async function deleteSchedule(client: Client, taskId: string): Promise<void> {
  await client.schedule
    .getHandle(`cron:${taskId}`)
    .delete()
    .catch(() => undefined);
}
