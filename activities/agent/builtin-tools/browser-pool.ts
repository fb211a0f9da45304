/**
 * The browsers of one worker process: one headless Chromium (the system's, found on PATH, started
 * on first use), one browser context per conversation (its own cookies and pages, closed after
 * `idleMs` without an action), the browser closed when the last context is and on worker
 * shutdown. Every request a page makes — the navigation, each image, script, frame, fetch and
 * WebSocket — passes web_fetch's address policy first (route interception): a page on the public
 * internet cannot make the browser reach the home network unless the owner allowed that host.
 */
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import {
  AddressRefused,
  HostNotFound,
  type LookupAll,
  resolvePublic,
  systemLookup,
} from './address-policy.js';

export interface AddressPolicy {
  allowHosts: readonly string[];
  allowPrivate: boolean;
}

export interface BrowserPoolOptions {
  /** The Chromium executable (config/chromium.ts findChromium), or undefined when there is none. */
  executablePath: () => string | undefined;
  /** web_fetch's policy, as it is now. */
  policy: () => AddressPolicy;
  /** How long a conversation's context lives without an action. */
  idleMs: () => number;
  lookup?: LookupAll;
}

/** One conversation's browser: its context, its page, and what the policy refused lately. */
export interface BrowserSession {
  key: string;
  context: BrowserContext;
  page: Page;
  /** Requests refused since the last action (URL and why), reported to the model. */
  refused: Array<{ url: string; why: string }>;
}

/** No Chromium, or it would not start. */
export class BrowserUnavailableError extends Error {
  override readonly name = 'BrowserUnavailableError';
}

/** Chromium's background traffic (updates, sync, field trials) is noise on a closed network and a leak on an open one. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
];

export class BrowserPool {
  private browser: Promise<Browser> | undefined;
  private readonly sessions = new Map<string, { session: Promise<BrowserSession>; timer?: NodeJS.Timeout }>();
  private closed = false;

  constructor(private readonly options: BrowserPoolOptions) {}

  /** The conversation's session, opened if needed; its idle timer starts again. */
  async session(key: string): Promise<BrowserSession> {
    if (this.closed) throw new BrowserUnavailableError('the worker is shutting down');
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = { session: this.open(key) };
      this.sessions.set(key, entry);
      entry.session.catch(() => this.sessions.delete(key));
    }
    const session = await entry.session;
    this.touch(key);
    return session;
  }

  /** The conversation's session if it is open (never opens one). */
  existing(key: string): Promise<BrowserSession> | undefined {
    return this.sessions.get(key)?.session;
  }

  /** A fresh page in the session (after a page that never loaded, or was closed). */
  async replacePage(session: BrowserSession): Promise<Page> {
    await session.page.close().catch(() => {});
    session.page = await session.context.newPage();
    return session.page;
  }

  async closeSession(key: string): Promise<boolean> {
    const entry = this.sessions.get(key);
    if (!entry) return false;
    this.sessions.delete(key);
    clearTimeout(entry.timer);
    const session = await entry.session.catch(() => undefined);
    await session?.context.close().catch(() => {});
    if (this.sessions.size === 0) await this.closeBrowser();
    return true;
  }

  /** Closes every context and the browser (worker shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions.keys()].map((key) => this.closeSession(key)));
    await this.closeBrowser();
  }

  /** How many conversations have a browser context open. */
  get openSessions(): number {
    return this.sessions.size;
  }

  private touch(key: string): void {
    const entry = this.sessions.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void this.closeSession(key), this.options.idleMs());
    entry.timer.unref();
  }

  private async open(key: string): Promise<BrowserSession> {
    const browser = await this.launch();
    const context = await browser.newContext({ serviceWorkers: 'block', acceptDownloads: false });
    const session: BrowserSession = { key, context, page: undefined as unknown as Page, refused: [] };
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      const why = await this.refusal(url);
      if (!why) return route.continue();
      session.refused.push({ url, why });
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket(
      () => true,
      async (ws) => {
        const why = await this.refusal(ws.url());
        if (!why) return ws.connectToServer();
        session.refused.push({ url: ws.url(), why });
        return ws.close({ code: 1008, reason: 'refused by the address policy' });
      },
    );
    session.page = await context.newPage();
    return session;
  }

  /** Why the policy refuses `url`, or undefined when it may be requested. */
  async refusal(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `not a valid URL: ${url}`;
    }
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.href === 'about:blank')
      return undefined;
    if (
      parsed.protocol !== 'http:' &&
      parsed.protocol !== 'https:' &&
      parsed.protocol !== 'ws:' &&
      parsed.protocol !== 'wss:'
    ) {
      return `refused: ${parsed.protocol} URLs are not opened (only http and https)`;
    }
    const policy = this.options.policy();
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (policy.allowPrivate || policy.allowHosts.includes(host)) return undefined;
    try {
      await resolvePublic(host, this.options.lookup ?? systemLookup);
      return undefined;
    } catch (error) {
      if (error instanceof AddressRefused)
        return error.message.replace('web_fetch only reaches', 'the browser only reaches');
      if (error instanceof HostNotFound) return undefined; // Chromium reports it itself (net::ERR_NAME_NOT_RESOLVED)
      throw error;
    }
  }

  private launch(): Promise<Browser> {
    if (!this.browser) {
      const executablePath = this.options.executablePath();
      if (!executablePath) {
        return Promise.reject(
          new BrowserUnavailableError(
            'Chromium was not found: apt-get install chromium (Debian/Ubuntu), or set SWITCHYARD_CHROMIUM=/path/to/chromium',
          ),
        );
      }
      const launching = (async () => {
        try {
          // playwright gives each browser it launches a fresh --user-data-dir, removed on close.
          const browser = await chromium.launch({
            executablePath,
            headless: true,
            args: CHROMIUM_ARGS,
            timeout: 60_000,
          });
          browser.on('disconnected', () => {
            // Crashed or closed: the next action starts a new one.
            if (this.browser === launching) this.browser = undefined;
            for (const entry of this.sessions.values()) clearTimeout(entry.timer);
            this.sessions.clear();
          });
          return browser;
        } catch (error) {
          throw new BrowserUnavailableError(
            `Chromium (${executablePath}) did not start: ${(error as Error).message.split('\n')[0]}`,
          );
        }
      })();
      launching.catch(() => {
        if (this.browser === launching) this.browser = undefined;
      });
      this.browser = launching;
    }
    return this.browser;
  }

  private async closeBrowser(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    if (browser) await (await browser.catch(() => undefined))?.close().catch(() => {});
  }
}
