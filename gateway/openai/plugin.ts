// The OpenAI-compatible HTTP API: `GET /v1/models` lists the agents, `POST /v1/chat/completions`
// turns the last user message into an InboundMessage on channel `openai` and answers with the
// final reply (non-stream), or streams live deltas as `chat.completion.chunk` server-sent events
// and completes them from the final reply (stream). The reply is the answer of the session's
// `session.turn` update (client/ingest.ts), handed to `PendingReplies`.
//
// Envelope: accountId = the agent id (`model`), chat.id = sender.id = the conversation (`user`
// field, or the `x-switchyard-conversation` header, else a fresh id per request).

import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { directMessage } from '../../channels/direct-message.js';
import { type InboundMessage, validateInboundMessage } from '../../channels/envelope.js';
import { deltaRunKey } from '../../channels/run-key.js';
import { formatIssues } from '../../channels/schema-validation.js';
import type { TurnAnswer } from '../../workflows/session/session-api.js';
import { secretsMatch } from '../auth.js';
import type { DeltaHub } from '../stream/hub.js';
import { NoReply, OPENAI_CHANNEL, type PendingReplies, ReplyTimeout } from './replies.js';
import { type ChatCompletionBody, chatCompletionBodySchema, openaiError } from './schemas.js';
import { type SseStream, startSse } from './sse.js';

export interface OpenaiAgent {
  id: string;
  name?: string;
}

export interface OpenaiPluginOptions {
  /** Starts the turn; `answer`, when given, settles with it (else the channel's sender delivers it). */
  ingest(msg: InboundMessage): Promise<{ answer?: Promise<TurnAnswer | undefined> } | undefined>;
  hub: DeltaHub;
  /** The gateway token; clients send it as their OpenAI API key. */
  token: string;
  /** The agents offered as models; read on every request. */
  agents(): readonly OpenaiAgent[];
  /** Shared with the `openai` channel senders (`replies.sender(agentId)`). */
  replies: PendingReplies;
  /** Longest wait for the final reply before answering 504. Default 120 s. */
  replyTimeoutMs?: number;
}

export const CONVERSATION_HEADER = 'x-switchyard-conversation';

export async function openaiPlugin(app: FastifyInstance, options: OpenaiPluginOptions): Promise<void> {
  const { hub, replies, token } = options;
  if (!token) throw new Error('openaiPlugin: a gateway token is required');
  const replyTimeoutMs = options.replyTimeoutMs ?? 120_000;

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    if (error.validation) {
      return reply
        .code(400)
        .send(openaiError(`Invalid request: ${error.message}`, 'invalid_request_error', 'invalid_request'));
    }
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) app.log.error({ err: error }, 'openai: request failed');
    return reply
      .code(status)
      .send(
        openaiError(
          status >= 500 ? 'Internal error in the Switchyard gateway' : error.message,
          status >= 500 ? 'server_error' : 'invalid_request_error',
          error.code ?? null,
        ),
      );
  });

  app.addHook('onRequest', async (req, reply) => {
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (given === undefined || !secretsMatch(given, token)) {
      return reply
        .code(401)
        .send(
          openaiError(
            'Missing or wrong API key: send "Authorization: Bearer <gateway token>" (the token is in ' +
              '<data dir>/gateway.token or SWITCHYARD_GATEWAY_TOKEN).',
            'invalid_request_error',
            'invalid_api_key',
          ),
        );
    }
  });

  const modelOf = (agent: OpenaiAgent) => ({
    id: agent.id,
    object: 'model',
    created: 0,
    owned_by: 'switchyard',
    ...(agent.name ? { name: agent.name } : {}),
  });

  app.get('/v1/models', async () => ({ object: 'list', data: options.agents().map(modelOf) }));

  app.get<{ Params: { model: string } }>('/v1/models/:model', async (req, reply) => {
    const agent = findAgent(options.agents(), req.params.model);
    if (!agent) return reply.code(404).send(unknownModel(req.params.model, options.agents()));
    return modelOf(agent);
  });

  app.post<{ Body: ChatCompletionBody }>(
    '/v1/chat/completions',
    { schema: { body: chatCompletionBodySchema } },
    async (req, reply) => {
      const body = req.body;
      const agent = findAgent(options.agents(), body.model);
      if (!agent) return reply.code(404).send(unknownModel(body.model, options.agents()));
      const last = [...body.messages].reverse().find((m) => m.role === 'user');
      const text = last ? textOf(last.content) : undefined;
      if (text === undefined || text.trim() === '') {
        return reply
          .code(400)
          .send(
            openaiError(
              'messages must contain a user message with text content (the last one is the new message)',
              'invalid_request_error',
              'invalid_request',
              'messages',
            ),
          );
      }
      const conversation = conversationOf(req, body);
      const messageId = randomUUID();
      const checked = validateInboundMessage(
        directMessage({
          channel: OPENAI_CHANNEL,
          accountId: agent.id,
          chatId: conversation,
          sender: { id: conversation },
          messageId,
          text,
        }),
      );
      if (!checked.ok) {
        return reply
          .code(400)
          .send(openaiError(formatIssues(checked.errors), 'invalid_request_error', 'invalid_request'));
      }

      const runKey = deltaRunKey(OPENAI_CHANNEL, conversation, messageId);
      const completion = {
        id: `chatcmpl-${messageId}`,
        created: Math.floor(Date.now() / 1000),
        model: body.model,
      };
      const gone = new AbortController();
      reply.raw.on('close', () => gone.abort());
      // Wait and listen before ingesting: the answer can be faster than ingest's own return.
      const answer = replies.wait(runKey, replyTimeoutMs, gone.signal);
      answer.catch(() => undefined);
      let sse: SseStream | undefined;
      let streamed = '';
      let lastSeq = 0;
      let holed = false;
      const unsubscribe = body.stream
        ? hub.subscribe(runKey, (frame) => {
            // A hole would make the client's text wrong for good; stop streaming, the final fills in.
            if (frame.type !== 'delta' || holed || gone.signal.aborted) return;
            if (frame.seq !== lastSeq + 1) {
              holed = true;
              return;
            }
            lastSeq = frame.seq;
            streamed += frame.text;
            sse ??= startSse(reply, completion);
            sse.content(frame.text);
          })
        : () => undefined;

      try {
        try {
          const ingested = await options.ingest(checked.value);
          ingested?.answer?.then(
            (turn) => {
              if (!turn) return; // it comes through the channel's sender
              const [first] = turn.replies;
              if (first) replies.deliver(runKey, first.text);
              else replies.fail(runKey, new NoReply(noReplyText(turn)));
            },
            (error: unknown) =>
              replies.fail(runKey, new NoReply(`the turn could not start: ${String(error)}`)),
          );
        } catch (error) {
          gone.abort();
          req.log.warn({ err: error, runKey }, 'openai: could not start the turn');
          const failure = openaiError(
            `Could not start the turn: ${String((error as Error)?.message ?? error)}`,
            'server_error',
            'ingest_failed',
          );
          if (sse) return sse.fail(failure);
          return reply.code(503).send(failure);
        }
        let final: string;
        try {
          final = await answer;
        } catch (error) {
          if (error instanceof NoReply) {
            const failure = openaiError(
              `Agent "${agent.id}" did not answer: ${error.message}`,
              'server_error',
              'no_reply',
            );
            if (sse) return sse.fail(failure);
            return reply.code(502).send(failure);
          }
          if (!(error instanceof ReplyTimeout)) {
            // The client went away; the turn finishes without it.
            if (!sse) reply.hijack();
            reply.raw.destroy();
            return;
          }
          const failure = openaiError(
            `No reply from agent "${agent.id}" within ${replyTimeoutMs} ms; the turn may still finish ` +
              `(conversation "${conversation}").`,
            'timeout',
            'reply_timeout',
          );
          if (sse) return sse.fail(failure);
          return reply.code(504).send(failure);
        }
        if (!body.stream) {
          return {
            ...completion,
            object: 'chat.completion',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: final },
                logprobs: null,
                finish_reason: 'stop',
              },
            ],
            usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
          };
        }
        unsubscribe();
        sse ??= startSse(reply, completion);
        const rest = remainder(streamed, final);
        if (rest.mismatch) {
          req.log.warn({ runKey }, 'openai: the final reply does not extend the streamed text');
        }
        if (rest.text !== '') sse.content(rest.text);
        sse.finish(body.stream_options?.include_usage === true);
        return reply;
      } finally {
        unsubscribe();
      }
    },
  );
}

function noReplyText(turn: TurnAnswer): string {
  if (turn.status === 'failed') return `the turn failed (${turn.error ?? 'no reason given'})`;
  if (turn.status === 'interrupted') return 'the turn was stopped';
  return 'the turn ended without a reply';
}

function findAgent(agents: readonly OpenaiAgent[], model: string): OpenaiAgent | undefined {
  const wanted = model.trim().toLowerCase();
  return agents.find((a) => a.id.toLowerCase() === wanted);
}

function unknownModel(model: string, agents: readonly OpenaiAgent[]) {
  const known = agents.map((a) => `"${a.id}"`).join(', ') || 'none configured';
  return openaiError(
    `The model "${model}" does not exist: models are Switchyard agents (${known}); see GET /v1/models`,
    'invalid_request_error',
    'model_not_found',
    'model',
  );
}

function textOf(content: ChatCompletionBody['messages'][number]['content']): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  return content
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('\n');
}

function conversationOf(req: FastifyRequest, body: ChatCompletionBody): string {
  const header = req.headers[CONVERSATION_HEADER];
  if (typeof body.user === 'string' && body.user.trim() !== '') return body.user.trim();
  if (typeof header === 'string' && header.trim() !== '') return header.trim().slice(0, 256);
  return `request-${randomUUID()}`;
}

/** What the client still lacks: the final's tail after the streamed text. */
export function remainder(streamed: string, final: string): { text: string; mismatch: boolean } {
  if (final.startsWith(streamed)) return { text: final.slice(streamed.length), mismatch: false };
  // Streamed text cannot be taken back; continue after the longest shared prefix.
  let common = 0;
  while (common < streamed.length && streamed[common] === final[common]) common++;
  return { text: final.slice(common), mismatch: true };
}
