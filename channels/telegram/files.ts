// Telegram files: attachments of accepted messages are downloaded (getFile, then the file URL of
// the Bot API server) into the gateway's blob store before the message goes on. The cloud Bot API
// hands out files up to 20 MB; a bigger one, or a file_id Telegram no longer knows, becomes a note
// on the attachment, while a network failure is thrown so the update is handled again.
import { type Api, GrammyError } from 'grammy';
import { type AttachmentStore, AttachmentUnavailableError, saveAttachment } from '../attachments.js';
import type { AttachmentRef } from '../envelope.js';
import { TELEGRAM_FILE_PREFIX } from './normalize.js';

export const DEFAULT_API_ROOT = 'https://api.telegram.org';
/** A download that takes longer than this is abandoned (and the update handled again). */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface TelegramFilesOptions {
  api: Api;
  botToken: string;
  apiRoot?: string;
  store: AttachmentStore;
  fetch?: typeof fetch;
}

/** Stores every attachment of a message that has a Telegram file reference; the others stay as they are. */
export function createTelegramFiles(options: TelegramFilesOptions) {
  const root = (options.apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, '');
  const fetchFn = options.fetch ?? fetch;

  async function download(fileId: string): Promise<AsyncIterable<Uint8Array>> {
    let path: string | undefined;
    try {
      path = (await options.api.getFile(fileId)).file_path;
    } catch (error) {
      // 400: "file is too big" (over the Bot API's 20 MB), "wrong file_id", "file is temporarily unavailable" is 400 too but rare.
      if (error instanceof GrammyError && error.error_code === 400) {
        throw new AttachmentUnavailableError(`Telegram will not hand the file over: ${error.description}`);
      }
      throw error;
    }
    if (!path) throw new AttachmentUnavailableError('Telegram gave no download path for the file');
    const url = `${root}/file/bot${options.botToken}/${path.split('/').map(encodeURIComponent).join('/')}`;
    const res = await fetchFn(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (res.status === 400 || res.status === 404) {
      await res.body?.cancel();
      throw new AttachmentUnavailableError(`Telegram answered ${res.status} for the file download`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      // Never put the URL (it holds the bot token) into an error.
      throw new Error(`downloading a Telegram file failed: HTTP ${res.status}`);
    }
    return res.body as unknown as AsyncIterable<Uint8Array>;
  }

  return {
    async store(attachments: readonly AttachmentRef[]): Promise<AttachmentRef[]> {
      const stored: AttachmentRef[] = [];
      // One at a time: a message has a few files at most, and memory stays flat.
      for (const ref of attachments) {
        const fileId = ref.url?.startsWith(TELEGRAM_FILE_PREFIX)
          ? ref.url.slice(TELEGRAM_FILE_PREFIX.length)
          : undefined;
        stored.push(fileId ? await saveAttachment(options.store, ref, () => download(fileId)) : ref);
      }
      return stored;
    },
  };
}
