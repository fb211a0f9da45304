import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities/index.js';
import type { Config } from '../config/config.js';
import { connectionOptions } from '../temporal/connection.js';
import { loadWorkflowBundle } from './bundle.js';

export interface StartWorkerOptions {
  config: Config;
  /** Overrides config.temporal.address (e.g. the dev server `switchyard up` just started). */
  address?: string;
  taskQueue?: string;
  deps?: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  /** Settles when the worker stops (shutdown, fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config } = options;
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const connection = await NativeConnection.connect(connectionOptions(config, options.address));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowBundle: options.workflowBundle ?? (await loadWorkflowBundle()),
    activities: createActivities(options.deps),
  });
  const done = worker.run().finally(() => connection.close());
  return {
    worker,
    taskQueue,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
