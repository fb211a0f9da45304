// Slack files: the attachments of accepted messages are downloaded (their url_private, with the bot
// token, which needs the files:read scope) into the gateway's blob store before the message goes
// on. The token is only ever sent to Slack's own hosts (or the configured API server). A file
// Slack will not hand over (gone, or a sign-in page because the scope is missing) becomes a note
// on the attachment; a network failure is thrown so Slack delivers the event again.
import { type AttachmentStore, AttachmentUnavailableError, saveAttachment } from '../attachments.js';
import type { AttachmentRef } from '../envelope.js';

/** A download that takes longer than this is abandoned (and the event handled again). */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

export interface SlackFilesOptions {
  botToken: string;
  /** The configured Web API root: its host may serve files too (a test server, an enterprise proxy). */
  apiUrl?: string;
  store: AttachmentStore;
  fetch?: typeof fetch;
}

/** Hosts that may see the bot token: Slack's, and the configured API server's. */
export function mayReceiveToken(url: URL, apiUrl: string | undefined): boolean {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (apiUrl && new URL(apiUrl).host === url.host) return true;
  return url.protocol === 'https:' && (url.hostname === 'slack.com' || url.hostname.endsWith('.slack.com'));
}

export function createSlackFiles(options: SlackFilesOptions) {
  const fetchFn = options.fetch ?? fetch;

  async function download(ref: AttachmentRef, url: URL): Promise<AsyncIterable<Uint8Array>> {
    const res = await fetchFn(url, {
      headers: { authorization: `Bearer ${options.botToken}` },
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
      redirect: 'follow',
    });
    if (res.status === 403 || res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new AttachmentUnavailableError(
        `Slack answered ${res.status} for the file (deleted, or not shared with the app)`,
      );
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`downloading a Slack file failed: HTTP ${res.status}`);
    }
    // Without files:read Slack answers 200 with its sign-in page instead of the file.
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('text/html') && !ref.mime.startsWith('text/html')) {
      await res.body.cancel();
      throw new AttachmentUnavailableError(
        'Slack sent a sign-in page instead of the file: give the app the files:read scope and reinstall it',
      );
    }
    return res.body as unknown as AsyncIterable<Uint8Array>;
  }

  return {
    async store(attachments: readonly AttachmentRef[]): Promise<AttachmentRef[]> {
      const stored: AttachmentRef[] = [];
      // One at a time: a message has a few files at most, and memory stays flat.
      for (const ref of attachments) {
        const url = parseUrl(ref.url);
        if (!url) {
          stored.push({ ...ref, error: 'Slack gave no download URL for the file' });
          continue;
        }
        if (!mayReceiveToken(url, options.apiUrl)) {
          stored.push({ ...ref, error: `not downloaded: ${url.host} is not a Slack file host` });
          continue;
        }
        stored.push(await saveAttachment(options.store, ref, () => download(ref, url)));
      }
      return stored;
    },
  };
}

function parseUrl(value: string | undefined): URL | undefined {
  if (!value || !/^https?:\/\//.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
