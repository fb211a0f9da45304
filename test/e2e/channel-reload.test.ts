// Channel changes apply without a restart: the owner edits `channels.telegram` in switchyard.yaml
// while the gateway runs, and the Telegram connector (grammy, against crabline's Bot API) is
// restarted with the new settings; switching the account off stops it, switching it on starts it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTelegramStack, type TelegramStack } from '../helpers/telegram-stack.js';
import { eventually } from '../telegram/helpers.js';

const OWNER = 3001;
const FRIEND = 3002;

describe('Telegram settings edited while the gateway runs', () => {
  const address = inject('temporalAddress');
  let stack: TelegramStack;
  let file: string;

  beforeAll(async () => {
    stack = await startTelegramStack(address, {
      name: 'tg-reload',
      telegram: ['dmPolicy: allowlist', `allowFrom: ["${OWNER}"]`],
    });
    stack.agent.answerWith((prompt) => `Heard: ${prompt}`);
    file = join(stack.config.home, 'switchyard.yaml');
  });
  afterAll(async () => stack?.close());

  const edit = (from: string, to: string) => {
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(from);
    writeFileSync(`${file}.new`, text.replace(from, to));
    renameSync(`${file}.new`, file);
  };
  const telegramStatus = () => stack.gateway.status.list().find((s) => s.channel === 'telegram');
  const repliesTo = (chatId: number) =>
    stack.telegram.calls('sendMessage').filter((c) => String(c.body.chat_id) === String(chatId));

  it('a new allowFrom entry is in effect after the connector restarts by itself', async () => {
    await eventually(() => telegramStatus()?.state === 'connected' || undefined, 15_000);
    const before = telegramStatus()!.since;
    edit(`allowFrom: ["${OWNER}"]`, `allowFrom: ["${OWNER}", "${FRIEND}"]`);
    await eventually(
      () => (telegramStatus()?.state === 'connected' && telegramStatus()!.since > before) || undefined,
      15_000,
    );
    await stack.telegram.inject({ chatId: FRIEND, fromId: FRIEND, fromName: 'Bob', text: 'am I in?' });
    const reply = await eventually(() => repliesTo(FRIEND)[0], 30_000);
    expect(reply.body.text).toBe('Heard: am I in?');
  });

  it('enabled: false stops the account (shown as disabled); enabled again, it answers what came meanwhile', async () => {
    edit('    dmPolicy: allowlist', '    enabled: false\n    dmPolicy: allowlist');
    await eventually(() => telegramStatus()?.state === 'disabled' || undefined, 15_000);
    // Telegram keeps what nobody fetched: the message waits for the account to be back.
    await stack.telegram.inject({
      chatId: OWNER,
      fromId: OWNER,
      fromName: 'Alice',
      text: 'while you were off',
    });
    edit('    enabled: false\n', '');
    await eventually(() => telegramStatus()?.state === 'connected' || undefined, 15_000);
    const reply = await eventually(
      () => repliesTo(OWNER).find((c) => c.body.text === 'Heard: while you were off'),
      30_000,
    );
    expect(reply).toBeDefined();
  });

  it('a bad edit keeps the running connector as it was', async () => {
    const since = telegramStatus()!.since;
    edit('    dmPolicy: allowlist', '    dmPolicy: everyone');
    await stack.telegram.inject({ chatId: OWNER, fromId: OWNER, fromName: 'Alice', text: 'still here?' });
    const reply = await eventually(
      () => repliesTo(OWNER).find((c) => c.body.text === 'Heard: still here?'),
      30_000,
    );
    expect(reply).toBeDefined();
    expect(telegramStatus()).toMatchObject({ state: 'connected', since });
  });
});
