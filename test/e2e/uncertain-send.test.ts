// onUncertain end to end: the gateway is SIGKILLed the moment Telegram receives its sendMessage
// (after the outbox claim, before the platform's answer is stored), as in gateway-crash.test.ts;
// the restarted gateway finds the chunk's outcome unknown and applies the account's policy.
// `notice`: the chat gets the reply again after the notice line; `skip`: nothing more is sent.
// Either way the turn records it (its record's `uncertainSends`, `switchyard sessions show`) and
// `switchyard outbox list --uncertain` lists it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTelegramServer } from '@openclaw/crabline';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UNCERTAIN_NOTICE } from '../../activities/channel-send.js';
import { sessionHistory } from '../../client/sessions.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from '../helpers/config.js';
import { BIN, type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { type ReplyWorker, startReplyWorker } from '../helpers/reply-worker.js';

const run = promisify(execFile);
const REPLY = 'Reply to: are you alive?';

// One stack for both policies (one in-process worker and one Telegram server: the worker does not
// care about onUncertain, which the gateway's send activity applies); each policy has its own chat
// and its own gateway runs, started with switchyard.yaml saying that policy.
const CHATS = { notice: 3113, skip: 3114 } as const;

describe('onUncertain end to end, the gateway SIGKILLed mid-send', () => {
  const address = inject('temporalAddress');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-uncertain-'));
  const home = join(dir, 'home');
  const sent: Array<{ chat: number; text: string }> = [];
  const gateways: Spawned[] = [];
  let killOnSend: (() => void) | undefined;
  let telegram: Awaited<ReturnType<typeof startTelegramServer>>;
  let replies: ReplyWorker;
  let env: NodeJS.ProcessEnv;
  let client: Client;

  const writeConfig = (policy: 'notice' | 'skip') =>
    writeFileSync(
      join(home, 'switchyard.yaml'),
      [
        'channels:',
        '  telegram:',
        `    botToken: "${telegram.manifest.botToken}"`,
        `    apiRoot: "${telegram.manifest.endpoints.apiRoot}"`,
        '    dmPolicy: allowlist',
        `    allowFrom: ["${CHATS.notice}", "${CHATS.skip}"]`,
        `    onUncertain: ${policy}`,
        SEPARATE_SESSIONS,
      ].join('\n'),
    );

  beforeAll(async () => {
    telegram = await startTelegramServer({
      recorderPath: join(dir, 'recorder.jsonl'),
      botUsername: 'uncertain_bot',
      botId: 525252,
      onEvent: (event) => {
        if (event.type !== 'api' || !event.path.endsWith('/sendMessage')) return;
        const body = event.body as { chat_id?: unknown; text?: unknown };
        sent.push({ chat: Number(body.chat_id), text: String(body.text) });
        killOnSend?.();
        killOnSend = undefined;
      },
    });
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('uncertain'),
      SWITCHYARD_GATEWAY_PORT: '0',
      SWITCHYARD_GATEWAY_TOKEN: 'uncertain-test-token-0123456789',
    };
    mkdirSync(home, { recursive: true });
    writeConfig('skip');
    replies = await startReplyWorker({ home, env, address });
    client = replies.client;
  });
  afterAll(async () => {
    for (const g of gateways) await g.kill('SIGKILL');
    await replies?.stop();
    await telegram?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['notice', 'skip'] as const)(
    '%s: applied after the restart, recorded on the turn and in the outbox',
    async (policy) => {
      const chat = CHATS[policy];
      const inChat = () => sent.filter((s) => s.chat === chat).map((s) => s.text);
      writeConfig(policy);
      const first = spawnSwitchyard(['gateway'], env);
      gateways.push(first);
      await first.waitFor(/gateway listening/);
      killOnSend = () => first.child.kill('SIGKILL');
      const res = await fetch(telegram.manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-crabline-admin-token': telegram.manifest.adminToken,
        },
        body: JSON.stringify({ chatId: chat, fromId: chat, fromName: 'Alice', text: 'are you alive?' }),
      });
      expect(res.ok).toBe(true);
      await first.exited;
      expect(inChat()).toEqual([REPLY]);

      const second = spawnSwitchyard(['gateway'], env);
      gateways.push(second);
      await second.waitFor(/gateway listening/);
      const key = `agent:main:telegram:direct:${chat}`;
      await expect
        .poll(
          async () =>
            (await sessionHistory(client, key).catch(() => undefined))?.transcript.map((e) => e.role),
          { timeout: 120_000, interval: 500 },
        )
        .toEqual(['user', 'assistant']);
      // What the chat got. (The turn is complete only after its reply step, resend included.)
      expect(inChat()).toEqual(policy === 'notice' ? [REPLY, `${UNCERTAIN_NOTICE}\n\n${REPLY}`] : [REPLY]);

      // On the turn: its record in the session (the default pipeline's turn runs inside the
      // session workflow), and `switchyard sessions show`.
      const [turn] = (await sessionHistory(client, key)).turns;
      expect(turn?.uncertainSends).toEqual([
        expect.objectContaining({
          channel: 'telegram',
          chat: String(chat),
          chunks: 1,
          policy,
          uncertain: policy === 'skip' ? [0] : [],
          resent: policy === 'skip' ? [] : [0],
        }),
      ]);
      const cliEnv = { ...process.env, ...env };
      const shown = await run(process.execPath, [BIN, 'sessions', 'show', key], { env: cliEnv });
      expect(shown.stdout).toContain(`! uncertain send (onUncertain: ${policy}): reply to telegram ${chat}`);
      // In the outbox listing.
      const listed = JSON.parse(
        (await run(process.execPath, [BIN, 'outbox', 'list', '--uncertain', '--json'], { env: cliEnv }))
          .stdout,
      ) as Array<{ state: string; recovered?: string; chatId: string }>;
      expect(listed.filter((row) => row.chatId === String(chat))).toEqual([
        expect.objectContaining(
          policy === 'skip'
            ? { state: 'uncertain', chatId: String(chat) }
            : {
                state: 'sent',
                chatId: String(chat),
                recovered: expect.stringMatching(/^notice: found pending/),
              },
        ),
      ]);
      await second.kill('SIGKILL');
    },
    180_000,
  );
});
