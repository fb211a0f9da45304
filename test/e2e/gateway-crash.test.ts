// The gateway dies in the middle of sending a reply. Real processes: `switchyard gateway` is
// spawned (it owns the Telegram connection and the outbox) and SIGKILLed the moment the Telegram
// server receives its sendMessage; the turn runs on a worker in this process on the real dev
// server; crabline speaks the real Bot API. Exactly one reply must reach the chat.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTelegramServer } from '@openclaw/crabline';
import type { Client } from '@temporalio/client';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from '../helpers/config.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { type ReplyWorker, startReplyWorker } from '../helpers/reply-worker.js';

const OWNER = 3003;

describe('a gateway SIGKILLed while its reply is on the wire', () => {
  const address = inject('temporalAddress');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-gwcrash-'));
  const sent: string[] = [];
  const gateways: Spawned[] = [];
  let killOnSend: (() => void) | undefined;
  let telegram: Awaited<ReturnType<typeof startTelegramServer>>;
  let replies: ReplyWorker;
  let env: NodeJS.ProcessEnv;
  let client: Client;

  beforeAll(async () => {
    telegram = await startTelegramServer({
      recorderPath: join(dir, 'recorder.jsonl'),
      botUsername: 'crash_bot',
      botId: 515151,
      onEvent: (event) => {
        if (event.type !== 'api' || !event.path.endsWith('/sendMessage')) return;
        sent.push(String((event.body as { text?: unknown }).text));
        killOnSend?.();
        killOnSend = undefined;
      },
    });
    const home = join(dir, 'home');
    const { manifest } = telegram;
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('gwcrash'),
      // The gateway binds a free port itself and says which (nothing here talks to it).
      SWITCHYARD_GATEWAY_PORT: '0',
      SWITCHYARD_GATEWAY_TOKEN: 'gateway-crash-token-0123456789',
    };
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'switchyard.yaml'),
      [
        'channels:',
        '  telegram:',
        `    botToken: "${manifest.botToken}"`,
        `    apiRoot: "${manifest.endpoints.apiRoot}"`,
        '    dmPolicy: allowlist',
        `    allowFrom: ["${OWNER}"]`,
        SEPARATE_SESSIONS,
      ].join('\n'),
    );
    replies = await startReplyWorker({ home, env, address });
    client = replies.client;
  });
  afterAll(async () => {
    for (const g of gateways) await g.kill('SIGKILL');
    await replies?.stop();
    await telegram?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the reply exactly once after the gateway restarts', async () => {
    const first = spawnSwitchyard(['gateway'], env);
    gateways.push(first);
    const listening = await first.waitFor(/gateway listening/);
    expect(listening).toMatch(/gateway listening on http:\/\/127\.0\.0\.1:[1-9]\d*/);
    let killedAt = 0;
    killOnSend = () => {
      killedAt = Date.now();
      first.child.kill('SIGKILL');
    };

    const res = await fetch(telegram.manifest.endpoints.adminInboundUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-crabline-admin-token': telegram.manifest.adminToken },
      body: JSON.stringify({ chatId: OWNER, fromId: OWNER, fromName: 'Alice', text: 'are you alive?' }),
    });
    expect(res.ok).toBe(true);
    await first.exited;
    expect(sent).toEqual(['Reply to: are you alive?']);

    // The restarted gateway takes the send activity over: its outbox says the platform call may
    // already have happened, so it does not post again, and the turn completes.
    const second = spawnSwitchyard(['gateway'], env);
    gateways.push(second);
    await second.waitFor(/gateway listening/);
    await expect
      .poll(
        async () =>
          (
            await sessionHistory(client, `agent:main:telegram:direct:${OWNER}`).catch(() => undefined)
          )?.transcript.map((e) => e.role),
        { timeout: 90_000, interval: 500 },
      )
      .toEqual(['user', 'assistant']);
    // Soon, as an assistant should: the dead gateway's send is given up on after its 10 s
    // heartbeat timeout (it was 30 s, so this took over half a minute), then retried at once.
    expect(Date.now() - killedAt).toBeLessThan(25_000);
    expect(sent).toEqual(['Reply to: are you alive?']);
    // The path taken: the first gateway's claim was found pending after it died, Telegram cannot
    // be asked whether the message arrived, so the chunk was marked uncertain and not sent again.
    const db = new Database(join(env.SWITCHYARD_HOME!, 'gateway.db'), { readonly: true });
    try {
      const rows = db
        .prepare("SELECT state, error, claimed_by FROM outbox WHERE channel = 'telegram'")
        .all() as Array<{ state: string; error: string | null; claimed_by: string }>;
      expect(rows).toEqual([
        {
          state: 'uncertain',
          error: expect.stringMatching(/^found pending after run \S+ ended without an outcome/),
          claimed_by: expect.any(String),
        },
      ]);
    } finally {
      db.close();
    }
  });
});
