// Where an HTTP request waits for its answer. The request registers a waiter under the run key
// of the message it ingested; the `openai` channel sender — called by the exactly-once
// channel-send activity — resolves it with the final text. An answer nobody waits for any more
// (the client gave up) is acknowledged and dropped: there is nowhere else to deliver it.
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

export class PendingReplies {
  private readonly waiting = new Map<string, (text: string) => void>();

  /** Wait for the answer to `runKey`; rejects with ReplyTimeout after `timeoutMs`, or on abort. */
  wait(runKey: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        if (this.waiting.get(runKey) === deliver) this.waiting.delete(runKey);
      };
      const deliver = (text: string) => {
        done();
        resolve(text);
      };
      const aborted = () => {
        done();
        reject(new Error('request closed'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new ReplyTimeout(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(runKey, deliver);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Hand an answer to its waiter; false when nobody waits for it. */
  deliver(runKey: string, text: string): boolean {
    const waiter = this.waiting.get(runKey);
    if (!waiter) return false;
    waiter(text);
    return true;
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
