// Where an HTTP request waits for its answer. The request registers a waiter under the run key
// of the message it ingested; the answer of the session's `session.turn` update resolves it
// (or, from a worker without that update, the `openai` channel sender, called by the channel-send
// activity). An answer nobody waits for any more (the client gave up) is dropped: there is
// nowhere else to deliver it.
import { randomUUID } from 'node:crypto';
import { deltaRunKey } from '../../channels/run-key.js';
import { OPENAI_CHANNEL } from '../../workflows/channel/channel-api.js';

export { OPENAI_CHANNEL } from '../../workflows/channel/channel-api.js';
/** One HTTP response carries the whole answer; the channel-send activity chunks to this. */
export const OPENAI_TEXT_LIMIT = 1_000_000;

export interface OpenaiSender {
  channel: typeof OPENAI_CHANNEL;
  /** The agent id (the request's `model`). */
  accountId: string;
  textLimit: number;
  send(chatId: string, text: string, opts?: { replyToMessageId?: string }): Promise<{ messageId: string }>;
}

export class ReplyTimeout extends Error {}

/** The turn ended without a reply to this chat (it failed before answering, or was stopped). */
export class NoReply extends Error {}

interface Waiter {
  deliver(text: string): void;
  fail(error: Error): void;
}

export class PendingReplies {
  private readonly waiting = new Map<string, Waiter>();

  /** Wait for the answer to `runKey`; rejects with ReplyTimeout after `timeoutMs`, or on abort. */
  wait(runKey: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        if (this.waiting.get(runKey) === waiter) this.waiting.delete(runKey);
      };
      const waiter: Waiter = {
        deliver: (text) => {
          done();
          resolve(text);
        },
        fail: (error) => {
          done();
          reject(error);
        },
      };
      const aborted = () => {
        done();
        reject(new Error('request closed'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new ReplyTimeout(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(runKey, waiter);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Hand an answer to its waiter; false when nobody waits for it. */
  deliver(runKey: string, text: string): boolean {
    const waiter = this.waiting.get(runKey);
    if (!waiter) return false;
    waiter.deliver(text);
    return true;
  }

  /** The turn will not answer: its waiter fails with `error`. */
  fail(runKey: string, error: Error): void {
    this.waiting.get(runKey)?.fail(error);
  }

  get size(): number {
    return this.waiting.size;
  }

  /** The channel-send entry for one agent; register one per agent id (channel-send matches on accountId). */
  sender(accountId: string): OpenaiSender {
    return {
      channel: OPENAI_CHANNEL,
      accountId,
      textLimit: OPENAI_TEXT_LIMIT,
      send: async (chatId, text, opts) => {
        const messageId = `openai-out-${randomUUID()}`;
        if (opts?.replyToMessageId) {
          this.deliver(deltaRunKey(OPENAI_CHANNEL, chatId, opts.replyToMessageId), text);
        }
        return { messageId };
      },
    };
  }
}
