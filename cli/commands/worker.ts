import type { Command } from 'commander';
import { effectiveAddress } from '../../temporal/connection.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { watchParent } from '../child.js';
import { loadConfigOrExit } from '../load.js';
import { installProcessLog } from '../process-log.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: executes workflows and activities from the task queue (stateless; run many)')
    .action(async () => {
      const config = loadConfigOrExit();
      // Before anything touches Temporal: the SDK's logs go to logs/worker.log, not the console.
      const log = installProcessLog('worker', config);
      let running: RunningWorker;
      try {
        running = await startWorker({
          config,
          log: log.logger,
          waitForTemporal: (message) => console.log(message),
        });
      } catch (err) {
        log.logger.error({ err }, 'the worker could not start');
        await log.close();
        process.exit(1);
      }
      console.log(
        `worker ready: task queue "${running.taskQueue}" on ${effectiveAddress(config)} (namespace ${config.temporal.namespace}), pid ${process.pid}; logs: ${log.file}`,
      );
      // Temporal's runtime shuts the worker down gracefully on SIGINT/SIGTERM; `done` then settles.
      watchParent(() => running.worker.shutdown());
      let code = 0;
      try {
        await running.done;
      } catch (err) {
        log.logger.error({ err }, 'the worker stopped');
        code = 1;
      }
      await log.close();
      process.exit(code);
    });
}
