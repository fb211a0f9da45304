import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { reconcileDeclared } from '../../client/schedules.js';
import { ensureHome } from '../../config/home.js';
import { gatewayToken } from '../../config/token.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { effectiveAddress } from '../../temporal/connection.js';
import { watchParent } from '../child.js';
import { gatewayUrl, loadConfigOrExit } from '../load.js';
import { installProcessLog } from '../process-log.js';

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('run the gateway: HTTP + WebSocket on one port, channel connections, health')
    .action(async () => {
      const config = loadConfigOrExit();
      ensureHome(config.home);
      // Before anything touches Temporal: the SDK's and fastify's logs go to logs/gateway.log.
      const log = installProcessLog('gateway', config);
      const fail = async (line: string, err?: unknown) => {
        log.logger.error(err === undefined ? {} : { err }, line);
        await log.close();
        process.exit(1);
      };
      let gateway: Gateway;
      let port: number;
      try {
        gateway = await buildGateway({ config, token: gatewayToken(config)!, loggerInstance: log.logger });
        await gateway.app.listen({ host: config.gateway.host, port: config.gateway.port });
        // Port 0: the system picked one; say which (`switchyard up` and tests read this line).
        port = (gateway.app.server.address() as AddressInfo).port;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          return fail(
            `Port ${config.gateway.port} is already in use (another gateway?). Stop it, or set gateway.port in switchyard.yaml / SWITCHYARD_GATEWAY_PORT.`,
          );
        }
        return fail('the gateway could not start', err);
      }
      console.log(
        `gateway listening on ${gatewayUrl(config, port)} (Temporal ${effectiveAddress(config)}), pid ${process.pid}; logs: ${log.file}`,
      );
      let closing = false;
      const stop = async () => {
        if (closing) return;
        closing = true;
        await gateway.close();
        await log.close();
        process.exit(0);
      };
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
      // switchyard.yaml is watched (gateway.config); SIGHUP makes the gateway look at it now and
      // bring the Schedules in line even when the file did not change.
      process.on('SIGHUP', () => {
        void (async () => {
          try {
            const fresh = gateway.config.current();
            const result = await reconcileDeclared(gateway.client, fresh, fresh.temporal.taskQueue);
            gateway.app.log.info(
              `config reloaded: schedules ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted`,
            );
          } catch (err) {
            gateway.app.log.error(`config reload failed: ${(err as Error).message}`);
          }
        })();
      });
      watchParent(stop);
    });
}
