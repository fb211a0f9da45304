import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ensureHome, projectRoot } from '../../config/home.js';
import { gatewayToken } from '../../config/token.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../../temporal/cli-path.js';
import { gatewayBaseUrl, uiCodecPath } from '../../temporal/codec-endpoint.js';
import { effectiveAddress, temporalUiUrl } from '../../temporal/connection.js';
import {
  type DevServer,
  devServerAddress,
  devServerUiUrl,
  PortInUseError,
  startDevServer,
} from '../../temporal/dev-server.js';
import { loadKeyRing } from '../../temporal/encryption-keys.js';
import { gatewayUrl, loadConfigOrExit, reportedGatewayPort } from '../load.js';
import { launchNodeChild, Supervised } from '../supervisor.js';

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description(
      'start everything on this machine: Temporal (unless TEMPORAL_ADDRESS is set), worker and gateway',
    )
    .action(async () => {
      const config = loadConfigOrExit();
      const paths = ensureHome(config.home);
      // Create the token and the encryption key before worker and gateway start (both read them).
      const token = gatewayToken(config)!;
      try {
        loadKeyRing(config);
      } catch (err) {
        console.error(`error: ${(err as Error).message}`);
        process.exit(1);
      }
      // The Web UI decrypts conversations through the gateway (docs/encryption.md); a gateway on
      // port 0 reports its port only once it listens, too late for the dev server's flags.
      const uiCodecEndpoint =
        config.gateway.port === 0
          ? undefined
          : `${gatewayBaseUrl(config.gateway.host, config.gateway.port)}${uiCodecPath(token)}`;
      const print = (line: string) => process.stdout.write(`${line}\n`);

      let temporal: Supervised | undefined;
      let devServer: DevServer | undefined;
      if (!config.temporal.address) {
        const cliPath = findTemporalCli();
        if (!cliPath) {
          console.error(HOW_TO_GET_THE_CLI);
          process.exit(1);
        }
        const logFile = join(paths.logsDir, 'temporal.log');
        print(`[supervisor] starting Temporal dev server (${cliPath}) with ${paths.temporalDb}`);
        // Restarted like the others when it dies, on the same SQLite file: workflows carry on where
        // they were, and the worker and gateway reconnect on their own.
        temporal = new Supervised({
          name: 'Temporal dev server',
          logFile,
          print,
          launch: async () => {
            const logStart = sizeOf(logFile);
            devServer = await startDevServer({
              cliPath,
              dbFile: paths.temporalDb,
              logFile,
              ...config.temporal.devServer,
              ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
              // Its own process group: a terminal's Ctrl-C reaches only us, and we stop it last.
              detached: true,
            });
            const server = devServer;
            return {
              pid: server.pid,
              exited: server.exited,
              stop: (graceMs) => server.stop(graceMs),
              why: () => lastErrorLine(logFile, logStart),
            };
          },
          back: (run) =>
            `Temporal dev server is back (pid ${run.pid}) on ${devServer?.address}; the worker and gateway reconnect on their own`,
        });
      }
      // Known before the dev server starts, so the gateway can start beside it.
      const address = temporal ? devServerAddress(config.temporal.devServer) : effectiveAddress(config);
      const uiUrl = temporal ? devServerUiUrl(config.temporal.devServer) : temporalUiUrl(config);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SWITCHYARD_HOME: config.home,
        TEMPORAL_ADDRESS: address,
        ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
      };
      const bin = join(projectRoot(), 'bin', 'switchyard.js');
      // gateway.port 0: the gateway binds a port the system picks and reports it; that port is
      // kept for its restarts and given to the worker (which streams live output to it).
      let gatewayPort = config.gateway.port;
      let reported: () => void = () => {};
      const portReported = new Promise<void>((resolve) => {
        reported = resolve;
      });
      const supervise = (name: 'worker' | 'gateway') => {
        const logFile = join(paths.logsDir, `${name}.log`);
        const printLine = (line: string) => {
          const port = name === 'gateway' ? reportedGatewayPort(line) : undefined;
          if (port !== undefined && gatewayPort === 0) {
            gatewayPort = port;
            env.SWITCHYARD_GATEWAY_PORT = String(port);
          }
          if (port !== undefined) reported();
          print(line);
        };
        const child = { name, command: process.execPath, args: [bin, name], env, logFile, print: printLine };
        return new Supervised({ name, logFile, print, launch: async () => launchNodeChild(child) });
      };
      const worker = supervise('worker');
      const gateway = supervise('gateway');
      // From here on, Ctrl-C stops what has started, in order (worker and gateway are in their own
      // process groups and would outlive us otherwise).
      let stopping = false;
      const stopAll = async (signal: string) => {
        if (stopping) {
          print('[supervisor] second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        for (const supervised of [gateway, worker, temporal]) supervised?.holdRestarts();
        print(`[supervisor] ${signal}: stopping gateway, worker and Temporal…`);
        // Gateway first (no new work accepted), then the worker, then Temporal.
        await gateway.stop();
        await worker.stop();
        await temporal?.stop();
        print('[supervisor] stopped');
        process.exit(0);
      };
      process.on('SIGINT', () => void stopAll('SIGINT'));
      process.on('SIGTERM', () => void stopAll('SIGTERM'));
      // The gateway starts at once, beside the dev server: it connects to Temporal lazily (and
      // retries), so it answers `health`, the web chat and /readyz ("not ready") while Temporal
      // comes up, and accepted messages wait for it. The worker starts once Temporal serves.
      const temporalUp = temporal?.start();
      await gateway.start();
      try {
        await temporalUp;
      } catch (err) {
        await gateway.stop();
        console.error(
          err instanceof PortInUseError ? err.message : `Could not start Temporal: ${(err as Error).message}`,
        );
        process.exit(1);
      }
      if (temporal) print(`[supervisor] Temporal dev server pid ${temporal.pid} serving on ${address}`);
      if (gatewayPort === 0) await portReported;
      await worker.start();

      const url = gatewayUrl(config, gatewayPort);
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

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The last error the dev server logged since `offset` (why it ended, when it said so). */
function lastErrorLine(file: string, offset: number): string | undefined {
  try {
    const lines = readFileSync(file).subarray(offset).toString('utf8').split('\n');
    return lines
      .findLast((l) => /\b(error|fatal|panic)\b/i.test(l))
      ?.trim()
      .slice(0, 300);
  } catch {
    return undefined;
  }
}
