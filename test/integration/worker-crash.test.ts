import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EchoResult } from '../../activities/echo.js';
import { loadConfig } from '../../config/load.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';

describe('a worker killed mid-activity', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('crash');
  const env = {
    SWITCHYARD_HOME: mkdtempSync(join(tmpdir(), 'switchyard-crash-')),
    TEMPORAL_ADDRESS: address,
    SWITCHYARD_TASK_QUEUE: taskQueue,
  };
  const workers: Spawned[] = [];
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address });
    client = new Client({
      connection,
      dataConverter: dataConverterOf(loadConfig({ home: env.SWITCHYARD_HOME })),
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await connection?.close();
  });

  it('does not lose the workflow: a restarted worker completes it', async () => {
    const first = spawnSwitchyard(['worker'], env);
    workers.push(first);
    await first.waitFor(/worker ready/);

    const handle = await client.workflow.start('echoWorkflow', {
      taskQueue,
      workflowId: `echo-crash-${taskQueue}`,
      args: [{ text: 'survive this', delayMs: 3_000 }],
    });
    // Wait until the activity is running on the first worker, then kill it without warning.
    await expect
      .poll(async () => (await handle.describe()).raw.pendingActivities?.[0]?.state, { timeout: 15_000 })
      .toBe(
        2, // PENDING_ACTIVITY_STATE_STARTED
      );
    await first.kill('SIGKILL');

    const second = spawnSwitchyard(['worker'], env);
    workers.push(second);
    await second.waitFor(/worker ready/);

    const result = (await handle.result()) as EchoResult;
    expect(result.text).toBe('survive this');
    expect(result.worker.pid).toBe(second.child.pid);
    expect(result.attempt).toBe(2);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});
