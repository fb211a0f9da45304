// A local server speaking the real Telegram Bot API (crabline, in-process), its recorder, and the
// small waiting helpers the connector tests share.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTelegramServer, type TelegramServerManifest } from '@openclaw/crabline';
import type { ConnectorLog } from '../../channels/log.js';
import { type Database, openDb } from '../../gateway/store/db.js';
import { until } from '../helpers/until.js';
import { type FakeMedia, type SentFile, startFileFront } from './file-server.js';

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
}

export interface FakeTelegram {
  manifest: TelegramServerManifest;
  apiRoot: string;
  botToken: string;
  /** A user's message, as Telegram would deliver it (crabline's admin inbound body). */
  inject(body: Record<string, unknown>): Promise<{ update_id: number; message: { message_id: number } }>;
  /**
   * A user's message with files (photo, voice, document…), as Telegram delivers it; only with
   * `startFakeTelegram({ files: true })`. `caption` is the message's text.
   */
  injectMedia(
    body: Record<string, unknown>,
    media: FakeMedia,
    caption?: string,
  ): Promise<{ update_id: number; message: { message_id: number } }>;
  /** getFile calls and downloads the bot made (with `files: true`). */
  fileCalls: string[];
  /** Files the bot posted with sendPhoto/sendDocument (with `files: true`). */
  sentFiles: SentFile[];
  /** The next upload is refused with 429 (with `files: true`). */
  refuseNextUpload(): void;
  /** Bot API calls the bot made, in order (from the JSONL recorder). */
  calls(method?: string): RecordedCall[];
  close(): Promise<void>;
}

export const BOT_USERNAME = 'crabline_bot';
export const BOT_ID = 424242;

let nextMediaMessageId = 700_000;

export async function startFakeTelegram(options: { files?: boolean } = {}): Promise<FakeTelegram> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-telegram-'));
  const server = await startTelegramServer({
    recorderPath: join(dir, 'recorder.jsonl'),
    botUsername: BOT_USERNAME,
    botId: BOT_ID,
  });
  const { manifest } = server;
  // crabline has no files: a front adds getFile, downloads and media messages (file-server.ts).
  const front = options.files
    ? await startFileFront(manifest.endpoints.apiRoot, manifest.botToken)
    : undefined;
  const fake: FakeTelegram = {
    manifest,
    apiRoot: front?.apiRoot ?? manifest.endpoints.apiRoot,
    botToken: manifest.botToken,
    fileCalls: front?.fileCalls ?? [],
    sentFiles: front?.sentFiles ?? [],
    refuseNextUpload: () => front?.refuseNextUpload(),
    async injectMedia(body, media, caption) {
      if (!front) throw new Error('startFakeTelegram({ files: true }) to send files');
      const messageId = nextMediaMessageId++;
      front.register(Number(body.chatId), messageId, media, caption);
      return fake.inject({ ...body, messageId, text: caption ?? '(media)' });
    },
    async inject(body) {
      const res = await fetch(manifest.endpoints.adminInboundUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-crabline-admin-token': manifest.adminToken },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as {
        ok: boolean;
        update?: { update_id: number; message: { message_id: number } };
      };
      if (!answer.ok || !answer.update) throw new Error(`inject refused: ${JSON.stringify(answer)}`);
      return answer.update;
    },
    calls(method) {
      let text = '';
      try {
        text = readFileSync(manifest.recorderPath, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { type: string; path: string; body?: Record<string, unknown> })
        .filter((event) => event.type === 'api')
        .map((event) => ({ method: event.path.split('/').at(-1) ?? '', body: event.body ?? {} }))
        .filter((call) => method === undefined || call.method === method);
    },
    async close() {
      await front?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fake;
}

/** A fresh gateway database in its own directory. */
export function tempDb(): { db: Database; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-gwdb-'));
  const db = openDb(join(dir, 'gateway.db'));
  return {
    db,
    cleanup() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LogEntry {
  level: string;
  msg: string;
  obj: object;
}

export function recordingLog(): { log: ConnectorLog; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (obj: object, msg: string) => entries.push({ level, msg, obj });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/** Values pushed by callbacks, awaited one by one. */
export class Inbox<T> {
  readonly items: T[] = [];
  private waiters: Array<() => void> = [];

  push = (item: T): void => {
    this.items.push(item);
    for (const wake of this.waiters.splice(0)) wake();
  };

  /** Resolves once at least `count` items arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} item(s); got ${this.items.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items.slice(0, count);
  }
}

/** Polls `probe` every 25 ms until it gives a value (10 s at most). */
export function eventually<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  return until(probe, timeoutMs, 25);
}
