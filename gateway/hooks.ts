/**
 * OpenClaw's webhook doors on the gateway port: `POST /hooks/agent` runs an agent turn (in its
 * own `hook:<id>` session unless a session key is given) and `POST /hooks/wake` puts a text into
 * the main session. Both answer 202 at once with the run id; the turn is a workflow like any
 * other (visible in the Temporal UI). Authenticated like the rest: bearer or x-openclaw-token.
 * Answers to hook turns have no chat to go to: the `hook` channel keeps the latest ones in
 * memory for `GET /hooks/runs/:runId` and the session transcript keeps them for good.
 */

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ChannelSender } from '../activities/channel-send.js';
import { directMessage } from '../channels/direct-message.js';
import { HOOK_CHANNEL } from '../workflows/channel/channel-api.js';
import { requireToken } from './auth.js';
import type { IngestToSession } from './channels/router.js';

export { HOOK_CHANNEL } from '../workflows/channel/channel-api.js';

const KEEP_ANSWERS = 500;

export interface HookOptions {
  token: string;
  ingestToSession: IngestToSession;
  mainSessionKey: () => string;
}

/**
 * A channel with no chat behind it (`hook`, and `cron` for scheduled system events): the turn's
 * reply is kept (latest 500, by the message it answers) instead of posted anywhere; the session
 * transcript keeps it for good.
 */
export function createDetachedChannel(channel: string): {
  sender: ChannelSender;
  answers: Map<string, string>;
} {
  const answers = new Map<string, string>();
  return {
    answers,
    sender: {
      channel,
      accountId: 'default',
      textLimit: 1_000_000,
      async send(chatId, text, opts) {
        const runId = opts?.replyToMessageId ?? chatId;
        answers.set(runId, text);
        if (answers.size > KEEP_ANSWERS) answers.delete(answers.keys().next().value as string);
        return { messageId: `${channel}:${runId}` };
      },
    },
  };
}

const agentBody = {
  type: 'object',
  required: ['message'],
  properties: {
    message: { type: 'string', minLength: 1, maxLength: 100_000 },
    name: { type: 'string', maxLength: 200 },
    agentId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' },
    sessionKey: { type: 'string', minLength: 1, maxLength: 500 },
  },
} as const;

const wakeBody = {
  type: 'object',
  required: ['text'],
  properties: {
    text: { type: 'string', minLength: 1, maxLength: 100_000 },
    mode: { enum: ['now', 'next-heartbeat'] },
  },
} as const;

export const hooksPlugin: FastifyPluginAsync<HookOptions & { answers: Map<string, string> }> = async (
  app,
  options,
) => {
  const auth = requireToken(options.token);

  const start = async (text: string, sessionKey: string, sender: string) => {
    const runId = randomUUID();
    const message = directMessage({
      channel: HOOK_CHANNEL,
      accountId: 'default',
      chatId: sessionKey,
      sender: { id: sender },
      messageId: runId,
      text,
    });
    await options.ingestToSession(message, sessionKey);
    return runId;
  };

  app.post<{ Body: { message: string; name?: string; agentId?: string; sessionKey?: string } }>(
    '/hooks/agent',
    { schema: { body: agentBody }, preHandler: auth },
    async (req, reply) => {
      const { message, name, agentId, sessionKey } = req.body;
      const key =
        sessionKey ??
        (agentId ? `agent:${agentId.toLowerCase()}:hook:${randomUUID()}` : `hook:${randomUUID()}`);
      const runId = await start(message, key, name ?? 'hook');
      return reply.code(202).send({ ok: true, runId, sessionKey: key });
    },
  );

  app.post<{ Body: { text: string; mode?: string } }>(
    '/hooks/wake',
    { schema: { body: wakeBody }, preHandler: auth },
    async (req, reply) => {
      const key = options.mainSessionKey();
      const runId = await start(req.body.text, key, 'wake');
      return reply.code(202).send({ ok: true, runId, sessionKey: key });
    },
  );

  app.get<{ Params: { runId: string } }>('/hooks/runs/:runId', { preHandler: auth }, async (req, reply) => {
    const text = options.answers.get(req.params.runId);
    return text === undefined
      ? reply.code(404).send({ ok: false, error: 'no answer yet for this run (or it was forgotten)' })
      : { ok: true, runId: req.params.runId, text };
  });
};
