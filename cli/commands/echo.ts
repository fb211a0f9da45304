import type { Command } from 'commander';
import { gatewayToken } from '../../config/token.js';
import { gatewayUrl, loadConfigOrExit } from '../load.js';

export function registerEchoCommand(program: Command): void {
  program
    .command('echo')
    .description('send text through gateway → Temporal → worker and print what comes back')
    .argument('<text>', 'text to echo')
    .option('--delay <ms>', 'hold the activity open this long', '0')
    .action(async (text: string, opts: { delay: string }) => {
      const config = loadConfigOrExit();
      const res = await fetch(`${gatewayUrl(config)}/v1/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayToken(config)}` },
        body: JSON.stringify({ text, delayMs: Number(opts.delay) }),
      }).catch((err: Error) => {
        console.error(
          `Cannot reach the gateway at ${gatewayUrl(config)}: ${err.message}. Is \`switchyard up\` running?`,
        );
        process.exit(1);
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) {
        console.error(`echo failed (${res.status}): ${JSON.stringify(body)}`);
        process.exit(1);
      }
      console.log(JSON.stringify(body, null, 2));
    });
}
