// "Fix the config, then replay the failed conversation in the Temporal UI": a turn fails on a
// wrong provider URL, the owner corrects switchyard.yaml while everything runs, resets the failed
// turn the way the UI's Reset button does (`temporal workflow reset`), and the new run answers
// through the corrected provider — no process restarted. The provider is a local wire-level
// OpenAI server; the worker is the production one (switchyard.yaml read by the activities).
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { Config } from '../../config/config.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { SEPARATE_SESSIONS, testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';

const run = promisify(execFile);
const TOKEN = 'reload-token-0123456789abcdef';

function configYaml(baseUrl: string): string {
  return `${SEPARATE_SESSIONS}providers:
  fake:
    type: openai-compatible
    baseUrl: ${baseUrl}
    apiKey: none
    models: [{ id: m1, contextWindow: 32000, maxTokens: 1000 }]
agents:
  - id: main
    model: fake/m1
`;
}

interface Frame {
  type: string;
  text?: string;
  replyTo?: string;
}

describe('config changes apply without a restart', () => {
  const address = inject('temporalAddress');
  const cli = inject('temporalCli');
  let wire: WireServer;
  let config: Config;
  let gateway: Gateway;
  let worker: RunningWorker;
  const logged: string[] = [];

  beforeAll(async () => {
    wire = await startWireServer('openai', (req) =>
      req.path.startsWith('/wrong/')
        ? { status: 404, message: 'no such route' }
        : { text: 'Answered through the corrected provider.' },
    );
    const port = await freePort();
    config = testConfig(
      address,
      { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('reload'), SWITCHYARD_GATEWAY_PORT: String(port) },
      configYaml(`${wire.url}/wrong/v1`),
    );
    gateway = await buildGateway({ config, token: TOKEN, logger: false, watchPipelines: false });
    await gateway.app.listen({ host: '127.0.0.1', port });
    worker = await startWorker({
      config,
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    await worker?.shutdown();
    await gateway?.close();
    await wire?.close();
  });

  it('a turn failed on a wrong provider URL; after fixing switchyard.yaml, resetting it answers', async () => {
    const chatId = `reload-${Date.now()}`;
    const ws = new WebSocket(`ws://127.0.0.1:${config.gateway.port}/chat/ws?chatId=${chatId}`);
    const frames: Frame[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
    await new Promise((resolve) => ws.once('open', resolve));
    const clientMessageId = `msg-${Date.now()}`;
    ws.send(JSON.stringify({ type: 'message', text: 'hello?', clientMessageId }));
    const finals = () => frames.filter((f) => f.type === 'final' && f.replyTo === clientMessageId);
    await expect.poll(() => finals().length, { timeout: 30_000 }).toBe(1);
    expect(finals()[0]!.text).toMatch(/^Sorry, I could not answer that: .*fake\/m1 failed: 404/);

    const workflowId = `turn:agent:main:webchat:direct:${chatId}:${clientMessageId}`;
    const handle = gateway.client.workflow.getHandle(workflowId);
    await expect.poll(async () => (await handle.describe()).status.name, { timeout: 15_000 }).toBe('FAILED');

    // The owner fixes the URL (an editor's save: write aside, rename over).
    const file = join(config.home, 'switchyard.yaml');
    writeFileSync(`${file}.new`, configYaml(`${wire.url}/v1`));
    renameSync(`${file}.new`, file);

    await run(cli, [
      'workflow',
      'reset',
      '--address',
      address,
      '--namespace',
      config.temporal.namespace,
      '--workflow-id',
      workflowId,
      '--type',
      'FirstWorkflowTask',
      '--reason',
      'provider URL fixed',
    ]);
    await expect.poll(() => finals().length, { timeout: 30_000 }).toBe(2);
    expect(finals()[1]!.text).toBe('Answered through the corrected provider.');
    await expect
      .poll(async () => (await handle.describe()).status.name, { timeout: 15_000 })
      .toBe('COMPLETED');
    const paths = wire.requests.map((r) => r.path);
    expect(paths[0]).toBe('/wrong/v1/chat/completions');
    expect(paths.at(-1)).toBe('/v1/chat/completions');
    expect(logged).toContainEqual(expect.stringMatching(/switchyard\.yaml reloaded \(providers changed\)/));
    ws.close();
  });

  it('a bad edit keeps the working provider and is reported with file:line', async () => {
    const file = join(config.home, 'switchyard.yaml');
    writeFileSync(
      `${file}.new`,
      `${configYaml(`${wire.url}/v1`)}    thinking: loud\n`.replace(
        '    model: fake/m1\n    thinking: loud\n',
        '    model: { primary: fake/m1, thinking: loud }\n',
      ),
    );
    renameSync(`${file}.new`, file);
    await expect
      .poll(() => logged.find((l) => l.includes('is invalid')), { timeout: 10_000 })
      .toMatch(/previous configuration stays in effect: \S+switchyard\.yaml:\d+:\d+: agents\.0\.model/);

    const chatId = `reload-bad-${Date.now()}`;
    const ws = new WebSocket(`ws://127.0.0.1:${config.gateway.port}/chat/ws?chatId=${chatId}`);
    const frames: Frame[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'message', text: 'still there?', clientMessageId: `msg-${Date.now()}` }));
    await expect
      .poll(() => frames.find((f) => f.type === 'final')?.text, { timeout: 30_000 })
      .toBe('Answered through the corrected provider.');
    ws.close();
  });
});
