import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import { type Database, openDb } from '../../gateway/store/db.js';

type MessageOverrides = Omit<Partial<InboundMessage>, 'chat' | 'sender'> & {
  chat?: Partial<InboundMessage['chat']>;
  sender?: Partial<InboundMessage['sender']>;
};

/** A valid Telegram DM from Alice; override what the test is about. */
export function message(overrides: MessageOverrides = {}): InboundMessage {
  const { chat, sender, ...rest } = overrides;
  return {
    channel: 'telegram',
    accountId: 'default',
    chat: { id: '1001', kind: 'direct', ...chat },
    sender: { id: '1001', name: 'Alice', ...sender },
    messageId: '42',
    text: 'hello',
    attachments: [],
    mentions: [],
    wasMentioned: false,
    timestamp: 1_767_225_600_000,
    platformId: 'update:9001',
    ...rest,
  };
}

export function groupMessage(overrides: MessageOverrides = {}): InboundMessage {
  return message({
    ...overrides,
    chat: { id: '-100777', kind: 'group', title: 'Family', ...overrides.chat },
  });
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A fresh directory removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-channels-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real gateway database file in a temp dir, closed after the test. */
export function tempDb(): { db: Database; path: string } {
  const path = join(tempDir(), 'data', 'gateway.sqlite');
  const db = openDb(path);
  cleanups.unshift(() => db.open && db.close());
  return { db, path };
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse('2026-01-01T12:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
