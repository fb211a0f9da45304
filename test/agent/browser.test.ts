// The browser tool with the system's Chromium, for real: pages served on loopback by the test,
// web_fetch's address policy on the navigation and on every request the page makes, actions by
// ref, screenshots into the media store, a page that never loads, idle contexts closed. Then the
// agent drives it on a real Temporal server (pi-ai's faux provider deciding the calls).
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Context,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  registerFauxProvider,
  type ToolResultMessage,
} from '@mariozechner/pi-ai';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBrowserTool } from '../../activities/agent/builtin-tools/browser.js';
import { type AddressPolicy, BrowserPool } from '../../activities/agent/builtin-tools/browser-pool.js';
import { loadAgentModelsConfig, type ToolCallContext } from '../../activities/agent/index.js';
import { findChromium } from '../../config/chromium.js';
import { BlobStore } from '../../media/blob-store.js';
import type { ToolCallResult } from '../../workflows/agent/agent-api.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { bundleAgentWorkflows, connectClient, startAgentWorker } from './harness.js';

/** A small site on 127.0.0.1 that also references localhost (another name for the same machine). */
async function site() {
  const hits: string[] = [];
  let port = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.push(`${req.headers.host?.split(':')[0]}${url.pathname}`);
    const html = (body: string, title: string) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><title>${title}</title>${body}`);
    switch (url.pathname) {
      case '/':
        return html(
          `<h1>Allotment news</h1><p>The spring seed swap is on Saturday at 10.</p>
           <img src="http://localhost:${port}/tracker.png" alt="">
           <script>fetch('http://localhost:${port}/beacon').catch(() => {})</script>
           <form action="/search"><input name="q" aria-label="Search the site"><button>Search</button></form>
           <a href="/plots">Free plots</a>`,
          'Allotments',
        );
      case '/search':
        return html(`<h1>Results for “${url.searchParams.get('q')}”</h1><p>2 pages found.</p>`, 'Search');
      case '/plots':
        return html(
          '<h1>Free plots</h1><ul><li>Plot 7 (north)</li><li>Plot 12 (by the shed)</li></ul>',
          'Plots',
        );
      case '/to-localhost':
        return res.writeHead(302, { location: `http://localhost:${port}/secret` }).end();
      case '/never':
        return; // never answers
      default:
        return res.writeHead(404).end('gone');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  return { server, hits, base: `http://127.0.0.1:${port}`, port };
}

function ctx(runKey: string): ToolCallContext {
  return {
    toolCallId: 'call',
    runKey,
    idempotencyKey: `turn:agent:main:${runKey}:m/1`,
    attempt: 1,
    signal: new AbortController().signal,
  };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const chromium = findChromium();
const LOOPBACK_ONLY: AddressPolicy = { allowHosts: ['127.0.0.1'], allowPrivate: false };

describe('the browser tool (real Chromium)', () => {
  let web: Awaited<ReturnType<typeof site>>;
  let pool: BrowserPool;
  let media: BlobStore;
  let tool: ReturnType<typeof createBrowserTool>;
  beforeAll(async () => {
    expect(chromium, 'Chromium must be installed (scripts/setup.mjs --test installs it)').toBeDefined();
    web = await site();
    pool = new BrowserPool({
      executablePath: () => chromium,
      policy: () => LOOPBACK_ONLY,
      idleMs: () => 60_000,
    });
    media = new BlobStore({ dir: mkdtempSync(join(tmpdir(), 'switchyard-browser-media-')) });
    tool = createBrowserTool({
      pool,
      sessionOf: (runKey) => runKey,
      settings: () => ({ navigationTimeoutMs: 3_000, maxSnapshotChars: 20_000 }),
      media,
    });
  });
  afterAll(async () => {
    await pool?.close();
    web?.server.close();
  });

  it('opens an allowed page and returns its accessible text, blocking what the page asks of other hosts', async () => {
    const out = String(await tool.execute({ action: 'navigate', url: `${web.base}/` }, ctx('web:a:1')));
    expect(out).toContain('Page: Allotments');
    expect(out).toContain(`URL: ${web.base}/ (status 200)`);
    expect(out).toContain('heading "Allotment news" [level=1]');
    expect(out).toContain('The spring seed swap is on Saturday at 10.');
    expect(out).toMatch(/Blocked \d+ requests? of this page:/);
    expect(out).toContain(
      `http://localhost:${web.port}/tracker.png: refused: localhost resolves to 127.0.0.1, a loopback address`,
    );
    // The page's image and its script's fetch never left the browser.
    expect(web.hits.filter((h) => h.startsWith('localhost'))).toEqual([]);
  });

  it('types into a field and clicks a link by their refs', async () => {
    const page = String(await tool.execute({ action: 'snapshot' }, ctx('web:a:1')));
    const box = /textbox "Search the site" \[ref=((?:f\d+)?e\d+)\]/.exec(page)![1];
    const results = String(
      await tool.execute({ action: 'type', ref: box, text: 'compost', submit: true }, ctx('web:a:1')),
    );
    expect(results).toContain('Page: Search');
    expect(results).toContain('heading "Results for “compost”"');
    await tool.execute({ action: 'navigate', url: `${web.base}/` }, ctx('web:a:1'));
    const again = String(await tool.execute({ action: 'snapshot' }, ctx('web:a:1')));
    const link = /link "Free plots" \[ref=((?:f\d+)?e\d+)\]/.exec(again)![1];
    const plots = String(await tool.execute({ action: 'click', ref: link }, ctx('web:a:1')));
    expect(plots).toContain('Plot 12 (by the shed)');
  });

  it('saves a screenshot to the media store, as a file the answer may send', async () => {
    const result = (await tool.execute({ action: 'screenshot' }, ctx('web:a:1'))) as ToolCallResult;
    const out = result.content.map((c) => ('text' in c ? c.text : '')).join('');
    const sha = /sha256 ([0-9a-f]{64})/.exec(out)![1]!;
    expect(out.split('\n')).toEqual([
      expect.stringMatching(
        /^Screenshot of http:\/\/127\.0\.0\.1:\d+\/plots saved to the media store: sha256 [0-9a-f]{64} \(image\/png, \d+ KiB\)\.$/,
      ),
      `To send it to the chat, put the line "MEDIA: sha256:${sha}" in your answer.`,
    ]);
    expect(result.details).toEqual({
      files: [{ sha256: sha, mime: 'image/png', kind: 'image', name: 'screenshot.png' }],
    });
    const png = readFileSync(media.path(sha));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });

  it('refuses a private address that is not allowed, before and after a redirect, without requesting it', async () => {
    const direct = await failure(
      tool.execute({ action: 'navigate', url: `http://localhost:${web.port}/secret` }, ctx('web:a:1')),
    );
    expect([direct.type, direct.message]).toEqual([
      'BrowserRefused',
      'browser: refused: localhost resolves to 127.0.0.1, a loopback address (the browser only reaches the public internet)',
    ]);
    const lan = await failure(
      tool.execute({ action: 'navigate', url: 'http://192.168.1.1/' }, ctx('web:a:1')),
    );
    expect(lan.message).toContain('192.168.1.1 is a private address');
    const file = await failure(
      tool.execute({ action: 'navigate', url: 'file:///etc/passwd' }, ctx('web:a:1')),
    );
    expect(file.message).toContain('file: URLs are not opened');
    const redirected = await failure(
      tool.execute({ action: 'navigate', url: `${web.base}/to-localhost` }, ctx('web:a:1')),
    );
    expect(redirected.type).toBe('BrowserRefused');
    expect(redirected.message).toContain('localhost resolves to 127.0.0.1');
    expect(web.hits).not.toContain('localhost/secret');
  });

  it('gives up on a page that never loads with a clear error, and the browser still works', async () => {
    const error = await failure(
      tool.execute({ action: 'navigate', url: `${web.base}/never` }, ctx('web:a:1')),
    );
    expect([error.type, error.message]).toEqual([
      'BrowserFailed',
      `browser: ${web.base}/never did not load within 3 s (tools.browser.navigationTimeoutSeconds)`,
    ]);
    const next = String(await tool.execute({ action: 'navigate', url: `${web.base}/plots` }, ctx('web:a:1')));
    expect(next).toContain('Plot 7 (north)');
  });

  it('says to navigate first when the conversation has no page, and keeps conversations apart', async () => {
    const error = await failure(tool.execute({ action: 'snapshot' }, ctx('web:b:1')));
    expect(error.message).toContain('no page is open in this conversation');
    expect(String(await tool.execute({ action: 'close' }, ctx('web:a:1')))).toBe(
      'Closed the browser of this conversation.',
    );
    expect(pool.openSessions).toBe(0);
  });

  it('closes a conversation idle for longer than idleMs, and the browser with its last one', async () => {
    const quick = new BrowserPool({
      executablePath: () => chromium,
      policy: () => LOOPBACK_ONLY,
      idleMs: () => 300,
    });
    const idleTool = createBrowserTool({
      pool: quick,
      sessionOf: (runKey) => runKey,
      settings: () => ({ navigationTimeoutMs: 5_000, maxSnapshotChars: 2_000 }),
    });
    try {
      const out = String(
        await idleTool.execute({ action: 'navigate', url: `${web.base}/plots` }, ctx('web:c:1')),
      );
      expect(out).toContain('Free plots');
      expect(quick.openSessions).toBe(1);
      await expect.poll(() => quick.openSessions, { timeout: 10_000 }).toBe(0);
      const gone = await failure(idleTool.execute({ action: 'snapshot' }, ctx('web:c:1')));
      expect(gone.message).toContain('navigate to a URL first');
    } finally {
      await quick.close();
    }
  });
});

describe('the agent browses (real Temporal, faux model)', () => {
  const address = inject('temporalAddress');
  let faux: FauxProviderRegistration;
  let web: Awaited<ReturnType<typeof site>>;
  let pool: BrowserPool;
  let media: BlobStore;

  beforeAll(async () => {
    web = await site();
    faux = registerFauxProvider({ provider: 'faux-browser' });
    media = new BlobStore({ dir: mkdtempSync(join(tmpdir(), 'switchyard-browser-media-')) });
    pool = new BrowserPool({
      executablePath: () => chromium,
      policy: () => LOOPBACK_ONLY,
      idleMs: () => 60_000,
    });
  });
  afterAll(async () => {
    await pool?.close();
    web?.server.close();
    faux?.unregister();
  });

  it('opens the page the owner names and answers from its text; a private address is refused', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-browser-agent-'));
    mkdirSync(join(home, 'agents', 'main'), { recursive: true });
    const config = loadAgentModelsConfig(
      {
        providers: {
          'faux-browser': {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'm', contextWindow: 32_000 }],
          },
        },
        agents: [{ id: 'main', model: 'faux-browser/m' }],
      },
      { home },
    );
    const results = (c: Context) =>
      c.messages
        .filter((m): m is ToolResultMessage => m.role === 'toolResult')
        .map((m) => ({
          isError: m.isError,
          text: m.content.map((x) => ('text' in x ? x.text : '')).join(''),
        }));
    let seen: Array<{ isError: boolean; text: string }> = [];
    faux.setResponses([
      fauxAssistantMessage([fauxToolCall('browser', { action: 'navigate', url: `${web.base}/` })], {
        stopReason: 'toolUse',
      }),
      fauxAssistantMessage(
        [fauxToolCall('browser', { action: 'navigate', url: `http://localhost:${web.port}/` })],
        {
          stopReason: 'toolUse',
        },
      ),
      (c) => {
        seen = results(c);
        const line = seen[0]!.text.split('\n').find((l) => l.includes('seed swap'))!;
        return fauxAssistantMessage(`The page says: ${line.replace(/^.*: /, '')}`);
      },
    ]);
    const taskQueue = uniqueTaskQueue('browser-agent');
    const client = await connectClient(address);
    const worker = await startAgentWorker({
      address,
      taskQueue,
      bundle: await bundleAgentWorkflows(),
      deps: {
        config,
        tools: [
          createBrowserTool({
            pool,
            sessionOf: (runKey) => runKey,
            settings: () => ({ navigationTimeoutMs: 10_000, maxSnapshotChars: 20_000 }),
            media,
          }),
        ],
      },
    });
    try {
      const result = (await client.workflow.execute('agentTurnWorkflow', {
        taskQueue,
        workflowId: `browser-${taskQueue}`,
        args: [
          {
            args: { prompt: 'What does the allotment site say about the seed swap?' },
          } satisfies AgentTurnWorkflowInput,
        ],
      })) as AgentTurnResult;
      expect(result.text).toBe('The page says: The spring seed swap is on Saturday at 10.');
      expect(seen[0]).toMatchObject({ isError: false, text: expect.stringContaining('Page: Allotments') });
      expect(seen[1]).toEqual({
        isError: true,
        text: 'tool browser failed: browser: refused: localhost resolves to 127.0.0.1, a loopback address (the browser only reaches the public internet)',
      });
      expect(web.hits.filter((h) => h.startsWith('localhost'))).toEqual([]);

      // A screenshot the agent takes can go to the chat: its MEDIA line becomes a file of the
      // answer (sent after the text, as the message's own files are); a made-up one does not.
      let shot = '';
      faux.setResponses([
        fauxAssistantMessage([fauxToolCall('browser', { action: 'navigate', url: `${web.base}/` })], {
          stopReason: 'toolUse',
        }),
        fauxAssistantMessage([fauxToolCall('browser', { action: 'screenshot' })], { stopReason: 'toolUse' }),
        (c) => {
          shot = /MEDIA: sha256:([0-9a-f]{64})/.exec(results(c)[1]!.text)![1]!;
          return fauxAssistantMessage(
            `Here is the page.\nMEDIA: sha256:${shot}\nMEDIA: sha256:${'0'.repeat(64)}`,
          );
        },
      ]);
      const withShot = (await client.workflow.execute('agentTurnWorkflow', {
        taskQueue,
        workflowId: `browser-shot-${taskQueue}`,
        args: [{ args: { prompt: 'Show me the allotment page.' } } satisfies AgentTurnWorkflowInput],
      })) as AgentTurnResult;
      expect(withShot.text).toBe('Here is the page.');
      expect(withShot.media).toEqual([
        { sha256: shot, mime: 'image/png', kind: 'image', name: 'screenshot.png' },
      ]);
      expect(readFileSync(media.path(shot)).subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    } finally {
      await worker.shutdown();
    }
  });
});
