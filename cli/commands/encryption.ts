import type { Command } from 'commander';
import { gatewayToken } from '../../config/token.js';
import { gatewayBaseUrl, uiCodecPath } from '../../temporal/codec-endpoint.js';
import { keyFileOf, loadKeyRing, rotateKeyFile } from '../../temporal/encryption-keys.js';
import { loadConfigOrExit } from '../load.js';

/** `switchyard encryption status|rotate`: the payload codec's keys (docs/encryption.md). */
export function registerEncryptionCommands(program: Command): void {
  const encryption = program
    .command('encryption')
    .description('encryption at rest of conversations in Temporal: key status and rotation');

  encryption
    .command('status')
    .description(
      'say whether new payloads are encrypted, with which key id, and how to decrypt with the Temporal CLI',
    )
    .action(() => {
      const config = loadConfigOrExit();
      const ring = orExit(() => loadKeyRing(config, { create: false }));
      const on = config.temporal.encryption.enabled;
      console.log(`encryption   ${on ? 'on' : 'off (new payloads are written in clear)'}`);
      if (ring.active) console.log(`active key   ${ring.active.id} (from ${ring.source})`);
      else if (on)
        console.log(
          `active key   none yet: ${keyFileOf(config.home)} is created when a worker or gateway starts`,
        );
      console.log(`keys known   ${[...ring.byId.keys()].join(', ') || 'none'}`);
      const base = gatewayBaseUrl(config.gateway.host, config.gateway.port);
      console.log(`codec        ${base}/codec (Authorization: Bearer <gateway token>)`);
      console.log(
        `temporal CLI temporal workflow show -w <id> --codec-endpoint ${base}/codec --codec-auth "Bearer $(cat ${config.home}/gateway.token)"`,
      );
      const token = gatewayToken(config, { create: false });
      if (token)
        console.log(
          `Web UI       ${base}${uiCodecPath(token)} (given to the dev server by \`switchyard up\`)`,
        );
    });

  encryption
    .command('rotate')
    .description(`put a new key first in <data dir>/encryption.keys; older keys stay to read older history`)
    .action(() => {
      const config = loadConfigOrExit();
      if (config.temporal.encryption.keys !== undefined) {
        console.error(
          'error: the keys come from temporal.encryption.keys (or SWITCHYARD_ENCRYPTION_KEYS): rotate there by putting a new <id>:<base64> entry first',
        );
        process.exit(1);
      }
      const id = orExit(() => rotateKeyFile(config.home));
      console.log(
        `new key ${id} is first in ${keyFileOf(config.home)}; restart \`switchyard up\` (or every worker and gateway) to encrypt with it`,
      );
    });
}

function orExit<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  }
}
