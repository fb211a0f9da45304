/** Shared set-up for pipeline integration tests: a real worker on its own task queue, a client. */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import {
  Client,
  Connection,
  type WorkflowHandleWithFirstExecutionRunId as WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, type DataConverter } from '@temporalio/common';
import type { ActivityDeps } from '../../activities/index.js';
import {
  builtInStepTypes,
  type CompiledPipeline,
  compilePipeline,
  formatErrors,
  type StepTypeRegistry,
} from '../../engine/index.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import type { PipelineOutputs, PipelineRunInput } from '../../workflows/pipeline/pipeline-api.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';

/** Test-only step types, compiled in through `stepTypes` (never added to the engine registry). */
export const testStepTypes: StepTypeRegistry = {
  ...builtInStepTypes,
  'test.flaky': {
    description: 'Fails (ApplicationFailure of type `error`, default Flaky) until attempt `succeed_on`.',
    execution: 'activity',
    activity: 'testFlaky',
    with: {
      type: 'object',
      properties: { succeed_on: { type: 'integer' }, error: { type: 'string' } },
      required: ['succeed_on'],
      additionalProperties: false,
    },
    output: { type: 'object', properties: { attempt: { type: 'integer' } } },
  },
  'test.sleep': {
    description: 'Sleeps `ms` (cancellable), records start/end, returns `value`.',
    execution: 'activity',
    activity: 'testSleep',
    with: {
      type: 'object',
      properties: { ms: { type: 'integer' }, value: {}, fail: { type: 'string' } },
      required: ['ms'],
      additionalProperties: false,
    },
  },
};

export function compile(
  source: string,
  stepTypes: StepTypeRegistry = testStepTypes,
  calls: Record<string, string> = {},
): CompiledPipeline {
  const result = compilePipeline(source, 'test.yaml', {
    stepTypes,
    resolvePipeline: (name) => (calls[name] ? { file: `${name}.yaml`, source: calls[name] } : undefined),
  });
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}

export interface Harness {
  client: Client;
  taskQueue: string;
  /** The worker's payload codec (a recording channel serving its turns needs it). */
  dataConverter: DataConverter;
  /** Start a run of `pipeline` and return its handle. */
  start(
    pipeline: CompiledPipeline,
    inputs?: Record<string, unknown>,
    message?: unknown,
  ): Promise<WorkflowHandle>;
  /** Start a run and wait for its outputs. */
  run(
    pipeline: CompiledPipeline,
    inputs?: Record<string, unknown>,
    message?: unknown,
  ): Promise<PipelineOutputs>;
  close(): Promise<void>;
}

export async function startHarness(address: string, name: string, deps: ActivityDeps = {}): Promise<Harness> {
  const taskQueue = uniqueTaskQueue(name);
  const config = testConfig(address);
  const worker: RunningWorker = await startWorker({ config, taskQueue, deps });
  const connection = await Connection.connect({ address });
  const dataConverter = dataConverterOf(config);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  const start = (pipeline: CompiledPipeline, inputs: Record<string, unknown> = {}, message?: unknown) => {
    const input: PipelineRunInput = { ir: pipeline.ir, hash: pipeline.hash, inputs, message };
    return client.workflow.start('pipelineWorkflow', {
      taskQueue,
      workflowId: `${name}-${pipeline.name}-${randomUUID().slice(0, 8)}`,
      args: [input],
      workflowExecutionTimeout: '60s',
    });
  };
  return {
    client,
    taskQueue,
    dataConverter,
    start,
    run: async (pipeline, inputs, message) =>
      (await (await start(pipeline, inputs, message)).result()) as PipelineOutputs,
    async close() {
      await worker.shutdown();
      await connection.close();
    },
  };
}

/** Activities for the test step types, recording what a user could not see otherwise. */
export function testActivities() {
  const log: Array<{ step: string; attempt: number; start: number; end?: number; value?: unknown }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    log,
    maxInFlight: () => maxInFlight,
    activities: {
      async testFlaky(args: { succeed_on: number; error?: string }, call: { step: string }) {
        const attempt = Context.current().info.attempt;
        log.push({ step: call.step, attempt, start: Date.now() });
        if (attempt < args.succeed_on) {
          throw ApplicationFailure.create({
            type: args.error ?? 'Flaky',
            message: `attempt ${attempt} fails`,
          });
        }
        return { attempt };
      },
      async testSleep(args: { ms: number; value?: unknown; fail?: string }, call: { step: string }) {
        const entry: (typeof log)[number] = {
          step: call.step,
          attempt: Context.current().info.attempt,
          start: Date.now(),
          value: args.value,
        };
        log.push(entry);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          // Heartbeats carry cancellation to the activity (join: any cancels the losers).
          const until = Date.now() + args.ms;
          while (Date.now() < until) {
            Context.current().heartbeat();
            await Context.current().sleep(Math.min(50, until - Date.now()));
          }
        } finally {
          inFlight--;
          entry.end = Date.now();
        }
        if (args.fail) {
          throw ApplicationFailure.create({
            type: args.fail,
            message: `${call.step} failed on purpose`,
            nonRetryable: true,
          });
        }
        return args.value ?? null;
      },
    },
  };
}
