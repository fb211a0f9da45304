// Two people, one shared session (dmScope: main): messages that arrive while a turn runs queue up
// (collect mode), but a message is never merged into a turn that answers someone else's. Each
// message is answered once, in the chat it came from, and no model prompt mixes two chats.
// Real gateway and grammy connector against crabline, a real worker, the faux model.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sessionHistory } from '../../client/sessions.js';
import { startTelegramStack, type TelegramStack } from '../helpers/telegram-stack.js';
import { until } from '../helpers/until.js';

const ALICE = 3101;
const BOB = 3202;
const ROUNDS = 8;

describe('two senders in one shared session', () => {
  const address = inject('temporalAddress');
  const mainKey = `shared-${randomUUID().slice(0, 8)}`;
  let stack: TelegramStack;

  beforeAll(async () => {
    stack = await startTelegramStack(address, {
      name: 'shared',
      telegram: ['dmPolicy: allowlist', `allowFrom: ["${ALICE}", "${BOB}"]`],
      // Every direct chat shares the main session, as OpenClaw's default does.
      sessions: `session:\n  dmScope: main\n  mainKey: ${mainKey}\n`,
    });
    stack.agent.answerWith((prompt) => `Reply to: ${prompt}`);
  });
  afterAll(async () => stack?.close());

  it('answers each message once in its own chat, never batched with the other chat, when both write at once, repeatedly', {
    timeout: 180_000,
  }, async () => {
    const { telegram, agent } = stack;
    const sent: Array<{ chat: number; text: string; id: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Both at the same moment; the rounds come faster than turns, so messages queue up.
      const texts = [`alice says ${round}`, `bob says ${round}`];
      const updates = await Promise.all(
        [ALICE, BOB].map((chat, i) => telegram.inject({ chatId: chat, fromId: chat, text: texts[i] })),
      );
      for (const [i, u] of updates.entries()) {
        sent.push({ chat: i === 0 ? ALICE : BOB, text: texts[i]!, id: u.message.message_id });
      }
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const replies = () =>
      telegram.calls('sendMessage').map((c) => ({ chat: Number(c.body.chat_id), text: String(c.body.text) }));
    // Every message's text shows up in a reply (a batch of one sender's messages answers them together).
    await until(
      () => (sent.every((m) => replies().some((r) => r.text.includes(m.text))) ? true : undefined),
      90_000,
    ).catch(async (e) => {
      console.log('DEBUG replies', JSON.stringify(replies()));
      console.log(
        'DEBUG history',
        JSON.stringify(await sessionHistory(stack.gateway.client, `agent:main:${mainKey}`)),
      );
      throw e;
    });
    const history = await until(async () => {
      const h = await sessionHistory(stack.gateway.client, `agent:main:${mainKey}`);
      return h.running === null && h.pending.length === 0 ? h : undefined;
    }, 30_000);

    for (const m of sent) {
      const answering = replies().filter((r) => r.text.includes(m.text));
      expect(answering, m.text).toHaveLength(1);
      expect(answering[0]!.chat, m.text).toBe(m.chat);
    }
    // No reply in one chat answers the other chat's message.
    for (const r of replies()) {
      const other = r.chat === ALICE ? 'bob says' : 'alice says';
      expect(r.text).not.toContain(other);
    }
    // No model prompt mixes the two chats: each turn's own messages come from one sender.
    const prompts = agent.requests.map((json) => {
      const messages = JSON.parse(json) as Array<{ role: string; content: unknown }>;
      return JSON.stringify(messages.filter((msg) => msg.role === 'user').at(-1));
    });
    expect(prompts.length).toBe(history.turnCount);
    for (const prompt of prompts) {
      expect(prompt.includes('alice says') && prompt.includes('bob says'), prompt).toBe(false);
    }
    // Turns answer one origin each.
    for (const turn of history.turns) {
      const chats = new Set(turn.messageIds.map((id) => sent.find((m) => String(m.id) === id)?.chat));
      expect(chats.size, JSON.stringify(turn)).toBe(1);
    }
  });
});
