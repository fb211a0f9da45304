// Telegram end to end: a local server speaking the real Bot API (crabline) drives the real
// grammy-based connector in the real gateway; the turn runs on a real worker and Temporal; the
// reply comes back through the exactly-once send activity on the gateway's telegram queue.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import { loadConfig } from '../../config/load.js';
import { PairingStore } from '../../gateway/pairing.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { sessionHistory } from '../../gateway/sessions.js';
import { DELTA_RELAY_PATH } from '../../gateway/stream/relay.js';
import { forwardDeltas, type RunningWorker, startWorker } from '../../worker/worker.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from '../helpers/config.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { freePort } from '../helpers/ports.js';
import { eventually, type FakeTelegram, startFakeTelegram } from '../telegram/helpers.js';

const TOKEN = 'telegram-e2e-token-0123456789';
const OWNER = 1001;
const STRANGER = 6666;
const HOOK_OWNER = 2002;

describe('Telegram through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let telegram: FakeTelegram;
  let gateway: Gateway;
  let worker: RunningWorker;
  let agent: FauxAgent;
  let sink: DeltaSink;

  beforeAll(async () => {
    telegram = await startFakeTelegram();
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-telegram-'));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      [
        'channels:',
        '  telegram:',
        `    botToken: "${telegram.botToken}"`,
        `    apiRoot: "${telegram.apiRoot}"`,
        '    dmPolicy: pairing',
        `    allowFrom: ["${OWNER}"]`,
        SEPARATE_SESSIONS,
        '',
      ].join('\n'),
    );
    const config = loadConfig({
      home,
      env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('tg') },
    });
    agent = fauxAgent();
    agent.answerWith((prompt) => `Echo from the assistant: ${prompt}`);
    gateway = await buildGateway({
      config,
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    // The worker's live output reaches the gateway, as in production: Telegram shows "typing…".
    sink = createDeltaSink({ url: `${base.replace(/^http/, 'ws')}${DELTA_RELAY_PATH}`, token: TOKEN });
    worker = await startWorker({
      config,
      deps: { agent: { config: agent.config, onDelta: forwardDeltas(sink) } },
    });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    await worker?.shutdown();
    await sink?.close();
    await gateway?.close();
    await telegram?.close();
    agent?.close();
  });

  const repliesTo = (chatId: number) =>
    telegram.calls('sendMessage').filter((c) => String(c.body.chat_id) === String(chatId));

  it('answers a text message in the same chat, as a reply to it', async () => {
    const update = await telegram.inject({
      chatId: OWNER,
      fromId: OWNER,
      fromName: 'Alice',
      text: 'good morning',
    });
    const reply = await eventually(() => repliesTo(OWNER)[0], 30_000);
    expect(reply.body).toMatchObject({
      text: 'Echo from the assistant: good morning',
      reply_parameters: { message_id: update.message.message_id },
    });
    // While the answer formed, the chat showed "typing…" (Telegram cannot show partial text).
    const typing = telegram.calls('sendChatAction').filter((c) => String(c.body.chat_id) === String(OWNER));
    expect(typing.length).toBeGreaterThanOrEqual(1);
    expect(typing[0]!.body.action).toBe('typing');
  });

  it('gives a stranger a pairing code and starts no turn; after approval the next message is answered', async () => {
    await telegram.inject({
      chatId: STRANGER,
      fromId: STRANGER,
      fromName: 'Mallory',
      text: 'hi, who are you?',
    });
    const challenge = await eventually(() => repliesTo(STRANGER)[0], 15_000);
    const code = /pairing approve telegram ([A-Z0-9]{8})/.exec(String(challenge.body.text))?.[1];
    expect(code).toBeDefined();

    new PairingStore(gateway.db).approve('telegram', code!);
    await telegram.inject({ chatId: STRANGER, fromId: STRANGER, fromName: 'Mallory', text: 'now?' });
    const answer = await eventually(() => repliesTo(STRANGER)[1], 30_000);
    expect(answer.body.text).toBe('Echo from the assistant: now?');
    // The first message never became a turn: the model only ever saw the second one.
    expect(repliesTo(STRANGER).map((c) => c.body.text)).not.toContain(
      'Echo from the assistant: hi, who are you?',
    );
  });
});

describe('Telegram webhooks through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  const SECRET = 'hook-secret-123';
  let telegram: FakeTelegram;
  let gateway: Gateway;
  let worker: RunningWorker;
  let agent: FauxAgent;
  let hookUrl: string;

  beforeAll(async () => {
    telegram = await startFakeTelegram();
    const port = await freePort();
    hookUrl = `http://127.0.0.1:${port}/channels/telegram/webhook`;
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-telegram-hook-'));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      [
        'channels:',
        '  telegram:',
        `    botToken: "${telegram.botToken}"`,
        `    apiRoot: "${telegram.apiRoot}"`,
        '    mode: webhook',
        `    webhookSecret: ${SECRET}`,
        `    webhookUrl: "${hookUrl}"`,
        '    dmPolicy: allowlist',
        `    allowFrom: ["${HOOK_OWNER}"]`,
        SEPARATE_SESSIONS,
        '',
      ].join('\n'),
    );
    const config = loadConfig({
      home,
      env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('tgh') },
    });
    agent = fauxAgent();
    agent.answerWith((prompt) => `Heard: ${prompt}`);
    gateway = await buildGateway({
      config,
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    await gateway.app.listen({ host: '127.0.0.1', port });
    worker = await startWorker({ config, deps: { agent: { config: agent.config } } });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    await worker?.shutdown();
    await gateway?.close();
    await telegram?.close();
    agent?.close();
  });

  const replies = () =>
    telegram.calls('sendMessage').filter((c) => String(c.body.chat_id) === String(HOOK_OWNER));

  it('turns a re-delivered update into neither a second turn nor a second reply', async () => {
    const update = await telegram.inject({
      chatId: HOOK_OWNER,
      fromId: HOOK_OWNER,
      text: 'only once please',
    });
    await eventually(() => replies()[0], 30_000);
    // Telegram delivers the very same update again (as it does when it missed our 200).
    const again = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
    });
    expect(again.status).toBe(200);
    // A later message proves the duplicate was handled (and dropped) before it.
    await telegram.inject({ chatId: HOOK_OWNER, fromId: HOOK_OWNER, text: 'and this one' });
    await eventually(() => (replies().length >= 2 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(replies().map((c) => c.body.text)).toEqual(['Heard: only once please', 'Heard: and this one']);
    const history = await sessionHistory(gateway.client, `agent:main:telegram:direct:${HOOK_OWNER}`);
    expect(history.transcript.filter((e) => e.role === 'user').map((e) => e.text)).toEqual([
      'only once please',
      'and this one',
    ]);
  });

  it('refuses a webhook call without the secret and starts nothing', async () => {
    const before = replies().length;
    const forged = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      body: JSON.stringify({
        update_id: 999999,
        message: {
          message_id: 1,
          chat: { id: HOOK_OWNER, type: 'private' },
          from: { id: HOOK_OWNER },
          date: 1,
          text: 'forged',
        },
      }),
    });
    expect(forged.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(replies()).toHaveLength(before);
  });
});
