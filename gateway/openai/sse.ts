// A streamed chat completion as server-sent events, in OpenAI's `chat.completion.chunk` shape.
// Headers go out with the first content, so a turn that never starts can still be a plain 504.
import type { FastifyReply } from 'fastify';
import type { OpenaiErrorBody } from './schemas.js';

export interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

export interface SseStream {
  content(text: string): void;
  /** The closing chunk (finish_reason "stop"), optionally a usage chunk, then `data: [DONE]`. */
  finish(includeUsage: boolean): void;
  /** An error event and the end of the stream, without [DONE]: the client sees the answer is incomplete. */
  fail(error: OpenaiErrorBody): void;
}

export function startSse(reply: FastifyReply, completion: CompletionIdentity): SseStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const write = (data: unknown) => {
    if (!raw.writableEnded && !raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const chunk = (delta: object, finishReason: string | null) =>
    write({
      ...completion,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  const end = () => {
    if (!raw.writableEnded) raw.end();
  };
  chunk({ role: 'assistant', content: '' }, null);
  return {
    content(text) {
      chunk({ content: text }, null);
    },
    finish(includeUsage) {
      chunk({}, 'stop');
      if (includeUsage) {
        write({
          ...completion,
          object: 'chat.completion.chunk',
          choices: [],
          usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        });
      }
      if (!raw.writableEnded && !raw.destroyed) raw.write('data: [DONE]\n\n');
      end();
    },
    fail(error) {
      write(error);
      end();
    },
  };
}
