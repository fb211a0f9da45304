// A clearly-labelled stand-in for "session workflow → pipeline → sendToChannel", for connector
// tests without Temporal: `ingest` drops re-deliveries by platform id (as the session does), then,
// a little later, streams deltas through a REAL delta sink (worker → relay → hub) and delivers the
// final text through the REAL channel-send activity (outbox in SQLite) to the connector's sender.
// The lead's end-to-end test covers the real workflow path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChannelSender, createChannelSendActivities } from '../../activities/channel-send.js';
import type { DeltaSink } from '../../activities/stream/sink.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { deltaRunKey } from '../../channels/run-key.js';
import { openDb } from '../../gateway/store/db.js';
import { Outbox } from '../../gateway/store/outbox.js';

export interface ScriptedAnswer {
  /** Tools the turn "calls" first, one after another (start, a step, end). */
  tools?: string[];
  deltas: string[];
  final: string;
}

export interface StandInTurnsOptions {
  sink: DeltaSink;
  senders: readonly ChannelSender[];
  /** The answer to a message; null: never answer (a stuck turn). May wait (a slow turn). */
  answer(msg: InboundMessage): ScriptedAnswer | null | Promise<ScriptedAnswer | null>;
  /** Before the first delta. Default 100 ms. */
  startDelayMs?: number;
  /** Between deltas. Default 60 ms. */
  stepMs?: number;
}

export interface StandInTurns {
  ingest(msg: InboundMessage): Promise<void>;
  /** Messages that started a turn (re-deliveries excluded). */
  readonly turns: InboundMessage[];
  /** Re-deliveries dropped by platform id. */
  readonly duplicates: InboundMessage[];
  /** Turns that failed (e.g. the sender threw). */
  readonly errors: unknown[];
  /** Settles when every started turn has sent its reply (or given up). */
  idle(): Promise<void>;
  close(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function standInTurns(options: StandInTurnsOptions): StandInTurns {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-standin-'));
  const db = openDb(join(dir, 'gateway.db'));
  const { sendToChannel } = createChannelSendActivities({
    outbox: new Outbox(db, { runId: 'stand-in' }),
    senders: options.senders,
  });
  const seen = new Set<string>();
  const turns: InboundMessage[] = [];
  const duplicates: InboundMessage[] = [];
  const running = new Set<Promise<unknown>>();
  const errors: unknown[] = [];

  async function run(msg: InboundMessage): Promise<void> {
    const answer = await options.answer(msg);
    if (!answer) return;
    await sleep(options.startDelayMs ?? 100);
    const runKey = deltaRunKey(msg.channel, msg.chat.id, msg.messageId);
    for (const [i, name] of (answer.tools ?? []).entries()) {
      options.sink.tool(runKey, { phase: 'start', name, toolCallId: `call-${i}` });
      await sleep(options.stepMs ?? 60);
      options.sink.tool(runKey, { phase: 'end', name, toolCallId: `call-${i}` });
    }
    for (const delta of answer.deltas) {
      options.sink.push(runKey, delta);
      await sleep(options.stepMs ?? 60);
    }
    options.sink.end(runKey);
    await sendToChannel({
      channel: msg.channel,
      accountId: msg.accountId,
      chatId: msg.chat.id,
      text: answer.final,
      replyToMessageId: msg.messageId,
      idempotencyKey: `stand-in:${msg.platformId}:reply`,
    });
  }

  return {
    turns,
    duplicates,
    errors,
    async ingest(msg) {
      if (seen.has(msg.platformId)) {
        duplicates.push(msg);
        return;
      }
      seen.add(msg.platformId);
      turns.push(msg);
      const turn = run(msg)
        .catch((error) => errors.push(error))
        .finally(() => running.delete(turn));
      running.add(turn);
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
