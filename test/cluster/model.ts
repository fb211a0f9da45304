/**
 * The model for the cluster tier, at OpenAI's wire protocol (streamed chat completions): it
 * answers `Echo: <last user message>` after `delayMs`, and tells which worker asked — each
 * worker's switchyard.yaml points at its own path prefix (`/<worker>/v1`) — so a test can
 * SIGKILL exactly the worker that is in the middle of a model call.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelCall {
  worker: string;
  prompt: string;
}

export interface ClusterModel {
  url: string;
  calls: ModelCall[];
  /** Called on every request before it is answered; the answer waits for the returned promise. */
  onCall(hook: ((call: ModelCall, index: number) => Promise<void> | undefined) | undefined): void;
  /** switchyard.yaml lines for a worker named `worker`. */
  yaml(worker: string, extra?: string[]): string;
  close(): Promise<void>;
}

export const answerTo = (prompt: string) => `Echo: ${prompt}`;

function lastUserText(body: { messages?: Array<{ role: string; content: unknown }> }): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content as Array<{ type: string; text?: string }>)
    .filter((p) => p.type === 'text')
    .map((p) => p.text ?? '')
    .join('');
}

function stream(res: ServerResponse, text: string): void {
  const base = {
    id: 'chatcmpl-cluster',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'w1',
  };
  const half = Math.ceil(text.length / 2);
  const events = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: text.slice(0, half) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: text.slice(half) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } },
  ];
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
  res.end('data: [DONE]\n\n');
}

export async function startClusterModel(delayMs = 200): Promise<ClusterModel> {
  const calls: ModelCall[] = [];
  let hook: ((call: ModelCall, index: number) => Promise<void> | undefined) | undefined;
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const worker = (req.url ?? '').split('/')[1] ?? '';
    const call = { worker, prompt: lastUserText(raw ? JSON.parse(raw) : {}) };
    calls.push(call);
    const wait = hook?.(call, calls.length - 1);
    await new Promise((r) => setTimeout(r, delayMs));
    if (wait) await wait;
    if (res.destroyed) return;
    stream(res, answerTo(call.prompt));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    onCall(next) {
      hook = next;
    },
    yaml(worker, extra = []) {
      return [
        'providers:',
        '  wire:',
        '    type: openai-compatible',
        `    baseUrl: "${url}/${worker}/v1"`,
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
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
