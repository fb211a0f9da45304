import { join } from 'node:path';
import type { Command } from 'commander';
import { ensureHome, projectRoot } from '../../config/home.js';
import { gatewayToken } from '../../config/token.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../../temporal/cli-path.js';
import { effectiveAddress, temporalUiUrl } from '../../temporal/connection.js';
import { type DevServer, PortInUseError, startDevServer } from '../../temporal/dev-server.js';
import { gatewayUrl, loadConfigOrExit } from '../load.js';
import { SupervisedChild } from '../supervisor.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start everything on this machine: Temporal (unless TEMPORAL_ADDRESS is set), worker and gateway',
    )
    .action(async () => {
      const config = loadConfigOrExit();
      const paths = ensureHome(config.home);
      gatewayToken(config); // create the token file before worker and gateway start
      const print = (line: string) => process.stdout.write(`${line}\n`);

      let temporal: DevServer | undefined;
      if (!config.temporal.address) {
        const cliPath = findTemporalCli();
        if (!cliPath) {
          console.error(HOW_TO_GET_THE_CLI);
          process.exit(1);
        }
        const { devServer } = config.temporal;
        print(`[supervisor] starting Temporal dev server (${cliPath}) with ${paths.temporalDb}`);
        try {
          temporal = await startDevServer({
            cliPath,
            dbFile: paths.temporalDb,
            logFile: join(paths.logsDir, 'temporal.log'),
            ...devServer,
          });
        } catch (err) {
          console.error(
            err instanceof PortInUseError
              ? err.message
              : `Could not start Temporal: ${(err as Error).message}`,
          );
          process.exit(1);
        }
      }
      if (temporal)
        print(`[supervisor] Temporal dev server pid ${temporal.pid} serving on ${temporal.address}`);
      const address = temporal?.address ?? effectiveAddress(config);
      const uiUrl = temporal?.uiUrl ?? temporalUiUrl(config);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SWITCHYARD_HOME: config.home,
        TEMPORAL_ADDRESS: address,
        ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
      };
      const bin = join(projectRoot(), 'bin', 'switchyard.js');
      const children = ['worker', 'gateway'].map(
        (name) =>
          new SupervisedChild({
            name,
            command: process.execPath,
            args: [bin, name],
            env,
            logFile: join(paths.logsDir, `${name}.log`),
            print,
          }),
      );
      for (const child of children) child.start();

      let stopping = false;
      const stopAll = async (signal: string) => {
        if (stopping) {
          print('[supervisor] second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        print(`[supervisor] ${signal}: stopping gateway, worker and Temporal…`);
        // Gateway first (no new work accepted), then the worker, then Temporal.
        await children[1]!.stop();
        await children[0]!.stop();
        await temporal?.stop();
        print('[supervisor] stopped');
        process.exit(0);
      };
      process.on('SIGINT', () => void stopAll('SIGINT'));
      process.on('SIGTERM', () => void stopAll('SIGTERM'));
      temporal?.exited.then(({ code, signal }) => {
        if (stopping) return;
        print(
          `[supervisor] Temporal dev server exited (${signal ?? `code ${code}`}); see ${temporal!.logFile}. Stopping.`,
        );
        void stopAll('temporal-exit');
      });

      const url = gatewayUrl(config);
      if (await waitForReady(`${url}/readyz`, 60_000, () => stopping)) {
        print(
          [
            '',
            'Switchyard is up.',
            `  gateway      ${url}   (health: ${url}/readyz)`,
            `  web chat     ${url}/chat`,
            `  Temporal     ${address}${uiUrl ? `   UI: ${uiUrl}` : ''}`,
            `  data dir     ${config.home}`,
            `  logs         ${paths.logsDir}   (worker.log, gateway.log, temporal.log)`,
            `  token        ${config.gateway.token ? '(from config)' : paths.tokenFile}`,
            `  try it       switchyard send "hello"   (or open the web chat)`,
            '  stop         Ctrl-C',
            '',
          ].join('\n'),
        );
      } else if (!stopping) {
        print(
          `[supervisor] the gateway did not report ready at ${url}/readyz within 60 s; see ${paths.logsDir}`,
        );
      }
    });
}

async function waitForReady(url: string, timeoutMs: number, cancelled: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    const ok = await fetch(url)
      .then(async (r) => r.ok && ((await r.json()) as { workers?: number }).workers !== 0)
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
