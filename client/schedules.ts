/**
 * Declared schedules (`cron:` in switchyard.yaml, plus the heartbeat) are reconciled into
 * Temporal Schedules when the gateway starts — in the background, retrying while Temporal is
 * down, so a gateway never refuses to start over it. Run-time tasks (CLI, agent tool) survive.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import { declaredTasks, type ReconcileResult, reconcileSchedules } from './cron/index.js';

/** The schedules switchyard.yaml declares: `cron.tasks` plus the heartbeat, when on. */
export function reconcileDeclared(
  client: Client,
  config: Config,
  taskQueue: string,
): Promise<ReconcileResult> {
  const workspace = join(config.home, 'agents', config.cron.heartbeat?.agentId ?? 'main');
  return reconcileSchedules(client, declaredTasks(config.cron, workspace), { taskQueue });
}

export function reconcileInBackground(options: {
  client: Client;
  config: Config;
  taskQueue: string;
  log: FastifyBaseLogger;
  cancelled: () => boolean;
}): Promise<ReconcileResult | undefined> {
  const { client, config, taskQueue, log, cancelled } = options;
  return (async () => {
    let delay = 500;
    while (!cancelled()) {
      try {
        const result = await reconcileDeclared(client, config, taskQueue);
        const changed = result.created.length + result.updated.length + result.deleted.length;
        if (changed > 0) {
          log.info(
            `schedules reconciled: ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted`,
          );
        }
        return result;
      } catch (err) {
        if (delay === 500)
          log.warn(`schedules not reconciled yet (${(err as Error).message.split('\n')[0]}); retrying`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
    return undefined;
  })();
}
