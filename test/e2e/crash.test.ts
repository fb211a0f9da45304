// The promise OpenClaw breaks: a crash mid-turn neither loses the message nor doubles the reply.
// Real processes: `switchyard worker` is spawned and SIGKILLed; the gateway (in this process)
// holds the OpenAI-compatible API and its exactly-once send worker; the model is a local
// server speaking OpenAI's streaming protocol.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { wireModelYaml } from '../../bench/fake-model.js';
import { sessionHistory } from '../../client/sessions.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { startWireServer, type WireServer } from '../agent/wire-servers.js';
import { openaiSessionKey, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';

const TOKEN = 'crash-test-token-0123456789';
const ANSWER = 'The answer survived the crash.';

describe('a worker SIGKILLed in the middle of a turn', () => {
  const address = inject('temporalAddress');
  const workers: Spawned[] = [];
  let wire: WireServer;
  let gateway: Gateway;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let onFirstModelCall = () => {};

  beforeAll(async () => {
    // The first model request kills the worker that made it: the crash lands inside the turn,
    // after the message was accepted and before any reply could be sent.
    wire = await startWireServer('openai', (_request, index) => {
      if (index === 0) onFirstModelCall();
      return { text: ANSWER, chunk: 2 };
    });
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-crash-'));
    writeFileSync(join(home, 'switchyard.yaml'), wireModelYaml(wire.url));
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('crash-turn'),
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
      SWITCHYARD_GATEWAY_PORT: String(port),
    };
    const config = loadConfig({ home, env });
    gateway = await buildGateway({ config, token: TOKEN, logger: false, watchPipelines: false });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await gateway?.close();
    await wire?.close();
  });

  it('loses nothing: a restarted worker finishes the turn and the reply is sent exactly once', async () => {
    // SIGKILL lands while the agent step's model call is in flight.
    const first = spawnSwitchyard(['worker'], env);
    workers.push(first);
    await first.waitFor(/worker ready/);

    const response = fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'main',
        user: 'crash-victim',
        messages: [{ role: 'user', content: 'still there?' }],
      }),
    });
    let killedAt = 0;
    const killed = new Promise<void>((resolve) => {
      onFirstModelCall = () => {
        first.child.kill('SIGKILL');
        killedAt = Date.now();
        resolve();
      };
    });
    await killed;
    await first.exited;

    const second = spawnSwitchyard(['worker'], env);
    workers.push(second);
    await second.waitFor(/worker ready/);

    const res = await response;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe(ANSWER);

    // The model call was retried by the new worker (the killed one never reported it)...
    expect(wire.requests.length).toBe(2);
    expect(killedAt).toBeGreaterThan(0);
    // ...and the answer came back once, as the result of the session's `session.turn` update
    // (accepted before the kill, so durable): nothing went through the channel's send.
    const sent = gateway.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE channel = 'openai' AND chat_id = 'crash-victim'")
      .get() as { n: number };
    expect(sent.n).toBe(0);
    const key = openaiSessionKey('crash-victim');
    // The session records the answer once the turn completes (just after the reply went out).
    await expect
      .poll(
        async () => (await sessionHistory(gateway.client, key)).transcript.map((e) => `${e.role}: ${e.text}`),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['user: still there?', `assistant: ${ANSWER}`]);
  });
  it('answers soon after a kill: a session cached on the dead worker is not held for its sticky queue', async () => {
    for (const w of workers) await w.kill('SIGKILL');
    const ask = async (content: string) => {
      const res = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'main', user: 'sticky-victim', messages: [{ role: 'user', content }] }),
      });
      expect(res.status).toBe(200);
    };
    // The session's workflow is cached on worker A (its sticky queue)...
    const a = spawnSwitchyard(['worker'], env);
    workers.push(a);
    await a.waitFor(/worker ready/);
    await ask('first');
    await a.kill('SIGKILL');
    await a.exited;
    // ...A dies; B starts. The next message's workflow task goes to A's sticky queue first and
    // reaches B only when that queue's schedule-to-start timeout passes (Temporal's default 10 s;
    // the worker sets 3 s).
    const b = spawnSwitchyard(['worker'], env);
    workers.push(b);
    await b.waitFor(/worker ready/);
    const asked = Date.now();
    await ask('second');
    expect(Date.now() - asked).toBeLessThan(8_000);
  });
});
