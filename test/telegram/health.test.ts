// Health that tells the truth, for Telegram: the gateway's /readyz, `switchyard doctor` and the
// OpenClaw health payload say what the connector is really doing — refused token, connected,
// reconnecting after the Bot API went away, connected again once it is back.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTelegramServer } from '@openclaw/crabline';
import Fastify from 'fastify';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ConnectorStatusBoard } from '../../channels/status.js';
import { createTelegramConnector } from '../../channels/telegram/connector.js';
import { TELEGRAM_WEBHOOK_PATH } from '../../channels/telegram/webhook.js';
import { gatewayChecks } from '../../cli/commands/doctor.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';
import type { Readiness } from '../../gateway/health.js';
import { gatewayHealth } from '../../gateway/openclaw/health.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/until.js';
import { recordingLog, startFakeTelegram, tempDb } from './helpers.js';

describe('telegram connector health in /readyz, doctor and OpenClaw health', () => {
  const address = inject('temporalAddress');
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function gatewayFor(lines: string[]): Promise<{ gateway: Gateway; config: Config; base: string }> {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-tg-health-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      ['channels:', '  telegram:', ...lines.map((l) => `    ${l}`)].join('\n'),
    );
    const port = await freePort();
    const config = loadConfig({
      home,
      env: {
        TEMPORAL_ADDRESS: address,
        SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('tghealth'),
        SWITCHYARD_GATEWAY_PORT: String(port),
      },
    });
    const gateway = await buildGateway({
      config,
      token: 'tg-health-token-0123456789',
      logger: false,
      watchPipelines: false,
    });
    cleanups.push(() => gateway.close());
    const base = await gateway.app.listen({ host: '127.0.0.1', port });
    return { gateway, config, base };
  }

  const readyz = async (base: string, query = '') => {
    const res = await fetch(`${base}/readyz${query}`);
    return { status: res.status, body: (await res.json()) as Readiness };
  };

  it('reports a refused bot token as auth-failed, with what to do, and keeps the gateway up', async () => {
    // crabline answers an unknown token with a bare 404 page; Telegram answers with its JSON error.
    const telegram = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error_code: 401, description: 'Unauthorized' }));
    });
    await new Promise<void>((resolve) => telegram.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => telegram.close(() => resolve())));
    const { port } = telegram.address() as AddressInfo;
    const { base, config } = await gatewayFor([
      'botToken: "111:wrongwrongwrong"',
      `apiRoot: "http://127.0.0.1:${port}"`,
    ]);
    const { status, body } = await readyz(base);
    expect(status).toBe(200);
    expect(body.channels).toEqual([
      expect.objectContaining({ channel: 'telegram', accountId: 'default', state: 'auth-failed' }),
    ]);
    expect(body.channels[0]!.lastError).not.toContain('wrongwrongwrong');
    expect(body.problems).toEqual([
      expect.stringMatching(/^telegram\/default was refused by the platform: .*botToken/),
    ]);
    // Monitors that read only status codes ask for the strict answer.
    expect((await readyz(base, '?strict')).status).toBe(503);

    const checks = await gatewayChecks(config);
    expect(checks.find((c) => c.name === 'telegram/default')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('@BotFather'),
    });
  });

  it('goes connected → reconnecting when the Bot API disappears → connected when it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-tg-health-srv-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const params = { port, botToken: '222:token-of-the-bot', adminToken: 'admin-token-0123456789' };
    let server = await startTelegramServer({ ...params, recorderPath: join(dir, 'one.jsonl') });
    cleanups.push(() => server.close());
    const { gateway, base, config } = await gatewayFor([
      `botToken: "${params.botToken}"`,
      `apiRoot: "${server.manifest.endpoints.apiRoot}"`,
    ]);
    await until(async () => (await readyz(base)).body.channels[0]?.state === 'connected' || undefined);
    expect((await readyz(base, '?strict')).status).toBe(200);
    expect((await gatewayChecks(config)).find((c) => c.name === 'telegram/default')).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^connected \(polling\) for /),
    });

    await server.close();
    const lost = await until(async () => {
      const channel = (await readyz(base)).body.channels[0];
      return channel?.state === 'reconnecting' ? channel : undefined;
    });
    expect(lost).toMatchObject({ attempt: expect.any(Number), lastError: expect.any(String) });
    // OpenClaw clients see the same, in OpenClaw's health shape.
    const health = gatewayHealth('x', gateway.status.list());
    expect(health.channelOrder).toEqual(['telegram']);
    expect(health.channels?.telegram).toMatchObject({
      accountId: 'default',
      connected: false,
      healthState: 'reconnecting',
      accounts: { default: expect.objectContaining({ healthState: 'reconnecting' }) },
    });

    server = await startTelegramServer({ ...params, recorderPath: join(dir, 'two.jsonl') });
    await until(
      async () => (await readyz(base)).body.channels[0]?.state === 'connected' || undefined,
      40_000,
    );
  });

  it('in webhook mode, says so when Telegram cannot deliver to the webhook, and recovers when it can', async () => {
    const telegram = await startFakeTelegram();
    const store = tempDb();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}${TELEGRAM_WEBHOOK_PATH}`;
    const board = new ConnectorStatusBoard();
    const connector = createTelegramConnector({
      botToken: telegram.botToken,
      apiRoot: telegram.apiRoot,
      mode: 'webhook',
      webhookSecret: 'hook_secret-0123456789',
      webhookUrl: url,
      access: new PairingStore(store.db),
      policy: { dmPolicy: 'open' },
      onInbound: async () => {},
      log: recordingLog().log,
      health: board.account('telegram', 'default', { mode: 'webhook' }),
      webhookCheckMs: 200,
    });
    const app = Fastify({ logger: false });
    app.route(connector.webhookRoute);
    cleanups.push(async () => {
      await connector.stop();
      await app.close();
      await telegram.close();
      store.cleanup();
    });
    await connector.start();
    expect(board.list()[0]).toMatchObject({ state: 'connected', mode: 'webhook' });
    // Nothing listens at the webhook yet: Telegram's delivery of a message fails.
    await telegram.inject({ chatId: 4242, fromId: 4242, text: 'anyone there?' }).catch(() => undefined);
    const failing = await until(() =>
      board.list()[0]!.state === 'reconnecting' ? board.list()[0] : undefined,
    );
    expect(failing!.lastError).toMatch(/^Telegram cannot deliver updates to the webhook \(1 waiting\)/);
    // The route comes up; Telegram's retry gets through and the account is connected again.
    await app.listen({ host: '127.0.0.1', port });
    await until(() => (board.list()[0]!.state === 'connected' ? true : undefined), 40_000);
  });
});
