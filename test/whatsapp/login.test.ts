// Linking by QR code. crabline has no QR pairing (it opens a fresh device's connection without
// linking a number), so what is checked here is everything around the scan: the QR renderings,
// the gateway's login page and state endpoint, the CLI going through the running gateway, and a
// failed link reported plainly with nothing half-linked left behind.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hasLinkedCreds } from '../../channels/whatsapp/auth-state.js';
import { qrAsSvg, qrForTerminal } from '../../channels/whatsapp/login.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { spawnSwitchyard } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { type FakeWhatsApp, startFakeWhatsApp } from './helpers.js';

describe('QR codes', () => {
  it('renders for a terminal and as SVG', async () => {
    const code = '2@abcDEF123,xyz,uvw,rst';
    const text = await qrForTerminal(code);
    expect(text.split('\n').length).toBeGreaterThan(10);
    expect(text).toMatch(/[█▀▄]/);
    expect(await qrAsSvg(code)).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s);
  });
});

describe('linking through the gateway', () => {
  const address = inject('temporalAddress');
  let wa: FakeWhatsApp;
  let gateway: Gateway;
  let home: string;
  let base: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    wa = await startFakeWhatsApp();
    home = mkdtempSync(join(tmpdir(), 'switchyard-wa-login-'));
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'switchyard.yaml'),
      ['channels:', '  whatsapp:', `    wsUrl: "${wa.wsUrl}"`].join('\n'),
    );
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('walogin'),
      SWITCHYARD_GATEWAY_PORT: String(port),
      SWITCHYARD_GATEWAY_TOKEN: 'wa-login-token-0123456789',
    };
    const config = loadConfig({ home, env });
    gateway = await buildGateway({
      config,
      token: env.SWITCHYARD_GATEWAY_TOKEN!,
      logger: false,
      watchPipelines: false,
    });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await gateway?.close();
    await wa?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves the login page, and reports a link that did not happen', async () => {
    const page = await fetch(`${base}/channels/whatsapp/login`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Settings → Linked devices → Link a device');
    const state = await until(async () => {
      const s = (await (await fetch(`${base}/channels/whatsapp/login/state`)).json()) as {
        state: string;
        error?: string;
      };
      return s.state === 'failed' ? s : undefined;
    }, 30_000);
    expect(state.error).toBe('WhatsApp opened the connection without linking a phone number');
    expect(await hasLinkedCreds(join(home, 'whatsapp', 'default'))).toBe(false);
    const other = await fetch(`${base}/channels/whatsapp/login/state?account=work`);
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('No WhatsApp account "work" (configured: default).');
  });

  it('`switchyard channels login whatsapp` goes through the running gateway and says what happened', async () => {
    const cli = spawnSwitchyard(['channels', 'login', 'whatsapp', '--timeout', '60'], env);
    const { code } = await cli.exited;
    expect(cli.output()).toContain(
      `Linking through the running gateway at http://127.0.0.1:${env.SWITCHYARD_GATEWAY_PORT}`,
    );
    expect(cli.output()).toMatch(/Linking failed: WhatsApp (opened|closed) the connection/);
    expect(code).toBe(1);
  });

  it('`switchyard channels status` shows the account waiting to be linked', async () => {
    const cli = spawnSwitchyard(['channels', 'status'], env);
    await cli.exited;
    expect(cli.output()).toMatch(
      /FAIL {2}whatsapp\/default +logged out .*\n.*fix: Link it: run `switchyard channels login whatsapp`/,
    );
  });
});
