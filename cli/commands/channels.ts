// `switchyard channels …`: the chat connections. `status` shows what the running gateway reports
// for each account; `login whatsapp` links a WhatsApp account by QR code — through the running
// gateway when there is one (it owns the connection), else on its own.
import type { Command } from 'commander';
import { resolveWhatsAppAccounts } from '../../channels/whatsapp/config.js';
import type { Config } from '../../config/config.js';
import { gatewayToken } from '../../config/token.js';
import type { LoginState } from '../../gateway/channels/whatsapp.js';
import { gatewayUrl, loadConfigOrExit } from '../load.js';
import { gatewayChecks } from './doctor.js';

export function registerChannelsCommands(program: Command): void {
  const channels = program
    .command('channels')
    .description('Chat connections: their state, and linking WhatsApp');

  channels
    .command('status')
    .description(
      'what the running gateway reports for each chat account (connected, reconnecting, logged out, …)',
    )
    .action(async () => {
      const config = loadConfigOrExit();
      const checks = await gatewayChecks(config);
      for (const c of checks) {
        console.log(`${c.ok ? 'ok  ' : c.optional ? 'warn' : 'FAIL'}  ${c.name.padEnd(20)} ${c.detail}`);
        if (!c.ok && c.fix) console.log(`      ${''.padEnd(20)} fix: ${c.fix}`);
      }
      process.exitCode = checks.some((c) => !c.ok && !c.optional) ? 1 : 0;
    });

  channels
    .command('login <platform>')
    .description('link a WhatsApp account: prints a QR code to scan with WhatsApp on your phone')
    .option('--account <id>', 'which account of channels.whatsapp (default: default)', 'default')
    .option('--timeout <seconds>', 'give up after this long', '180')
    .action(async (platform: string, options: { account: string; timeout: string }, cmd: Command) => {
      if (platform !== 'whatsapp') cmd.error(`only whatsapp is linked by QR code (got "${platform}")`);
      const config = loadConfigOrExit();
      const accountId = options.account.toLowerCase();
      const account = resolveWhatsAppAccounts(config.routing.channels?.whatsapp, config.home).find(
        (a) => a.accountId === accountId,
      );
      if (!account) {
        cmd.error(
          `WhatsApp account "${accountId}" is not configured: add it to switchyard.yaml, e.g.\n` +
            (accountId === 'default'
              ? 'channels:\n  whatsapp:\n    dmPolicy: pairing'
              : `channels:\n  whatsapp:\n    accounts:\n      ${accountId}: {}`),
        );
      }
      const timeoutMs = Number(options.timeout) * 1000;
      const viaGateway = await loginThroughGateway(config, accountId, timeoutMs);
      if (viaGateway !== 'no-gateway') {
        process.exitCode = viaGateway === 'linked' ? 0 : 1;
        return;
      }
      console.log('No running gateway: linking from here.');
      // baileys loads only for this (a few hundred modules).
      const { linkWhatsApp, WhatsAppLinkError } = await import('../../channels/whatsapp/login.js');
      let shown = 0;
      const linking = linkWhatsApp({
        authDir: account.authDir,
        ...(account.wsUrl ? { wsUrl: account.wsUrl } : {}),
        log: { debug() {}, info() {}, warn() {}, error: (obj, msg) => console.error(msg, obj) },
        timeoutMs,
        onQr: (qr) => void showQr(qr, ++shown),
      });
      try {
        const result = await linking.done;
        console.log(
          result.kind === 'already-linked'
            ? `Already linked to ${result.phone}. To link another number, stop Switchyard and remove ${account.authDir}.`
            : `Linked to ${result.phone}. Start Switchyard (switchyard up) and message it on WhatsApp.`,
        );
      } catch (error) {
        if (error instanceof WhatsAppLinkError) cmd.error(error.message);
        throw error;
      }
    });
}

async function showQr(qr: string, n: number): Promise<void> {
  const { qrForTerminal } = await import('../../channels/whatsapp/login.js');
  const text = await qrForTerminal(qr);
  console.log(
    `\n${n === 1 ? '' : '(a new code) '}Scan this with WhatsApp on your phone: Settings → Linked devices → Link a device.\n`,
  );
  console.log(text);
}

/** Polls the gateway's login state and prints each new QR code; 'no-gateway' when none answers. */
async function loginThroughGateway(
  config: Config,
  accountId: string,
  timeoutMs: number,
): Promise<'linked' | 'failed' | 'no-gateway'> {
  const token = gatewayToken(config, { create: false });
  const url = `${gatewayUrl(config)}/channels/whatsapp/login/state?account=${encodeURIComponent(accountId)}`;
  const startUrl = `${url}&start`;
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  const deadline = Date.now() + timeoutMs;
  let lastQr: string | undefined;
  let shown = 0;
  for (let first = true; Date.now() < deadline; first = false) {
    let res: Response;
    try {
      res = await fetch(first ? startUrl : url, {
        ...(headers ? { headers } : {}),
        signal: AbortSignal.timeout(5_000),
      });
    } catch {
      if (first) return 'no-gateway';
      console.error('The gateway stopped answering.');
      return 'failed';
    }
    if (!res.ok) {
      console.error(await res.text());
      return 'failed';
    }
    const state = (await res.json()) as LoginState;
    if (first) console.log(`Linking through the running gateway at ${gatewayUrl(config)}.`);
    if (state.state === 'linked') {
      console.log(
        `Linked${state.phone ? ` to ${state.phone}` : ''}. The gateway is connecting; message it on WhatsApp.`,
      );
      return 'linked';
    }
    if (state.state === 'failed') {
      console.error(`Linking failed: ${state.error ?? 'unknown error'}`);
      return 'failed';
    }
    if (state.qr && state.qr !== lastQr) {
      lastQr = state.qr;
      await showQr(state.qr, ++shown);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
  }
  console.error('No QR code was scanned in time; run the login again.');
  return 'failed';
}
