// Onboarding in the web chat, in Chromium: a fresh data directory (no switchyard.yaml), the
// real gateway and the production worker on the test run's Temporal server, and a wire-level
// Anthropic server. The first message leads to the provider choice, a wrong key is refused by
// the real test call, the right one is stored 0600 in the secrets file (never in switchyard.yaml,
// the page's storage, Temporal history or the answer), and the first message is then answered —
// with no failed workflow anywhere.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import { bundledLocalModel } from '../../config/bundled-model.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { launchChromium } from '../helpers/browser.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';

const GOOD_KEY = 'sk-ant-onboarding-good-0123456789';
const BAD_KEY = 'sk-ant-onboarding-wrong-9876543210';

describe('web chat onboarding in Chromium (no model configured yet)', () => {
  const address = inject('temporalAddress');
  let wire: WireServer;
  let config: Config;
  let gateway: Gateway;
  let worker: RunningWorker;
  let browser: Browser;
  let base: string;
  const workerLines: string[] = [];

  beforeAll(async () => {
    wire = await startWireServer('anthropic', (req) =>
      req.headers['x-api-key'] !== GOOD_KEY
        ? { status: 401, message: 'invalid x-api-key' }
        : JSON.stringify(req.body).includes('capital of France')
          ? { text: 'Paris is the capital of France.' }
          : { text: 'ready' },
    );
    const home = mkdtempSync(join(tmpdir(), 'switchyard-onboarding-'));
    const port = await freePort();
    config = loadConfig({
      home,
      env: {
        TEMPORAL_ADDRESS: address,
        SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('onboard'),
        SWITCHYARD_GATEWAY_PORT: String(port),
      },
    });
    gateway = await buildGateway({ config, token: 'onboarding-token-0123456789', logger: false });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
    worker = await startWorker({
      config,
      log: {
        info: (m) => workerLines.push(m),
        warn: (m) => workerLines.push(m),
        error: (m) => workerLines.push(m),
      },
    });
    await gateway.channels.workersReady;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.shutdown();
    await gateway?.close();
    await wire?.close();
  });

  it('leads from the first message to a working model, then answers that message', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    await page.locator('#input').fill('What is the capital of France?');
    await page.locator('#input').press('Enter');

    // No turn: the gateway asks for a provider, and the message waits unacknowledged.
    await page.locator('#setup button.choice[data-provider="anthropic"]').waitFor();
    expect(await page.locator('#setup .intro').textContent()).toContain("agent 'main' has no model yet");
    expect(await page.locator('.msg.user').getAttribute('data-state')).toBe('pending');
    const choices = await page
      .locator('#setup button.choice')
      .evaluateAll((els) =>
        els.map((e) => (e as unknown as { dataset: { provider: string } }).dataset.provider),
      );
    // The bundled local model is offered where `npm run setup` installed it (as `npm test` does).
    expect(choices).toEqual([
      'anthropic',
      'openai',
      'google',
      'openrouter',
      'openai-compatible',
      ...(bundledLocalModel() ? ['local'] : []),
    ]);
    await page.locator('#setup button.choice[data-provider="anthropic"]').click();

    // A wrong key: the real test call is refused, the form says why and asks again.
    await page.locator('#setup input[name="apiKey"]').fill(BAD_KEY);
    expect(await page.locator('#setup input[name="apiKey"]').getAttribute('type')).toBe('password');
    await page.locator('#setup input[name="baseUrl"]').fill(wire.url);
    await page.locator('#setup-submit').click();
    await expect
      .poll(() => page.locator('#setup .problem').textContent(), { timeout: 20_000 })
      .toMatch(/The test call failed: .*401/);
    expect(await page.locator('#setup .problem').textContent()).not.toContain(BAD_KEY);
    expect(await page.locator('#setup input[name="apiKey"]').inputValue()).toBe('');
    expect(await page.locator('#setup input[name="baseUrl"]').inputValue()).toBe(wire.url);

    await page.locator('#setup input[name="apiKey"]').fill(GOOD_KEY);
    await page.locator('#setup-submit').click();

    // Done: the note, then the waiting message's answer, streamed by the configured provider.
    await expect
      .poll(() => page.locator('.msg.note').textContent(), { timeout: 20_000 })
      .toMatch(/^Done: anthropic\/claude-sonnet-4-5 answered the test call/);
    const answer = page.locator('.msg.assistant');
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 30_000 }).toBe('final');
    expect(await answer.textContent()).toBe('Paris is the capital of France.');
    expect(await page.locator('.msg.user').getAttribute('data-state')).toBe('sent');
    expect(await page.locator('#setup').isHidden()).toBe(true);

    // Where the key is: the secrets file, 0600. Nowhere else.
    const secrets = join(config.home, 'secrets.json');
    expect(JSON.parse(readFileSync(secrets, 'utf8'))).toEqual({ anthropic: GOOD_KEY });
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const yaml = readFileSync(join(config.home, 'switchyard.yaml'), 'utf8');
    expect(yaml).not.toContain(GOOD_KEY);
    expect(loadConfig({ home: config.home, env: {} }).models).toMatchObject({
      providers: { anthropic: { apiKey: { secret: 'anthropic' }, baseUrl: wire.url } },
      agents: [{ id: 'main', model: 'anthropic/claude-sonnet-4-5' }],
    });
    const stored = JSON.stringify(await page.evaluate('Object.entries(localStorage)'));
    expect(stored).not.toContain(GOOD_KEY);
    expect(stored).not.toContain(BAD_KEY);
    expect(wire.requests.map((r) => r.headers['x-api-key'])).toEqual([BAD_KEY, GOOD_KEY, GOOD_KEY]);

    // In Temporal: one session and one completed turn, no key in their histories, nothing failed.
    const chatId = String(await page.evaluate("localStorage.getItem('switchyard.webchat.chatId')"));
    expect(chatId).toMatch(/^[0-9a-f]{32}$/);
    const turns: Array<{ workflowId: string; status: string; runId: string }> = [];
    for await (const w of gateway.client.workflow.list({
      query: `TaskQueue = '${config.temporal.taskQueue}'`,
    })) {
      turns.push({ workflowId: w.workflowId, status: w.status.name, runId: w.runId });
    }
    expect(turns.filter((t) => t.status === 'FAILED')).toEqual([]);
    // The default pipeline's turn runs inside the session workflow (docs/sessions.md): no child.
    const session = turns.find((t) => t.workflowId.startsWith('session:'));
    expect(session).toBeDefined();
    const { turns: records } = await sessionHistory(
      gateway.client,
      session!.workflowId.slice('session:'.length),
    );
    expect(records.map((t) => [t.status, t.inline])).toEqual([['completed', true]]);
    for (const w of turns) {
      const history = JSON.stringify(
        await gateway.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory(),
      );
      expect(history).not.toContain(GOOD_KEY);
      expect(history).not.toContain(Buffer.from(GOOD_KEY).toString('base64').slice(0, 20));
    }
    expect(workerLines.join('\n')).not.toContain(GOOD_KEY);
  });

  it('once a model works, a new chat’s first message goes straight to a turn', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/chat`);
    await page.locator('body[data-connection="open"]').waitFor();
    await page.locator('#input').fill('Remind me: the capital of France?');
    await page.locator('#input').press('Enter');
    const answer = page.locator('.msg.assistant');
    await expect.poll(() => answer.getAttribute('data-state'), { timeout: 30_000 }).toBe('final');
    expect(await answer.textContent()).toBe('Paris is the capital of France.');
    expect(await page.locator('#setup').isHidden()).toBe(true);
    expect(await page.locator('.msg.note').count()).toBe(0);
  });
});
