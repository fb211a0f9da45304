import type { Command } from 'commander';
import { effectiveAddress } from '../../temporal/connection.js';
import { startWorker } from '../../worker/worker.js';
import { watchParent } from '../child.js';
import { loadConfigOrExit } from '../load.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: executes workflows and activities from the task queue (stateless; run many)')
    .action(async () => {
      const config = loadConfigOrExit();
      const running = await startWorker({ config });
      console.log(
        `worker ready: task queue "${running.taskQueue}" on ${effectiveAddress(config)} (namespace ${config.temporal.namespace}), pid ${process.pid}`,
      );
      // Temporal's runtime shuts the worker down gracefully on SIGINT/SIGTERM; `done` then settles.
      watchParent(() => running.worker.shutdown());
      await running.done;
      process.exit(0);
    });
}
