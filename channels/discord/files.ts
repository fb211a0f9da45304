// Discord files: the attachments of accepted messages are downloaded from Discord's CDN (signed
// URLs that expire after about a day; no token is sent) into the gateway's blob store before the
// message goes on. A file Discord no longer serves becomes a note on the attachment; a network
// failure is thrown so the connector retries the hand-off.
import { type AttachmentStore, AttachmentUnavailableError, saveAttachment } from '../attachments.js';
import type { AttachmentRef } from '../envelope.js';

/** A download that takes longer than this is abandoned (and the hand-off retried). */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface DiscordFilesOptions {
  store: AttachmentStore;
  fetch?: typeof fetch;
}

export function createDiscordFiles(options: DiscordFilesOptions) {
  const fetchFn = options.fetch ?? fetch;

  async function download(url: string): Promise<AsyncIterable<Uint8Array>> {
    const res = await fetchFn(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (res.status === 403 || res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new AttachmentUnavailableError(
        `Discord answered ${res.status} for the file (expired or deleted)`,
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`downloading a Discord attachment failed: HTTP ${res.status}`);
    }
    return res.body as unknown as AsyncIterable<Uint8Array>;
  }

  return {
    async store(attachments: readonly AttachmentRef[]): Promise<AttachmentRef[]> {
      const stored: AttachmentRef[] = [];
      for (const ref of attachments) {
        const url = ref.url;
        stored.push(
          url && /^https?:\/\//.test(url)
            ? await saveAttachment(options.store, ref, () => download(url))
            : { ...ref, error: 'Discord gave no download URL for the file' },
        );
      }
      return stored;
    },
  };
}
