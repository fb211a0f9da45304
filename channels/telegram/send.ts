// Sending text to a Telegram chat, and saying — when it fails — whether Telegram certainly did not
// post it. That one bit is what lets the outbox retry a chunk without ever posting it twice.
import { type Api, GrammyError, HttpError } from 'grammy';

/** Telegram allows 4096 characters; stay under it so a chunk never fails on a counting nuance. */
export const TELEGRAM_TEXT_LIMIT = 4000;

export interface TelegramSendOptions {
  /** Message id in the same chat to reply to (first chunk only; the caller decides). */
  replyToMessageId?: string;
  /** Forum topic (message_thread_id). */
  threadId?: string;
}

export type TelegramSend = (
  chatId: string,
  text: string,
  opts?: TelegramSendOptions,
) => Promise<{ messageId: string }>;

/**
 * A failed send. `notSent` is true only when the request provably did not post a message (Telegram
 * answered with an error, or the connection was never made). `permanent` means retrying is pointless
 * (chat not found, bot blocked, bad request). Read structurally by activities/channel-send.ts.
 */
export class TelegramSendError extends Error {
  override readonly name = 'TelegramSendError';
  constructor(
    message: string,
    readonly notSent: boolean,
    readonly permanent: boolean,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createTelegramSend(api: Api): TelegramSend {
  return async (chatId, text, opts = {}) => {
    try {
      const sent = await api.sendMessage(chatId, text, {
        ...(opts.threadId ? { message_thread_id: Number(opts.threadId) } : {}),
        ...(opts.replyToMessageId
          ? {
              reply_parameters: {
                message_id: Number(opts.replyToMessageId),
                allow_sending_without_reply: true,
              },
            }
          : {}),
      });
      return { messageId: String(sent.message_id) };
    } catch (error) {
      throw classifySendError(error, chatId);
    }
  };
}

/** Errors from before the request reached Telegram: nothing can have been posted. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function classifySendError(error: unknown, chatId: string): TelegramSendError {
  if (error instanceof GrammyError) {
    const retryAfter = error.parameters.retry_after;
    const permanent = error.error_code === 400 || error.error_code === 403 || error.error_code === 404;
    return new TelegramSendError(
      `Telegram refused sendMessage to chat ${chatId}: ${error.error_code} ${error.description}` +
        (error.error_code === 401 ? ' (check channels.telegram.botToken)' : ''),
      true,
      permanent,
      retryAfter === undefined ? undefined : retryAfter * 1000,
      { cause: error },
    );
  }
  if (error instanceof HttpError) {
    const code = networkCode(error.error);
    return new TelegramSendError(
      `sendMessage to chat ${chatId} failed on the network (${code ?? error.message}); ` +
        (code && NOT_CONNECTED.has(code) ? 'nothing was sent' : 'Telegram may or may not have posted it'),
      code !== undefined && NOT_CONNECTED.has(code),
      false,
      undefined,
      { cause: error },
    );
  }
  return new TelegramSendError(
    `sendMessage to chat ${chatId} failed: ${String(error)}`,
    false,
    false,
    undefined,
    {
      cause: error,
    },
  );
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
