// Telegram end to end: a local server speaking the real Bot API (crabline) drives the real
// grammy-based connector in the real gateway; the turn runs on a real worker and Temporal; the
// reply comes back through the exactly-once send activity on the gateway's telegram queue.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import type { Gateway } from '../../gateway/server.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import type { FauxAgent } from '../helpers/faux-agent.js';
import { freePort } from '../helpers/ports.js';
import { startTelegramStack, type TelegramStack } from '../helpers/telegram-stack.js';
import { eventually, type FakeTelegram } from '../telegram/helpers.js';

const OWNER = 1001;
const STRANGER = 6666;
const HOOK_OWNER = 2002;

describe('Telegram through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let stack: TelegramStack;
  let telegram: FakeTelegram;
  let gateway: Gateway;
  let agent: FauxAgent;

  beforeAll(async () => {
    // The worker's live output reaches the gateway, as in production: Telegram shows "typing…".
    stack = await startTelegramStack(address, {
      name: 'tg',
      telegram: ['dmPolicy: pairing', `allowFrom: ["${OWNER}"]`],
      liveOutput: true,
    });
    ({ telegram, gateway, agent } = stack);
    agent.answerWith((prompt) => `Echo from the assistant: ${prompt}`);
  });
  afterAll(async () => stack?.close());

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
  let stack: TelegramStack;
  let telegram: FakeTelegram;
  let gateway: Gateway;
  let agent: FauxAgent;
  let hookUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    hookUrl = `http://127.0.0.1:${port}/channels/telegram/webhook`;
    stack = await startTelegramStack(address, {
      name: 'tgh',
      telegram: [
        'mode: webhook',
        `webhookSecret: ${SECRET}`,
        `webhookUrl: "${hookUrl}"`,
        'dmPolicy: allowlist',
        `allowFrom: ["${HOOK_OWNER}"]`,
      ],
      port,
    });
    ({ telegram, gateway, agent } = stack);
    agent.answerWith((prompt) => `Heard: ${prompt}`);
  });
  afterAll(async () => stack?.close());

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
    // Replies come in turn order: once the later message's reply is here, a reply to the
    // duplicate would be here before it.
    await eventually(() => replies().find((c) => c.body.text === 'Heard: and this one'), 30_000);
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
    // A real message after it: once its reply is here, a turn the forged call had started would
    // have answered first (one session, turns in order).
    await telegram.inject({ chatId: HOOK_OWNER, fromId: HOOK_OWNER, text: 'sentinel after the forgery' });
    await eventually(
      () => replies().find((c) => c.body.text === 'Heard: sentinel after the forgery'),
      30_000,
    );
    expect(
      replies()
        .slice(before)
        .map((c) => c.body.text),
    ).toEqual(['Heard: sentinel after the forgery']);
  });
});
