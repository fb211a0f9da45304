// Temporal itself is SIGKILLed in the middle of a turn and started again on the same SQLite file:
// the gateway and worker reconnect on their own and the turn completes, its reply delivered once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadAgentModelsConfig } from '../../activities/agent/index.js';
import { sessionHistory } from '../../client/sessions.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { type DevServer, startDevServer } from '../../temporal/dev-server.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { openaiSessionKey, SEPARATE_SESSIONS, testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';

const TOKEN = 'temporal-restart-token-0123456789';
// Long enough, streamed a character at a time, that Temporal goes down while the model talks.
const ANSWER = `Temporal came back. ${'All is well. '.repeat(120)}`.trim();

describe('the Temporal dev server SIGKILLed mid-turn', () => {
  const cliPath = inject('temporalCli');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-trestart-'));
  let server: DevServer;
  let port: number;
  let wire: WireServer;
  let gateway: Gateway;
  let worker: RunningWorker;
  let base: string;

  const serverOptions = () => ({
    cliPath,
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    port,
    headless: true,
  });

  beforeAll(async () => {
    port = await freePort();
    server = await startDevServer(serverOptions());
    wire = await startWireServer('openai', () => ({ text: ANSWER, chunk: 1 }));
    const config = testConfig(
      server.address,
      { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('trestart') },
      SEPARATE_SESSIONS,
    );
    const models = loadAgentModelsConfig(
      {
        providers: {
          wire: {
            type: 'openai-compatible',
            baseUrl: `${wire.url}/v1`,
            apiKey: 'none',
            models: [{ id: 'w1', contextWindow: 16000 }],
          },
        },
        agents: [{ id: 'main', model: 'wire/w1' }],
      },
      { home: dir },
    );
    gateway = await buildGateway({ config, token: TOKEN, logger: false, watchPipelines: false });
    base = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    worker = await startWorker({ config, deps: { agent: { config: models } } });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    await worker?.shutdown();
    await gateway?.close();
    await wire?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes the turn after Temporal comes back, and the answer arrives once', async () => {
    const response = fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'main',
        user: 'survivor',
        messages: [{ role: 'user', content: 'are you there?' }],
      }),
    });
    await expect.poll(() => wire.requests.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
    // Killed, not stopped: no chance to flush or say goodbye, as in a crash or an OOM kill.
    process.kill(server.pid, 'SIGKILL');
    expect(await server.exited).toMatchObject({ signal: 'SIGKILL' });
    server = await startDevServer(serverOptions());

    const res = await response;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe(ANSWER);
    // The answer came back once, as the result of the session's `session.turn` update (the
    // OpenAI API's turns run inline; nothing goes through the channel's send) ...
    const sent = gateway.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE channel = 'openai' AND chat_id = 'survivor'")
      .get() as { n: number };
    expect(sent.n).toBe(0);
    // ... and the session recorded the turn once, completed (it was in its model call, streaming,
    // when Temporal died).
    const key = openaiSessionKey('survivor');
    await expect
      .poll(
        async () => (await sessionHistory(gateway.client, key)).transcript.map((e) => `${e.role}: ${e.text}`),
        { timeout: 10_000 },
      )
      .toEqual(['user: are you there?', `assistant: ${ANSWER}`]);
    const { turns } = await sessionHistory(gateway.client, key);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ status: 'completed', inline: true });
  });
});
