/**
 * A fake model at the wire: node:http on 127.0.0.1:0 answering OpenAI's `POST /v1/chat/completions`
 * with a fixed short answer streamed as server-sent events in a few chunks, with no artificial
 * delay, so a turn's latency is Switchyard's own overhead. (The tests have their own server in
 * test/agent/wire-servers.ts; the bench does not import from test/.)
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What every model call answers; the bench checks each turn's reply against it. */
export const FAKE_ANSWER = 'Benchmark answer: streamed in a few chunks.';

export interface FakeModel {
  /** http://127.0.0.1:<port> (the provider's baseUrl is this plus `/v1`). */
  url: string;
  /** Chat-completions requests answered so far (one per model call). */
  calls(): number;
  close(): Promise<void>;
}

const live = new Set<FakeModel>();

/** Closes every fake model server still listening (run.ts calls it on every way out). */
export async function stopFakeModels(): Promise<void> {
  await Promise.all([...live].map((m) => m.close().catch(() => {})));
}

function chunks(text: string, count: number): string[] {
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function streamAnswer(res: ServerResponse, model: string, answer: string): void {
  const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const pieces = chunks(answer, 4);
  const events: unknown[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...pieces.map((content) => ({
      ...base,
      choices: [{ index: 0, delta: { content }, finish_reason: null }],
    })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    {
      ...base,
      choices: [],
      usage: { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length },
    },
  ];
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // One write per SSE event, so the client really sees several chunks.
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
}

export interface FakeModelOptions {
  /** The answer to a request whose last user message is `prompt` (default: FAKE_ANSWER always). */
  answer?(prompt: string): string;
  /** Milliseconds to wait before answering each request (default: none). */
  delayMs?(): number;
}

/** The text of the last user message of a chat-completions body ('' when there is none). */
function lastUserText(body: unknown): string {
  const messages = (body as { messages?: Array<{ role?: string; content?: unknown }> })?.messages ?? [];
  const last = messages.filter((m) => m.role === 'user').at(-1)?.content;
  if (typeof last === 'string') return last;
  if (Array.isArray(last))
    return last.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
  return '';
}

export async function startFakeModel(options: FakeModelOptions = {}): Promise<FakeModel> {
  let calls = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      if (req.method !== 'POST' || !(req.url ?? '').endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'error' } }));
        return;
      }
      let model = 'unknown';
      let body: unknown;
      try {
        body = JSON.parse(raw);
        model = String((body as { model?: unknown }).model ?? model);
      } catch {
        // the default answer does not depend on the body
      }
      calls++;
      const answer = options.answer ? options.answer(lastUserText(body)) : FAKE_ANSWER;
      const delay = options.delayMs?.() ?? 0;
      if (delay > 0) setTimeout(() => streamAnswer(res, model, answer), delay);
      else streamAnswer(res, model, answer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const model: FakeModel = {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        live.delete(model);
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
  live.add(model);
  return model;
}

/** The switchyard.yaml of the shared stack: one agent `main` on the fake model, one session per conversation. */
export function benchConfigYaml(model: FakeModel): string {
  return wireModelYaml(model.url);
}

/**
 * A switchyard.yaml whose agent `main` answers with the OpenAI-compatible server at `url` (model
 * `wire/w1`), one session per conversation, plus `extra` lines (more top-level keys).
 */
export function wireModelYaml(url: string, extra: string[] = []): string {
  return [
    'providers:',
    '  wire:',
    '    type: openai-compatible',
    `    baseUrl: "${url}/v1"`,
    '    apiKey: none',
    '    models: [{ id: w1, contextWindow: 16000 }]',
    'agents:',
    '  - id: main',
    '    model: wire/w1',
    'session:',
    '  dmScope: per-channel-peer',
    ...extra,
    '',
  ].join('\n');
}
