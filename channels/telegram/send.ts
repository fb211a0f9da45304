// Sending text to a Telegram chat, and saying — when it fails — whether Telegram certainly did not
// post it. That one bit is what lets the outbox retry a chunk without ever posting it twice.
import { type Api, GrammyError, HttpError, InputFile } from 'grammy';
import type { AttachmentStore } from '../attachments.js';
import type { AttachmentKind } from '../envelope.js';

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
      const sent = await api.sendMessage(chatId, text, placement(opts));
      return { messageId: String(sent.message_id) };
    } catch (error) {
      throw classifySendError(error, chatId);
    }
  };
}

/** A stored file to post: its blob-store address and what it is. */
export interface TelegramFile {
  sha256: string;
  mime: string;
  kind: AttachmentKind;
  name?: string;
}

export type TelegramSendFile = (
  chatId: string,
  file: TelegramFile,
  opts?: TelegramSendOptions,
) => Promise<{ messageId: string }>;

/** Telegram shows these as photos (sendPhoto takes up to 10 MB); everything else goes as a document. */
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const PHOTO_LIMIT = 10 * 1024 * 1024;

/** Posts a file from the blob store: a photo when it is one, else a document with its name. */
export function createTelegramSendFile(api: Api, store: AttachmentStore): TelegramSendFile {
  return async (chatId, file, opts = {}) => {
    const stored = await store.stat(file.sha256);
    if (!stored) {
      throw new TelegramSendError(
        `cannot send ${file.name ?? 'a file'} to chat ${chatId}: it is no longer in the media store`,
        true,
        true,
        undefined,
      );
    }
    const input = new InputFile(store.stream(file.sha256), file.name ?? defaultName(file));
    const photo = file.kind === 'image' && PHOTO_TYPES.has(file.mime) && stored.size <= PHOTO_LIMIT;
    try {
      const sent = photo
        ? await api.sendPhoto(chatId, input, placement(opts))
        : await api.sendDocument(chatId, input, placement(opts));
      return { messageId: String(sent.message_id) };
    } catch (error) {
      throw classifySendError(error, chatId, photo ? 'sendPhoto' : 'sendDocument');
    }
  };
}

function defaultName(file: TelegramFile): string {
  const extension = file.mime.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  return `${file.kind}.${extension === 'jpeg' ? 'jpg' : extension}`;
}

function placement(opts: TelegramSendOptions) {
  return {
    ...(opts.threadId ? { message_thread_id: Number(opts.threadId) } : {}),
    ...(opts.replyToMessageId
      ? {
          reply_parameters: {
            message_id: Number(opts.replyToMessageId),
            allow_sending_without_reply: true,
          },
        }
      : {}),
  };
}

/** Errors from before the request reached Telegram: nothing can have been posted. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function classifySendError(error: unknown, chatId: string, method = 'sendMessage'): TelegramSendError {
  if (error instanceof GrammyError) {
    const retryAfter = error.parameters.retry_after;
    const permanent = error.error_code === 400 || error.error_code === 403 || error.error_code === 404;
    return new TelegramSendError(
      `Telegram refused ${method} to chat ${chatId}: ${error.error_code} ${error.description}` +
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
      `${method} to chat ${chatId} failed on the network (${code ?? error.message}); ` +
        (code && NOT_CONNECTED.has(code) ? 'nothing was sent' : 'Telegram may or may not have posted it'),
      code !== undefined && NOT_CONNECTED.has(code),
      false,
      undefined,
      { cause: error },
    );
  }
  return new TelegramSendError(
    `${method} to chat ${chatId} failed: ${String(error)}`,
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
