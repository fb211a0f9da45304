import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  registerFauxProvider,
} from '@mariozechner/pi-ai';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createMessageTool,
  createSessionsHistoryTool,
  createWebFetchTool,
  type FetchLike,
  htmlToText,
  type LookupAll,
  type MessageSendInput,
  type WebFetchResult,
  webFetch,
} from '../../activities/agent/builtin-tools/index.js';
import { loadAgentModelsConfig, type ToolCallContext } from '../../activities/agent/index.js';
import { BlobStore } from '../../media/blob-store.js';
import { sniff } from '../../media/sniff.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { bundleAgentWorkflows, connectClient, scheduledByType, startAgentWorker } from './harness.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kelp Farming &amp; You</title>
  <style>body { color: red }</style>
  <script>window.tracking = "<p>not content</p>";</script>
</head>
<body>
  <nav><ul><li><a href="/">Home</a></li><li><a href="/shop">Shop</a></li></ul></nav>
  <main>
    <h1>Kelp farming</h1>
    <p>Kelp grows up to <b>60&nbsp;cm</b> a day &mdash; see the
       <a href="/guide?x=1&amp;y=2">growing guide</a> or
       <a href="https://example.org/faq">example.org/faq</a>.</p>
    <h2>What you need</h2>
    <ul>
      <li>Rope
      <li>Spores &lt;fresh&gt;</li>
      <li>A boat<ul><li>small is fine</li></ul></li>
    </ul>
    <ol><li>Seed the rope</li><li>Wait</li></ol>
    <table><tr><th>Month</th><th>Yield</th></tr><tr><td>May</td><td>4 t</td></tr></table>
    <pre>
line one
  indented</pre>
    <p hidden>secret draft</p>
    <p>Caf&eacute; &#8364;5 &#x1F980;<br>second line</p>
  </main>
  <noscript>Enable JavaScript</noscript>
</body>
</html>`;

/** A local HTTP server whose routes answer as given; `base` is its http://127.0.0.1:port. */
async function serve(
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>,
): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such page');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function callContext(overrides: Partial<ToolCallContext> = {}): ToolCallContext {
  return {
    toolCallId: 'call-1',
    runKey: 'telegram:42:1001',
    idempotencyKey: 'message-wf/7',
    attempt: 1,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** What the tool throws, as the model would read it. */
async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const PUBLIC_IP = '93.184.215.14';

describe('web_fetch', () => {
  let site: { server: Server; base: string };
  let streamedBytes = 0;

  beforeAll(async () => {
    site = await serve({
      '/page': (_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE),
      '/gzip': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
          .end(gzipSync('<h1>Packed</h1><p>unzipped &amp; read</p>')),
      '/latin1': (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' })
          .end(Buffer.from('Grüße', 'latin1')),
      '/hop1': (_req, res) => res.writeHead(302, { location: '/hop2' }).end(),
      '/hop2': (_req, res) => res.writeHead(301, { location: '/page' }).end(),
      '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
      '/image': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(1000)),
      '/huge': (_req, res) => {
        // 8 MiB offered in 64 KiB chunks; the fetch must stop reading long before the end.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = 'k'.repeat(64 * 1024);
        let sent = 0;
        const push = () => {
          while (sent < 128) {
            sent++;
            streamedBytes += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', push);
          }
          res.end();
        };
        push();
      },
      '/slow': () => {
        // Never answers.
      },
    });
  });
  afterAll(() => {
    site?.server.closeAllConnections();
    site?.server.close();
  });

  it('turns a realistic HTML page into readable text: headings, paragraphs, lists, links with URLs, no chrome', async () => {
    const result = await webFetch(`${site.base}/page`, { allowPrivate: true });
    expect(result).toMatchObject({
      url: `${site.base}/page`,
      status: 200,
      contentType: 'text/html; charset=utf-8',
      title: 'Kelp Farming & You',
      truncated: false,
    });
    expect(result.text).toBe(
      [
        '# Kelp farming',
        '',
        `Kelp grows up to 60 cm a day — see the growing guide (${site.base}/guide?x=1&y=2) or example.org/faq (https://example.org/faq).`,
        '',
        '## What you need',
        '',
        '- Rope',
        '- Spores <fresh>',
        '- A boat',
        '  - small is fine',
        '',
        '1. Seed the rope',
        '2. Wait',
        '',
        'Month | Yield',
        'May | 4 t',
        '',
        'line one',
        '  indented',
        '',
        'Café €5 🦀',
        'second line',
      ].join('\n'),
    );
    for (const chrome of [
      'tracking',
      'not content',
      'color: red',
      'Home',
      'Shop',
      'secret draft',
      'Enable JavaScript',
    ]) {
      expect(result.text).not.toContain(chrome);
    }
  });

  it('tolerates broken markup, and reads hostile markup as bare text', () => {
    expect(htmlToText('<p>one<p>two<div>three</span></div>four <b>bold').text).toBe(
      'one\n\ntwo\n\nthree\nfour bold',
    );
    expect(htmlToText('<p>kept</p><a href="x>never closed').text).toBe('kept');
    // Nesting that would cost the parser the depth of the stack for every tag is not parsed.
    expect(htmlToText(`${'<div>'.repeat(100_000)}${'</x>'.repeat(100_000)}end`).text).toBe('end');
    expect(htmlToText(`<title>Deep</title>${'<ul><li>'.repeat(20_000)}deepest &amp; last`).text).toBe(
      'Deep deepest & last',
    );
    expect(htmlToText("<a '".repeat(100_000)).text).toBe('');
    expect(htmlToText(`</${'a'.repeat(500_000)}`).text).toBe('');
  });

  it('decompresses gzip bodies and honours the declared charset', async () => {
    expect((await webFetch(`${site.base}/gzip`, { allowPrivate: true })).text).toBe(
      '# Packed\n\nunzipped & read',
    );
    expect((await webFetch(`${site.base}/latin1`, { allowPrivate: true })).text).toBe('Grüße');
  });

  it('follows redirects (reporting the final URL) but no more than 5', async () => {
    const result = await webFetch(`${site.base}/hop1`, { allowPrivate: true });
    expect(result.url).toBe(`${site.base}/page`);
    expect(result.title).toBe('Kelp Farming & You');
    await expect(webFetch(`${site.base}/loop`, { allowPrivate: true })).rejects.toThrow(
      /too many redirects \(more than 5\)/,
    );
  });

  it('reports 404s and non-text content to the model instead of failing', async () => {
    expect(await webFetch(`${site.base}/missing`, { allowPrivate: true })).toMatchObject({
      status: 404,
      text: 'no such page',
    });
    const image = await webFetch(`${site.base}/image`, { allowPrivate: true });
    expect(image.text).toBe('[image/png content is not text; web_fetch returns only text and HTML]');
  });

  it('stops reading at maxBytes while streaming and says the text was truncated', async () => {
    const result = await webFetch(`${site.base}/huge`, {
      allowPrivate: true,
      maxBytes: 100_000,
      maxChars: 500_000,
    });
    expect(result.truncated).toBe(true);
    expect(result.text).toBe(
      `${'k'.repeat(100_000)}\n\n[truncated: the body is larger than 97.7 KiB; only the first part was read]`,
    );
    // The server was cut off: far fewer than the 8 MiB it offered were ever produced.
    await new Promise((r) => setTimeout(r, 100));
    expect(streamedBytes).toBeLessThan(4 * 1024 * 1024);

    const short = await webFetch(`${site.base}/page`, { allowPrivate: true, maxChars: 20 });
    expect(short.truncated).toBe(true);
    expect(short.text).toBe('# Kelp farming\n\nKelp\n\n[truncated: the text was cut at 20 characters]');
  });

  it('gives up after timeoutMs with a retryable error', async () => {
    const tool = createWebFetchTool({ allowPrivate: true, timeoutMs: 300 });
    const failure = await failureOf(tool.execute({ url: `${site.base}/slow` }, callContext()));
    expect(failure.message).toBe(`timed out after 0.3 s fetching ${site.base}/slow`);
    expect(failure.nonRetryable).toBe(false);
  });

  it('returns url, status, contentType, title, text and truncated as JSON text for the model', async () => {
    const tool = createWebFetchTool({ allowPrivate: true });
    const out = await tool.execute({ url: `${site.base}/gzip` }, callContext());
    expect(JSON.parse(out as string) as WebFetchResult).toEqual({
      url: `${site.base}/gzip`,
      status: 200,
      contentType: 'text/html',
      text: '# Packed\n\nunzipped & read',
      truncated: false,
    });
  });

  describe('by default reaches only the public internet', () => {
    const tool = createWebFetchTool();
    const refusal = async (url: string, tool_ = tool) => {
      const failure = await failureOf(tool_.execute({ url }, callContext()));
      expect(failure.nonRetryable).toBe(true);
      return failure.message;
    };

    it('refuses loopback, private, link-local, CGNAT, unique-local and unspecified addresses', async () => {
      const suffix = '(web_fetch only reaches the public internet)';
      expect(await refusal(`${site.base}/page`)).toBe(`refused: 127.0.0.1 is a loopback address ${suffix}`);
      expect(await refusal('http://[::1]/')).toBe(`refused: ::1 is a loopback address ${suffix}`);
      expect(await refusal('http://10.0.0.1/')).toBe(`refused: 10.0.0.1 is a private address ${suffix}`);
      expect(await refusal('http://172.20.1.1/')).toBe(`refused: 172.20.1.1 is a private address ${suffix}`);
      expect(await refusal('http://192.168.1.1/')).toBe(
        `refused: 192.168.1.1 is a private address ${suffix}`,
      );
      expect(await refusal('http://169.254.169.254/latest/meta-data')).toBe(
        `refused: 169.254.169.254 is a link-local address ${suffix}`,
      );
      expect(await refusal('http://100.100.1.1/')).toMatch(/carrier-grade NAT/);
      expect(await refusal('http://[fd00::1]/')).toMatch(/unique-local IPv6/);
      expect(await refusal('http://[fe80::1]/')).toMatch(/link-local/);
      expect(await refusal('http://0.0.0.0:8080/')).toMatch(/the unspecified address/);
      // Other spellings of loopback: decimal, hex, IPv4-mapped IPv6.
      expect(await refusal('http://2130706433/')).toMatch(/^refused: 127\.0\.0\.1 is a loopback/);
      expect(await refusal('http://0x7f.1/')).toMatch(/^refused: 127\.0\.0\.1 is a loopback/);
      expect(await refusal('http://[::ffff:127.0.0.1]/')).toMatch(/loopback/);
    });

    it('refuses a host name that resolves to loopback (localhost) or has any private address', async () => {
      const port = new URL(site.base).port;
      expect(await refusal(`http://localhost:${port}/page`)).toMatch(
        /^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
      );
      const lookup: LookupAll = async () => [
        { address: PUBLIC_IP, family: 4 },
        { address: '10.1.2.3', family: 4 },
      ];
      expect(await refusal('http://mixed.example/', createWebFetchTool({ lookup }))).toBe(
        'refused: mixed.example resolves to 10.1.2.3, a private address (web_fetch only reaches the public internet)',
      );
    });

    it('reaches a host the owner allowed (tools.webFetch.allowHosts) on loopback, and nothing else private', async () => {
      const port = new URL(site.base).port;
      const tool = createWebFetchTool({ allowHosts: ['localhost'] });
      const ctx = {
        toolCallId: 't',
        runKey: 'r',
        idempotencyKey: 'i',
        attempt: 1,
        signal: new AbortController().signal,
      };
      const page = await tool.execute({ url: `http://LOCALHOST:${port}/page` }, ctx);
      expect(String(page)).toMatch(/"status": 200/);
      expect(await refusal(`http://127.0.0.1:${port}/page`, tool)).toMatch(
        /^refused: 127\.0\.0\.1 is a loopback/,
      );
      expect(await refusal('http://10.0.0.1/', tool)).toMatch(/^refused: 10\.0\.0\.1 is a private address/);
    });

    it('refuses a redirect from a public host to a loopback address, without fetching it', async () => {
      const requested: string[] = [];
      const fetch: FetchLike = async (url) => {
        requested.push(url);
        return new Response(null, { status: 302, headers: { location: `${site.base}/page` } });
      };
      const lookup: LookupAll = async () => [{ address: PUBLIC_IP, family: 4 }];
      const message = await refusal('https://public.example/start', createWebFetchTool({ fetch, lookup }));
      expect(message).toBe(
        'refused: 127.0.0.1 is a loopback address (web_fetch only reaches the public internet) ' +
          `(redirected to ${site.base}/page)`,
      );
      expect(requested).toEqual(['https://public.example/start']);
    });

    it('connects only to the addresses it checked (a name that turns into 127.0.0.1 after the check is refused)', async () => {
      let lookups = 0;
      const rebinding: LookupAll = async () => [
        { address: lookups++ === 0 ? PUBLIC_IP : '127.0.0.1', family: 4 },
      ];
      const port = new URL(site.base).port;
      expect(
        await refusal(`http://rebind.example:${port}/page`, createWebFetchTool({ lookup: rebinding })),
      ).toBe(
        'refused: rebind.example resolves to 127.0.0.1, a loopback address (web_fetch only reaches the public internet)',
      );
      expect(lookups).toBe(2);
    });

    it('refuses schemes other than http and https', async () => {
      expect(await refusal('file:///etc/passwd')).toBe(
        'refused: file: URLs are not fetched; web_fetch only does HTTP(S) GET',
      );
      expect(await refusal('not a url')).toBe('not a valid URL: not a url');
    });
  });
});

describe('message', () => {
  const allowed = [
    { channel: 'telegram', chat: '123', name: 'Mum' },
    { channel: 'telegram', chat: '-100200', accountId: 'work', name: 'Team' },
  ];

  it('sends to an allowed chat (by id or name) with the tool call idempotency key', async () => {
    const sent: MessageSendInput[] = [];
    const tool = createMessageTool({
      send: async (input) => {
        sent.push(input);
        return { messageIds: ['9001'] };
      },
      allowedChats: () => allowed,
    });
    const ctx = callContext({ idempotencyKey: 'turn:agent:main:main:5/12' });
    expect(await tool.execute({ channel: 'telegram', chat: '123', text: 'Dinner at 7?' }, ctx)).toBe(
      'Sent to telegram chat 123 "Mum" (1 message).',
    );
    // A retry of the same call carries the same key: the outbox posts it once.
    await tool.execute({ channel: 'Telegram', chat: 'team', text: 'Standup moved' }, { ...ctx, attempt: 2 });
    expect(sent).toEqual([
      {
        channel: 'telegram',
        accountId: 'default',
        chatId: '123',
        text: 'Dinner at 7?',
        idempotencyKey: 'turn:agent:main:main:5/12',
      },
      {
        channel: 'telegram',
        accountId: 'work',
        chatId: '-100200',
        text: 'Standup moved',
        idempotencyKey: 'turn:agent:main:main:5/12',
      },
    ]);
  });

  it('refuses a chat that is not allowed, naming the allowed ones, and sends nothing', async () => {
    let sends = 0;
    const tool = createMessageTool({
      send: async () => {
        sends++;
        return { messageIds: [] };
      },
      allowedChats: async () => allowed,
    });
    const failure = await failureOf(
      tool.execute({ channel: 'telegram', chat: '999', text: 'hi' }, callContext()),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      "refused: telegram chat '999' is not one of the owner's chats you may message (allowed: telegram chat 123 " +
        '"Mum", telegram chat -100200 "Team" (account work)). The owner can allow it in switchyard.yaml.',
    );
    const wrongChannel = await failureOf(
      tool.execute({ channel: 'whatsapp', chat: '123', text: 'hi' }, callContext()),
    );
    expect(wrongChannel.message).toMatch(/^refused: whatsapp chat '123'/);
    expect(sends).toBe(0);
  });

  it('sends files from the media store by id, typed by their bytes, and refuses an id it does not hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-message-files-'));
    try {
      const store = new BlobStore({ dir });
      const png = Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
        'base64',
      );
      const { sha256 } = await store.put(png, 'image');
      const sent: MessageSendInput[] = [];
      const tool = createMessageTool({
        send: async (input) => {
          sent.push(input);
          return { messageIds: ['1', '2'] };
        },
        allowedChats: () => allowed,
        storedFile: async (sha) => {
          if (!(await store.stat(sha))) return undefined;
          const found = await sniff(await store.head(sha));
          return {
            sha256: sha,
            mime: found?.mime ?? 'application/octet-stream',
            kind: found?.kind ?? 'file',
          };
        },
      });
      expect(
        await tool.execute({ channel: 'telegram', chat: 'Mum', media: [`sha256:${sha256}`] }, callContext()),
      ).toBe('Sent to telegram chat 123 "Mum" (2 messages).');
      expect(sent).toEqual([
        expect.objectContaining({
          chatId: '123',
          text: '',
          media: [{ sha256, mime: 'image/png', kind: 'image' }],
        }),
      ]);
      const unknown = await failureOf(
        tool.execute(
          { channel: 'telegram', chat: 'Mum', text: 'look', media: ['sha256:' + 'f'.repeat(64)] },
          callContext(),
        ),
      );
      expect(unknown.type).toBe('MessageFileRefused');
      expect(unknown.message).toMatch(/no file 'sha256:f{64}' in the media store/);
      const empty = await failureOf(
        tool.execute({ channel: 'telegram', chat: 'Mum', text: ' ' }, callContext()),
      );
      expect(empty.type).toBe('EmptyMessage');
      expect(sent).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sessions_history', () => {
  const transcript = Array.from({ length: 30 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    text: `message ${i}`,
    at: Date.UTC(2026, 0, 2, 10, i),
  }));
  const asked: string[] = [];
  const tool = createSessionsHistoryTool({
    history: async (key) => {
      asked.push(key);
      if (key === 'agent:main:gone') {
        throw Object.assign(new Error("no open session 'agent:main:gone'"), { name: 'SessionNotFoundError' });
      }
      return { transcript, summary: key === 'agent:main:main' ? 'They talked about kelp.' : '' };
    },
    currentSession: (runKey) => (runKey.startsWith('telegram:') ? 'agent:main:main' : undefined),
  });

  it('returns the most recent messages of the current session, oldest first, with the summary', async () => {
    const out = await tool.execute({ limit: 3 }, callContext());
    expect(out).toBe(
      [
        'Session agent:main:main: the last 3 of 30 messages, oldest first.',
        'Summary of earlier conversation: They talked about kelp.',
        '[2026-01-02 10:27Z] assistant: message 27',
        '[2026-01-02 10:28Z] user: message 28',
        '[2026-01-02 10:29Z] assistant: message 29',
      ].join('\n'),
    );
    expect(asked.at(-1)).toBe('agent:main:main');
  });

  it('defaults to 20 messages and reads another session when asked', async () => {
    const out = (await tool.execute({ sessionKey: 'agent:main:telegram:direct:7' }, callContext())) as string;
    expect(out.split('\n')).toHaveLength(21);
    expect(out).toMatch(/^Session agent:main:telegram:direct:7: the last 20 of 30 messages/);
    expect(asked.at(-1)).toBe('agent:main:telegram:direct:7');
  });

  it('fails clearly for a turn without a session or an unknown session', async () => {
    const none = await failureOf(tool.execute({}, callContext({ runKey: 'cron:daily:wf' })));
    expect(none.message).toBe('sessions_history: this turn belongs to no session; pass sessionKey');
    const gone = await failureOf(tool.execute({ sessionKey: 'agent:main:gone' }, callContext()));
    expect([gone.message, gone.nonRetryable]).toEqual(["no open session 'agent:main:gone'", true]);
  });
});

describe('web_fetch in an agent turn on a real Temporal server', () => {
  const address = inject('temporalAddress');
  let bundle: WorkflowBundle;
  let client: Client;
  let faux: FauxProviderRegistration;
  let site: { server: Server; base: string };

  beforeAll(async () => {
    [bundle, client, site] = await Promise.all([
      bundleAgentWorkflows(),
      connectClient(address),
      serve({
        '/menu': (_req, res) =>
          res
            .writeHead(200, { 'content-type': 'text/html' })
            .end('<title>Menu</title><nav>Home</nav><h1>Today</h1><p>Kelp soup, 4 &euro;</p>'),
      }),
    ]);
    faux = registerFauxProvider({ provider: 'faux' });
  });
  afterAll(() => {
    faux?.unregister();
    site?.server.close();
  });

  it('runs web_fetch as its own activity and the model answers from the page', async () => {
    const taskQueue = uniqueTaskQueue('agent-web-fetch');
    const config = loadAgentModelsConfig(
      {
        providers: {
          faux: {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'faux-1', contextWindow: 8000 }],
          },
        },
        agents: [{ id: 'main', model: { primary: 'faux/faux-1', contextReserve: 2000 } }],
      },
      { home: mkdtempSync(join(tmpdir(), 'switchyard-builtin-')) },
    );
    faux.setResponses([
      fauxAssistantMessage([fauxToolCall('web_fetch', { url: `${site.base}/menu` })], {
        stopReason: 'toolUse',
      }),
      (context) => {
        const result = context.messages.find((m) => m.role === 'toolResult');
        const block = result?.role === 'toolResult' ? result.content[0] : undefined;
        const page = JSON.parse(block?.type === 'text' ? block.text : '{}') as Partial<WebFetchResult>;
        return fauxAssistantMessage(`From "${page.title}": ${page.text?.split('\n').at(-1)}`);
      },
    ]);
    const worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: { config, tools: [createWebFetchTool({ allowPrivate: true })] },
    });
    try {
      const handle = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `agent-web-fetch-${taskQueue}`,
        args: [{ args: { prompt: "What's on the menu today?" } } satisfies AgentTurnWorkflowInput],
      });
      const result = (await handle.result()) as AgentTurnResult;
      expect(result.text).toBe('From "Menu": Kelp soup, 4 €');
      const events = (await handle.fetchHistory()).events ?? [];
      expect(scheduledByType(events, { local: true })).toEqual({
        agentPrepareTurn: 1,
        agentModelCall: 2,
        agentToolCall: 1,
      });
      expect(result.usage.toolCalls).toBe(1);
    } finally {
      await worker.shutdown();
    }
  });
});
