import { Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createChannelSendActivities } from '../../activities/channel-send.js';
import { type RunningChannelWorker, startChannelWorker } from '../../gateway/channels/channel-worker.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { tempDb } from './helpers.js';

const ACTIVITY_TASK_QUEUE = 2;

describe('the channel worker inside the gateway', () => {
  const address = inject('temporalAddress');
  const store = tempDb();
  let worker: RunningChannelWorker | undefined;

  afterAll(async () => {
    await worker?.shutdown();
    store.cleanup();
  });

  it('polls its channel task queue for activities (no workflows) and stops cleanly', async () => {
    const taskQueue = uniqueTaskQueue('channel.telegram');
    const activities = createChannelSendActivities({
      outbox: new Outbox(store.db, { runId: 'w' }),
      senders: [],
    });
    worker = await startChannelWorker({
      connection: { address },
      namespace: 'default',
      taskQueue,
      activities,
    });

    const connection = await Connection.connect({ address });
    try {
      const deadline = Date.now() + 15_000;
      let pollers = 0;
      while (pollers === 0 && Date.now() < deadline) {
        const res = await connection.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: ACTIVITY_TASK_QUEUE,
        });
        pollers = res.pollers?.length ?? 0;
        if (pollers === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(pollers).toBeGreaterThan(0);
      expect(worker.worker.getState()).toBe('RUNNING');
    } finally {
      await connection.close();
    }

    await worker.shutdown();
    expect(worker.worker.getState()).toBe('STOPPED');
    worker = undefined;
  });
});
