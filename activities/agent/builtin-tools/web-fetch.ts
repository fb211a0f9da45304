/**
 * The agent's `web_fetch` tool: HTTP(S) GET of one page, as text the model can read. Only the
 * public internet is reachable (unless `allowPrivate`): every hop of a redirect chain is checked,
 * and by default the connection itself only goes to checked addresses. Size and time are bounded.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../../engine/failures.js';
import type { AgentToolDefinition } from '../tools.js';
import {
  AddressRefused,
  HostNotFound,
  type LookupAll,
  resolveAll,
  resolvePublic,
  systemLookup,
} from './address-policy.js';
import { htmlToText } from './html-text.js';
import { type FetchLike, pinnedFetch } from './pinned-fetch.js';

export interface WebFetchOptions {
  /** Replaces the connection (tests); the default connects only to addresses that passed the check. */
  fetch?: FetchLike;
  /** Resolves a host to all its addresses. Default: node:dns lookup. */
  lookup?: LookupAll;
  /** Bytes of body read at most (after decompression). Default 2 MiB. */
  maxBytes?: number;
  /** Characters of text returned at most. Default 50,000. */
  maxChars?: number;
  /** For the whole fetch, redirects and body included. Default 15 s. */
  timeoutMs?: number;
  /** Reach loopback and private networks too. Default false. */
  allowPrivate?: boolean;
  /** Host names (lower case, exact) that may resolve to loopback/private addresses. */
  allowHosts?: readonly string[];
  /** Read at every call, over allowPrivate/allowHosts: the owner's current settings (config hot reload). */
  policy?: () => { allowPrivate?: boolean; allowHosts?: readonly string[] };
  userAgent?: string;
}

export interface WebFetchResult {
  /** The final URL, after redirects. */
  url: string;
  status: number;
  contentType: string;
  title?: string;
  text: string;
  /** Body or text cut at the limit (the text says which). */
  truncated: boolean;
}

const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** A fetch that failed in a way the model should read; `retryable` says whether trying again may help. */
export class WebFetchError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WebFetchError';
  }
}

export async function webFetch(
  url: string,
  options: WebFetchOptions = {},
  cancel?: AbortSignal,
): Promise<WebFetchResult> {
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
  const maxChars = options.maxChars ?? 50_000;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const lookup = options.lookup ?? systemLookup;
  const allowHosts = new Set(options.allowHosts ?? []);
  const mayBePrivate = (host: string) => options.allowPrivate === true || allowHosts.has(host.toLowerCase());
  const check = (host: string) =>
    mayBePrivate(host) ? resolveAll(host, lookup) : resolvePublic(host, lookup);
  const fetch = options.fetch ?? pinnedFetch(check);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;

  let current = parseUrl(url);
  try {
    for (let hop = 0; ; hop++) {
      if (!mayBePrivate(current.hostname)) await resolvePublic(current.hostname, lookup);
      const response = await fetch(current.href, {
        method: 'GET',
        redirect: 'manual',
        signal,
        headers: {
          'user-agent': options.userAgent ?? 'Mozilla/5.0 (compatible; Switchyard web_fetch)',
          accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5',
        },
      });
      const location = response.headers.get('location');
      if (REDIRECT.has(response.status) && location) {
        await response.body?.cancel().catch(() => {});
        if (hop === MAX_REDIRECTS) {
          throw new WebFetchError(
            `too many redirects (more than ${MAX_REDIRECTS}); the last went to ${location}`,
            false,
          );
        }
        current = parseUrl(location, current, `redirect from ${current.href}`);
        continue;
      }
      return await readPage(current.href, response, maxBytes, maxChars);
    }
  } catch (error) {
    if (cancel?.aborted) throw error;
    if (timeout.aborted) {
      throw new WebFetchError(`timed out after ${timeoutMs / 1000} s fetching ${current.href}`, true);
    }
    if (error instanceof WebFetchError) throw error;
    if (error instanceof AddressRefused) {
      const via = current.href === new URL(url).href ? '' : ` (redirected to ${current.href})`;
      throw new WebFetchError(`${error.message}${via}`, false);
    }
    if (error instanceof HostNotFound) throw new WebFetchError(error.message, !error.permanent);
    const cause = (error as { cause?: { message?: string } })?.cause?.message;
    throw new WebFetchError(
      `could not fetch ${current.href}: ${(error as Error)?.message ?? String(error)}${cause ? ` (${cause})` : ''}`,
      true,
    );
  }
}

function parseUrl(text: string, base?: URL, context?: string): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new WebFetchError(`not a valid URL: ${text}${context ? ` (${context})` : ''}`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebFetchError(
      `refused: ${url.protocol} URLs are not fetched; web_fetch only does HTTP(S) GET${context ? ` (${context})` : ''}`,
      false,
    );
  }
  return url;
}

async function readPage(
  url: string,
  response: Response,
  maxBytes: number,
  maxChars: number,
): Promise<WebFetchResult> {
  const contentType = response.headers.get('content-type')?.trim() ?? '';
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  const base = { url, status: response.status, contentType };
  if (mime && !isTextual(mime)) {
    await response.body?.cancel().catch(() => {});
    return {
      ...base,
      text: `[${mime} content is not text; web_fetch returns only text and HTML]`,
      truncated: false,
    };
  }
  const body = await readLimited(response.body, maxBytes);
  let raw = decode(body.bytes, contentType);
  if (body.truncated) raw = raw.replace(/\ufffd+$/, ''); // a character cut in half at the limit
  const html = mime.includes('html') || (!mime && /^\s*<(!doctype html|html)/i.test(raw));
  const page = html ? htmlToText(raw, url) : { text: raw };
  let text = page.text;
  const notes: string[] = [];
  if (body.truncated)
    notes.push(`the body is larger than ${formatBytes(maxBytes)}; only the first part was read`);
  if (text.length > maxChars) {
    text = text.slice(0, maxChars);
    notes.push(`the text was cut at ${maxChars} characters`);
  }
  if (notes.length > 0) text += `\n\n[truncated: ${notes.join('; ')}]`;
  return {
    ...base,
    ...('title' in page && page.title ? { title: page.title } : {}),
    text,
    truncated: notes.length > 0,
  };
}

function isTextual(mime: string): boolean {
  return (
    mime.startsWith('text/') ||
    /[/+](json|xml|javascript|ecmascript|yaml|x-yaml|csv|markdown)$/.test(mime) ||
    mime === 'application/x-www-form-urlencoded'
  );
}

/** Reads at most `maxBytes`, then cancels the stream: a huge body is never buffered whole. */
async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  try {
    // One read past the limit tells a body of exactly maxBytes from a longer one.
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      const room = maxBytes - size;
      if (next.value.byteLength > room) {
        chunks.push(next.value.subarray(0, room));
        break;
      }
      chunks.push(next.value);
      size += next.value.byteLength;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
  return { bytes: Buffer.concat(chunks), truncated: !done };
}

/** The charset from the header, else a `<meta charset>` near the top, else UTF-8. */
function decode(bytes: Uint8Array, contentType: string): string {
  const declared =
    /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1] ??
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(
      Buffer.from(bytes.subarray(0, 2048)).toString('latin1'),
    )?.[1];
  try {
    return new TextDecoder(declared ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** The tool as the agent registers it. */
export function createWebFetchTool(options: WebFetchOptions = {}): AgentToolDefinition {
  const maxChars = options.maxChars ?? 50_000;
  return {
    name: 'web_fetch',
    description:
      'Fetch a web page or text file by URL (HTTP GET) and return it as readable text: status, content type, ' +
      'title, and the text with headings (#), list items (-) and links as "text (url)". Only public ' +
      'internet addresses are reachable. Use it to read a page whose URL you know.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', description: 'The http:// or https:// URL to fetch.' },
        maxChars: {
          type: 'integer',
          minimum: 100,
          maximum: maxChars,
          description: `Return at most this many characters of text (default and maximum ${maxChars}).`,
        },
      },
    },
    // The fetch bounds itself; the activity only needs room around it.
    timeoutMs: (options.timeoutMs ?? 15_000) + 5_000,
    retry: { maximumAttempts: 2 },
    async execute(args, ctx) {
      const limit = typeof args.maxChars === 'number' ? Math.min(args.maxChars, maxChars) : maxChars;
      try {
        const result = await webFetch(
          String(args.url),
          { ...options, ...options.policy?.(), maxChars: limit },
          ctx.signal,
        );
        return JSON.stringify(result, null, 1);
      } catch (error) {
        if (error instanceof WebFetchError) {
          throw error.retryable
            ? ApplicationFailure.retryable(error.message, Failures.WebFetchFailed)
            : ApplicationFailure.nonRetryable(error.message, Failures.WebFetchRefused);
        }
        throw error;
      }
    },
  };
}
