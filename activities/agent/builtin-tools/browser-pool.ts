/**
 * The browsers of one worker process: one headless Chromium (the system's, found on PATH, started
 * on first use), one browser context per conversation (its own cookies and pages, closed after
 * `idleMs` without an action), the browser closed when the last context is and on worker
 * shutdown. Every request a page makes — the navigation, each redirect, image, script, frame,
 * fetch and WebSocket — leaves through the context's guard proxy (browser-proxy.ts), which
 * applies web_fetch's address policy: a page on the public internet cannot make the browser reach
 * the home network unless the owner allowed that host.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  AddressRefused,
  HostNotFound,
  type LookupAll,
  type ResolvedAddress,
  resolveAll,
  resolvePublic,
  systemLookup,
} from './address-policy.js';
import { type GuardProxy, startGuardProxy } from './browser-proxy.js';

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

/** One conversation's browser: its context, its page, and what did not get through lately. */
export interface BrowserSession {
  key: string;
  context: BrowserContext;
  page: Page;
  /** Requests the policy refused (URL and why), reported to the model; cleared at each action. */
  refused: Array<{ url: string; why: string }>;
  /** Requests that failed in the proxy for other reasons (a name that does not resolve…). */
  failed: Array<{ url: string; why: string }>;
}

/** No Chromium, or it would not start. */
export class BrowserUnavailableError extends Error {
  override readonly name = 'BrowserUnavailableError';
}

/**
 * Chromium's background traffic (updates, sync, field trials) is noise on a closed network and a
 * leak on an open one; QUIC and WebRTC's direct UDP would not go through the proxy.
 */
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

interface SessionEntry {
  session: Promise<BrowserSession>;
  proxy?: GuardProxy;
  timer?: NodeJS.Timeout;
  /** Actions running now: the idle clock waits for them. */
  busy: number;
}

export class BrowserPool {
  private browser: Promise<Browser> | undefined;
  private readonly sessions = new Map<string, SessionEntry>();
  private closed = false;

  constructor(private readonly options: BrowserPoolOptions) {}

  /**
   * Runs `action` with the conversation's session, opened first — unless `mustExist`: then the
   * action gets undefined when none is open. The idle clock stops while an action runs.
   */
  async use<T>(
    key: string,
    mustExist: boolean,
    action: (session: BrowserSession | undefined) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new BrowserUnavailableError('the worker is shutting down');
    let entry = this.sessions.get(key);
    if (!entry && mustExist) return action(undefined);
    if (!entry) {
      const created: SessionEntry = { session: this.open(key, (proxy) => (created.proxy = proxy)), busy: 0 };
      entry = created;
      this.sessions.set(key, created);
      created.session.catch(() => {
        if (this.sessions.get(key) === created) this.sessions.delete(key);
      });
    }
    const current = entry;
    current.busy++;
    clearTimeout(current.timer);
    try {
      return await action(await current.session);
    } finally {
      current.busy--;
      if (current.busy === 0 && this.sessions.get(key) === current) {
        current.timer = setTimeout(() => void this.closeSession(key), this.options.idleMs());
        current.timer.unref();
      }
    }
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
    await entry.proxy?.close();
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

  /** Why the policy refuses `url` (checked before a navigation), or undefined when it may be opened. */
  async refusal(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `not a valid URL: ${url}`;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return `refused: ${parsed.protocol} URLs are not opened (only http and https)`;
    }
    try {
      await this.check(parsed.hostname);
      return undefined;
    } catch (error) {
      if (error instanceof AddressRefused) return browserWords(error.message);
      if (error instanceof HostNotFound) return undefined; // the navigation says so itself
      throw error;
    }
  }

  private async open(key: string, onProxy: (proxy: GuardProxy) => void): Promise<BrowserSession> {
    const browser = await this.launch();
    const refused: BrowserSession['refused'] = [];
    const failed: BrowserSession['failed'] = [];
    const proxy = await startGuardProxy({
      check: (host) => this.check(host),
      isRefusal: (error) => error instanceof AddressRefused,
      onBlocked: (url, why, isRefusal) =>
        (isRefusal ? refused : failed).push({ url, why: browserWords(why) }),
    });
    onProxy(proxy);
    // Chromium skips a proxy for loopback unless told `<-loopback>`; then nothing bypasses it.
    const context = await browser.newContext({
      proxy: { server: proxy.url, bypass: '<-loopback>' },
      serviceWorkers: 'block',
      acceptDownloads: false,
    });
    return { key, context, page: await context.newPage(), refused, failed };
  }

  /** The addresses `host` may be reached at under the policy; AddressRefused when it may not. */
  private check(host: string): Promise<ResolvedAddress[]> {
    const policy = this.options.policy();
    const name = host.replace(/^\[|\]$/g, '').toLowerCase();
    const lookup = this.options.lookup ?? systemLookup;
    return policy.allowPrivate || policy.allowHosts.includes(name)
      ? resolveAll(name, lookup)
      : resolvePublic(name, lookup);
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
          // playwright-core loads with the first browser action, not with every worker (issue 13).
          const { chromium } = await import('playwright-core');
          const browser = await chromium.launch({
            executablePath,
            headless: true,
            args: CHROMIUM_ARGS,
            timeout: 60_000,
          });
          browser.on('disconnected', () => {
            // Crashed or closed: the next action starts a new one.
            if (this.browser === launching) this.browser = undefined;
            for (const entry of this.sessions.values()) {
              clearTimeout(entry.timer);
              void entry.proxy?.close();
            }
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

/** The policy's words, said of the browser. */
function browserWords(why: string): string {
  return why.replace('web_fetch only reaches', 'the browser only reaches');
}
