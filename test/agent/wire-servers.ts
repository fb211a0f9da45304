/**
 * Fake LLM providers at the wire: node:http on 127.0.0.1:0 speaking the OpenAI
 * chat-completions and Anthropic Messages streaming protocols with real SSE framing, so pi-ai
 * and the vendor SDKs run unmodified against them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WireRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: { model?: string; [key: string]: unknown };
}

/**
 * What to answer: streamed text, streamed tool calls (OpenAI only), an HTTP error with a JSON
 * body, or nothing at all (`hold`: the request stays open until the server closes).
 */
export type WireReply =
  | { text: string; chunk?: number }
  | { toolCalls: Array<{ id: string; name: string; arguments: Record<string, unknown> }> }
  | { status: number; message: string }
  | { hold: true };

export interface WireServer {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: WireRequest[];
  close(): Promise<void>;
}

type Protocol = 'openai' | 'anthropic';

export async function startWireServer(
  protocol: Protocol,
  reply: (request: WireRequest, index: number) => WireReply,
): Promise<WireServer> {
  const requests: WireRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const request: WireRequest = {
      path: req.url ?? '',
      headers: req.headers,
      body: raw ? JSON.parse(raw) : {},
    };
    requests.push(request);
    const answer = reply(request, requests.length - 1);
    if ('hold' in answer) return;
    if ('status' in answer) {
      const body =
        protocol === 'openai'
          ? { error: { message: answer.message, type: 'error', code: null } }
          : { type: 'error', error: { type: 'api_error', message: answer.message } };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const model = request.body.model ?? 'unknown';
    if ('toolCalls' in answer) {
      if (protocol !== 'openai') throw new Error('wire-servers: tool calls are only spoken as OpenAI');
      await streamOpenAIToolCalls(res, model, answer.toolCalls);
    } else {
      const pieces = split(answer.text, answer.chunk ?? 4);
      if (protocol === 'openai') await streamOpenAI(res, model, pieces);
      else await streamAnthropic(res, model, pieces);
    }
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function split(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

async function send(res: ServerResponse, data: unknown, event?: string): Promise<void> {
  res.write(
    `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
  );
  await tick();
}

async function streamOpenAI(res: ServerResponse, model: string, pieces: string[]): Promise<void> {
  const base = { id: 'chatcmpl-wire', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  await send(res, {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
  });
  for (const content of pieces) {
    await send(res, { ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  }
  await send(res, { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  await send(res, {
    ...base,
    choices: [],
    usage: { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length },
  });
  await send(res, '[DONE]');
}

/** Each call's name first, then its arguments in a second chunk, as OpenAI streams them. */
async function streamOpenAIToolCalls(
  res: ServerResponse,
  model: string,
  calls: Array<{ id: string; name: string; arguments: Record<string, unknown> }>,
): Promise<void> {
  const base = { id: 'chatcmpl-wire', object: 'chat.completion.chunk', created: 1_700_000_000, model };
  const chunk = (delta: unknown, finish: string | null = null) =>
    send(res, { ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  await chunk({ role: 'assistant', content: null });
  for (const [index, call] of calls.entries()) {
    await chunk({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
    });
    await chunk({ tool_calls: [{ index, function: { arguments: JSON.stringify(call.arguments) } }] });
  }
  await chunk({}, 'tool_calls');
  await send(res, {
    ...base,
    choices: [],
    usage: { prompt_tokens: 42, completion_tokens: 3, total_tokens: 45 },
  });
  await send(res, '[DONE]');
}

async function streamAnthropic(res: ServerResponse, model: string, pieces: string[]): Promise<void> {
  await send(
    res,
    {
      type: 'message_start',
      message: {
        id: 'msg_wire',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 42, output_tokens: 1 },
      },
    },
    'message_start',
  );
  await send(
    res,
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    'content_block_start',
  );
  await send(res, { type: 'ping' }, 'ping');
  for (const text of pieces) {
    await send(
      res,
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } },
      'content_block_delta',
    );
  }
  await send(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
  await send(
    res,
    {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: pieces.length },
    },
    'message_delta',
  );
  await send(res, { type: 'message_stop' }, 'message_stop');
}
