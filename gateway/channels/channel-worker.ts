// The gateway's own Temporal worker: activities only (no workflows), on the task queue of a channel
// it owns (`<taskQueue>.channel.telegram`, see workflows/channel/channel-api.ts). Replies are sent from the process that holds the platform
// connection and the outbox, so "sent exactly once" is decided in one place.
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { TemporalConnectionOptions } from '../../temporal/connection.js';

export interface StartChannelWorkerOptions {
  /** An open connection to share, or options to open one (closed again on shutdown). */
  connection: NativeConnection | TemporalConnectionOptions;
  namespace: string;
  /** The payload codec of every Switchyard process (temporal/data-converter.ts). */
  dataConverter?: DataConverter;
  /** `<taskQueue>.channel.<id>` (channelTaskQueue), e.g. `switchyard.channel.telegram`. */
  taskQueue: string;
  /** E.g. createChannelSendActivities({ outbox, senders }). */
  activities: object;
  /** Sends in flight at once; a chat platform rate-limits long before this matters. */
  maxConcurrentActivities?: number;
}

export interface RunningChannelWorker {
  worker: Worker;
  taskQueue: string;
  /** Settles when the worker stopped; rejects if it failed. */
  done: Promise<void>;
  /** Finish the activities in hand, stop polling, close an owned connection. */
  shutdown(): Promise<void>;
}

export { channelTaskQueue } from '../../workflows/channel/channel-api.js';

export async function startChannelWorker(options: StartChannelWorkerOptions): Promise<RunningChannelWorker> {
  const owned = !(options.connection instanceof NativeConnection);
  const connection =
    options.connection instanceof NativeConnection
      ? options.connection
      : await NativeConnection.connect(options.connection);
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      activities: options.activities,
      ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
      maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 16,
    });
  } catch (error) {
    if (owned) await connection.close();
    throw error;
  }
  const done = worker.run().finally(async () => {
    if (owned) await connection.close();
  });
  return {
    worker,
    taskQueue: options.taskQueue,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
