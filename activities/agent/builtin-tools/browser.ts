/**
 * The agent's `browser` tool: a real (headless) Chromium for pages `web_fetch` cannot read —
 * ones built by scripts, behind a form, or that need a click. One tool, one action per call
 * (each call its own activity): navigate, snapshot (the page's accessible text, elements tagged
 * with short refs like e12), click and type by ref, screenshot (into the media store), close.
 * The browser lives in the worker (browser-pool.ts): one context per conversation.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Page } from 'playwright-core';
import { Failures } from '../../../engine/failures.js';
import type { ToolCallResult } from '../../../workflows/agent/agent-api.js';
import type { AgentToolDefinition, ToolCallContext } from '../tools.js';
import { type BrowserPool, type BrowserSession, BrowserUnavailableError } from './browser-pool.js';
import { REFUSED_HEADER } from './browser-proxy.js';

export interface BrowserToolOptions {
  pool: BrowserPool;
  /** The conversation a call belongs to: calls of one conversation share a context. */
  sessionOf: (runKey: string, ctx: ToolCallContext) => string;
  /** tools.browser as it is now. */
  settings: () => { navigationTimeoutMs: number; maxSnapshotChars: number };
  /** Where screenshots go (the media blob store); without one, screenshot is refused. */
  media?: { put(bytes: Uint8Array, kind: 'image'): Promise<{ sha256: string; size: number }> };
  /** For a click, typing or a snapshot. Default 10 s. */
  actionTimeoutMs?: number;
}

const ACTIONS = ['navigate', 'snapshot', 'click', 'type', 'screenshot', 'close'] as const;
type Action = (typeof ACTIONS)[number];

const refused = (message: string) => ApplicationFailure.nonRetryable(message, Failures.BrowserRefused);
const failed = (message: string) => ApplicationFailure.nonRetryable(message, Failures.BrowserFailed);

export function createBrowserTool(options: BrowserToolOptions): AgentToolDefinition {
  const actionTimeoutMs = options.actionTimeoutMs ?? 10_000;
  return {
    name: 'browser',
    description:
      'Use a web browser (headless Chromium) for pages web_fetch cannot read: built by scripts, behind a form, or ' +
      'needing clicks. One action per call: navigate {url} opens a page and returns its snapshot; snapshot returns ' +
      'the accessible text of the current page, each element tagged [ref=eN]; click {ref} and type {ref, text, ' +
      'submit?} act on an element of the latest snapshot and return the new one; screenshot {fullPage?} saves an ' +
      'image of the page to the media store; close ends the browser of this conversation. Only public internet ' +
      'addresses are reachable.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['action'],
      properties: {
        action: { type: 'string', enum: [...ACTIONS], description: 'What to do.' },
        url: { type: 'string', description: 'navigate: the http(s) URL to open.' },
        ref: {
          type: 'string',
          description: 'click, type: the element, as [ref=…] in the latest snapshot (e.g. e12).',
        },
        text: { type: 'string', description: 'type: the text to put in the field (replaces what is there).' },
        submit: { type: 'boolean', description: 'type: press Enter afterwards.' },
        fullPage: { type: 'boolean', description: 'screenshot: the whole page, not only the visible part.' },
      },
    },
    // Starting Chromium, then up to the page's load time; a dead worker is noticed by the heartbeat.
    get timeoutMs() {
      return options.settings().navigationTimeoutMs + 45_000;
    },
    heartbeatTimeoutMs: 20_000,
    // A retry lands on a new worker whose browser has no page; click/type then say so.
    retry: { maximumAttempts: 2 },
    async execute(args, ctx) {
      const action = args.action as Action;
      const key = options.sessionOf(ctx.runKey, ctx);
      const beat = setInterval(() => ctx.heartbeat?.(), 2_000);
      try {
        if (action === 'close') {
          return (await options.pool.closeSession(key))
            ? 'Closed the browser of this conversation.'
            : 'No browser was open in this conversation.';
        }
        if (action === 'navigate') {
          const url = checkedUrl(String(args.url ?? ''));
          const why = await options.pool.refusal(url.href);
          if (why) throw refused(`browser: ${why}`);
          return await options.pool.use(key, false, (session) => navigate(options, session!, url));
        }
        if (!ACTIONS.includes(action)) {
          throw refused(`browser: unknown action '${String(action)}' (one of ${ACTIONS.join(', ')})`);
        }
        return await options.pool.use(key, true, async (session) => {
          if (!session) {
            throw refused(
              'browser: no page is open in this conversation (the browser closes when idle and when the worker restarts): navigate to a URL first',
            );
          }
          session.refused.length = 0;
          session.failed.length = 0;
          const page = session.page;
          if (action === 'click') {
            await act(page, args, 'click', () => element(page, args).click({ timeout: actionTimeoutMs }));
          } else if (action === 'type') {
            await act(page, args, 'type', async () => {
              const target = element(page, args);
              await target.fill(String(args.text ?? ''), { timeout: actionTimeoutMs });
              if (args.submit === true) await target.press('Enter', { timeout: actionTimeoutMs });
            });
          } else if (action === 'screenshot') {
            return await screenshot(page, options, args.fullPage === true, actionTimeoutMs);
          }
          return await describe(page, session, options, actionTimeoutMs);
        });
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
        if (error instanceof BrowserUnavailableError) {
          throw ApplicationFailure.nonRetryable(`browser: ${error.message}`, Failures.BrowserUnavailable);
        }
        throw failed(`browser: ${action} failed: ${firstLine(error)}`);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

function checkedUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw refused(`browser: not a valid URL: ${url}`);
  }
}

async function navigate(options: BrowserToolOptions, session: BrowserSession, url: URL): Promise<string> {
  session.refused.length = 0;
  session.failed.length = 0;
  const timeout = options.settings().navigationTimeoutMs;
  let status: number | undefined;
  try {
    const response = await session.page.goto(url.href, { waitUntil: 'domcontentloaded', timeout });
    const refusal = response?.headers()[REFUSED_HEADER];
    if (refusal) {
      // A redirect led to an address the policy refuses: the proxy said no, nothing was fetched.
      await session.page.goto('about:blank').catch(() => {});
      throw refused(`browser: ${decodeURIComponent(refusal)} (${url.href} redirected to ${response!.url()})`);
    }
    status = response?.status();
    // Give scripts a moment to draw the page; a page that keeps loading is read as it is.
    await session.page.waitForLoadState('load', { timeout: Math.min(5_000, timeout) }).catch(() => {});
  } catch (error) {
    if (error instanceof ApplicationFailure) throw error;
    const message = firstLine(error);
    // A page that never loads leaves the tab busy: go on with a fresh one.
    await options.pool.replacePage(session);
    if (/Timeout \d+ms exceeded/.test(message)) {
      throw failed(
        `browser: ${url.href} did not load within ${timeout / 1000} s (tools.browser.navigationTimeoutSeconds)`,
      );
    }
    if (message.includes('ERR_TUNNEL_CONNECTION_FAILED') && session.refused[0]) {
      throw refused(`browser: ${session.refused[0].why} (while opening ${url.href})`);
    }
    const cause = session.failed[0]
      ? `: ${session.failed[0].why}`
      : `: ${message.replace(/^page\.goto: /, '')}`;
    throw failed(`browser: could not open ${url.href}${cause}`);
  }
  return describe(session.page, session, options, 10_000, status);
}

/** The page as the model reads it: title, URL, what was blocked, and the snapshot (bounded). */
async function describe(
  page: Page,
  session: BrowserSession,
  options: BrowserToolOptions,
  timeout: number,
  status?: number,
): Promise<string> {
  const max = options.settings().maxSnapshotChars;
  let snapshot = await page.ariaSnapshot({ mode: 'ai', timeout });
  if (snapshot.length > max) {
    snapshot = `${snapshot.slice(0, max)}\n[snapshot cut at ${max} characters of ${snapshot.length}]`;
  }
  const lines = [
    `Page: ${(await page.title()) || '(no title)'}`,
    `URL: ${page.url()}${status ? ` (status ${status})` : ''}`,
  ];
  if (session.refused.length > 0) {
    const shown = session.refused.slice(0, 5).map((r) => `- ${r.url}: ${r.why}`);
    lines.push(
      `Blocked ${session.refused.length} request${session.refused.length === 1 ? '' : 's'} of this page:`,
      ...shown,
      ...(session.refused.length > 5 ? [`- … and ${session.refused.length - 5} more`] : []),
    );
  }
  return `${lines.join('\n')}\n\n${snapshot}`;
}

function element(page: Page, args: Record<string, unknown>) {
  const ref = String(args.ref ?? '')
    .replace(/^\[?ref=/, '')
    .replace(/\]$/, '')
    .trim();
  if (!/^(f\d+)?e\d+$/.test(ref)) {
    throw refused(
      `browser: '${String(args.ref ?? '')}' is not a ref; give one from the latest snapshot, like e12`,
    );
  }
  return page.getByRef(ref);
}

async function act(
  page: Page,
  args: Record<string, unknown>,
  what: string,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ApplicationFailure) throw error;
    const message = firstLine(error);
    if (/Timeout \d+ms exceeded/.test(message)) {
      throw failed(
        `browser: could not ${what} ${String(args.ref)}: the element did not respond (is it still on the page? take a new snapshot)`,
      );
    }
    throw failed(`browser: could not ${what} ${String(args.ref)}: ${message}`);
  }
  await page.waitForLoadState('domcontentloaded', { timeout: 10_000 }).catch(() => {});
}

async function screenshot(
  page: Page,
  options: BrowserToolOptions,
  fullPage: boolean,
  timeout: number,
): Promise<ToolCallResult> {
  if (!options.media)
    throw refused('browser: screenshots need the media store, which this worker does not have');
  const png = await page.screenshot({ type: 'png', fullPage, timeout });
  const stored = await options.media.put(png, 'image');
  const text =
    `Screenshot of ${page.url()} saved to the media store: sha256 ${stored.sha256} ` +
    `(image/png, ${Math.max(1, Math.round(stored.size / 1024))} KiB).\n` +
    `To send it to the chat, put the line "MEDIA: sha256:${stored.sha256}" in your answer.`;
  // details.files: the turn may send it (workflows/agent/turn.ts reads them for MEDIA: lines).
  const file = { sha256: stored.sha256, mime: 'image/png', kind: 'image' as const, name: 'screenshot.png' };
  return { content: [{ type: 'text', text }], details: { files: [file] } };
}

function firstLine(error: unknown): string {
  return ((error as Error)?.message ?? String(error)).split('\n')[0]!;
}
