/**
 * "typing…" in chats that cannot show an answer as it forms (Telegram): while the worker streams
 * a turn's text or tool calls for a message (the live-delta hub), the connector's typing action
 * is repeated every few seconds; it stops when the reply to that message is sent, when nothing
 * has streamed for a while, or after a cap. Best-effort: a failed typing call is only logged,
 * and no typing call is ever made for a message whose turn produces nothing (no frames).
 */

import type { InboundMessage } from '../../channels/envelope.js';
import { deltaRunKey } from '../../channels/run-key.js';
import type { DeltaHub } from '../stream/hub.js';

export interface TypingOptions {
  hub: DeltaHub;
  channel: string;
  /** One typing action (Telegram shows it for about 5 s). */
  typing(chatId: string, threadId?: string): Promise<void>;
  /** Ends the indicator at once (WhatsApp's "paused"), when the platform has such a call. */
  stopTyping?(chatId: string, threadId?: string): Promise<void>;
  onError?(error: unknown): void;
  /** Between typing actions. Default 4.5 s (Telegram's indicator lasts 5 s). */
  intervalMs?: number;
  /** Stop when nothing has streamed for this long. Default 30 s. */
  idleMs?: number;
  /** Forget a message after this long, whatever happens. Default 10 min. */
  maxMs?: number;
}

interface Watch {
  chatId: string;
  threadId?: string;
  unsubscribe(): void;
  repeat?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
  expire: NodeJS.Timeout;
}

export interface TypingIndicator {
  /** Starts watching the turn that answers `message`. */
  watch(message: InboundMessage): void;
  /** The reply to `replyToMessageId` in `chatId` is being sent: stop typing there. */
  replied(chatId: string, replyToMessageId: string | undefined): void;
  close(): void;
}

export function createTypingIndicator(options: TypingOptions): TypingIndicator {
  const intervalMs = options.intervalMs ?? 4500;
  const idleMs = options.idleMs ?? 30_000;
  const maxMs = options.maxMs ?? 10 * 60_000;
  const watches = new Map<string, Watch>();

  function stop(runKey: string): void {
    const w = watches.get(runKey);
    if (!w) return;
    watches.delete(runKey);
    w.unsubscribe();
    clearInterval(w.repeat);
    clearTimeout(w.idle);
    clearTimeout(w.expire);
    if (w.repeat && options.stopTyping) {
      options.stopTyping(w.chatId, w.threadId).catch((error) => options.onError?.(error));
    }
  }

  return {
    watch(message) {
      const runKey = deltaRunKey(options.channel, message.chat.id, message.messageId);
      if (watches.has(runKey)) return;
      const type = () =>
        options.typing(message.chat.id, message.chat.threadId).catch((error) => options.onError?.(error));
      const w: Watch = {
        chatId: message.chat.id,
        ...(message.chat.threadId ? { threadId: message.chat.threadId } : {}),
        unsubscribe: () => {},
        expire: setTimeout(() => stop(runKey), maxMs),
      };
      w.expire.unref();
      watches.set(runKey, w);
      w.unsubscribe = options.hub.subscribe(runKey, (frame) => {
        if (frame.type === 'end') return;
        if (!w.repeat) {
          void type();
          w.repeat = setInterval(() => void type(), intervalMs);
          w.repeat.unref();
        }
        clearTimeout(w.idle);
        w.idle = setTimeout(() => stop(runKey), idleMs);
        w.idle.unref();
      });
    },
    replied(chatId, replyToMessageId) {
      if (replyToMessageId) stop(deltaRunKey(options.channel, chatId, replyToMessageId));
    },
    close() {
      for (const runKey of [...watches.keys()]) stop(runKey);
    },
  };
}
