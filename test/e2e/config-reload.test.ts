// "Fix the config, then replay the failed conversation in the Temporal UI": a turn fails on a
// wrong provider URL, the owner corrects switchyard.yaml while everything runs, resets the failed
// turn the way the UI's Reset button does (`temporal workflow reset`), and the new run answers
// through the corrected provider — no process restarted — and rejoins its conversation: the
// session records the answer after the turn's own message, and the next turn's model reads it.
// The provider is a local wire-level OpenAI server; the worker is the production one
// (switchyard.yaml read by the activities).
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { sessionHistory } from '../../client/sessions.js';
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
    let answers = 0;
    wire = await startWireServer('openai', (req) =>
      req.path.startsWith('/wrong/')
        ? { status: 404, message: 'no such route' }
        : { text: answers++ === 0 ? 'Answered through the corrected provider.' : `Answer ${answers}.` },
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

  it('a turn failed on a wrong provider URL; after fixing switchyard.yaml, resetting it answers and it rejoins the conversation', async () => {
    const chatId = `reload-${Date.now()}`;
    const sessionKey = `agent:main:webchat:direct:${chatId}`;
    const ws = new WebSocket(`ws://127.0.0.1:${config.gateway.port}/chat/ws?chatId=${chatId}`);
    const frames: Frame[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
    await new Promise((resolve) => ws.once('open', resolve));
    const send = (text: string, clientMessageId: string) =>
      ws.send(JSON.stringify({ type: 'message', text, clientMessageId }));
    const finals = (id: string) => frames.filter((f) => f.type === 'final' && f.replyTo === id);
    const first = `msg-${Date.now()}`;
    send('hello?', first);
    await expect.poll(() => finals(first).length, { timeout: 30_000 }).toBe(1);
    expect(finals(first)[0]!.text).toMatch(/^Sorry, I could not answer that: .*fake\/m1 failed: 404/);

    // The failed turn is a failed workflow in the Temporal UI (it ran inside the session and left this behind).
    const workflowId = `turn:${sessionKey}:${first}`;
    const handle = gateway.client.workflow.getHandle(workflowId);
    await expect.poll(async () => (await handle.describe()).status.name, { timeout: 15_000 }).toBe('FAILED');
    const failed = (await sessionHistory(gateway.client, sessionKey)).turns;
    expect(failed).toMatchObject([{ workflowId, status: 'failed' }]);
    expect(failed[0]!.error).toMatch(/AgentFailed: .*404/);

    // The owner fixes the URL (an editor's save: write aside, rename over).
    const file = join(config.home, 'switchyard.yaml');
    writeFileSync(`${file}.new`, configYaml(`${wire.url}/v1`));
    renameSync(`${file}.new`, file);
    // The conversation goes on before the owner gets to the failed turn.
    const second = `msg2-${Date.now()}`;
    await expect
      .poll(() => logged.some((l) => /reloaded \(providers changed\)/.test(l)), { timeout: 10_000 })
      .toBe(true);
    send('are you back?', second);
    await expect.poll(() => finals(second).length, { timeout: 30_000 }).toBe(1);
    expect(finals(second)[0]!.text).toBe('Answered through the corrected provider.');

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
    await expect.poll(() => finals(first).length, { timeout: 30_000 }).toBe(2);
    expect(finals(first)[1]!.text).toBe('Answer 2.');
    await expect
      .poll(async () => (await handle.describe()).status.name, { timeout: 15_000 })
      .toBe('COMPLETED');
    const paths = wire.requests.map((r) => r.path);
    expect(paths[0]).toBe('/wrong/v1/chat/completions');
    expect(paths.at(-1)).toBe('/v1/chat/completions');
    expect(logged).toContainEqual(expect.stringMatching(/switchyard\.yaml reloaded \(providers changed\)/));

    // The session heard of it: the turn is completed, its answer stands after its own message.
    await expect
      .poll(async () => (await sessionHistory(gateway.client, sessionKey)).turns.map((t) => t.status), {
        timeout: 15_000,
      })
      .toEqual(['completed', 'completed']);
    const history = await sessionHistory(gateway.client, sessionKey);
    expect(history.turns[0]).toMatchObject({ workflowId, rerun: true });
    expect(history.turns[0]!.error).toBeUndefined();
    expect(history.transcript.map((e) => `${e.role}: ${e.text}`)).toEqual([
      'user: hello?',
      'assistant: Answer 2.',
      'user: are you back?',
      'assistant: Answered through the corrected provider.',
    ]);

    // And the next turn's model reads it.
    const third = `msg3-${Date.now()}`;
    send('what did you say first?', third);
    await expect.poll(() => finals(third).length, { timeout: 30_000 }).toBe(1);
    const request = JSON.stringify(wire.requests.at(-1)!.body);
    expect(request).toContain('Answer 2.');
    expect(request).toContain('what did you say first?');
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
      .toMatch(/^Answer \d+\.$/);
    ws.close();
  });
});
