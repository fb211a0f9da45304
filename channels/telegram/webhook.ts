// Telegram pushing updates to the gateway. The secret token set with setWebhook comes back in
// X-Telegram-Bot-Api-Secret-Token on every call; anything else is answered 401 before the body is
// looked at. A non-2xx answer makes Telegram re-deliver the update later, so a failed hand-off
// answers 500 instead of swallowing the message.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Update } from 'grammy/types';
import type { ConnectorLog } from '../log.js';

export const TELEGRAM_WEBHOOK_PATH = '/channels/telegram/webhook';
export const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** What Telegram accepts as secret_token. */
export const WEBHOOK_SECRET_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

export interface WebhookOptions {
  secret: string;
  handle(update: Update): Promise<void>;
  /** False until start() learned who the bot is; Telegram retries a 503. */
  isReady(): boolean;
  log: ConnectorLog;
}

export type WebhookHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

export function createWebhookHandler(options: WebhookOptions): WebhookHandler {
  const { secret, handle, isReady, log } = options;
  return async (request, reply) => {
    if (!secretMatches(request.headers[SECRET_HEADER], secret)) {
      log.warn({ ip: request.ip }, 'telegram webhook: wrong or missing secret token; ignored');
      return reply.code(401).send({ ok: false, error: 'wrong secret token' });
    }
    if (!isReady()) return reply.code(503).send({ ok: false, error: 'telegram connector not started' });
    const update = request.body as Update | undefined;
    if (typeof update?.update_id !== 'number') {
      return reply.code(400).send({ ok: false, error: 'body is not a Telegram Update (no update_id)' });
    }
    try {
      await handle(update);
      return reply.code(200).send({ ok: true });
    } catch (error) {
      log.error(
        { err: error, updateId: update.update_id },
        'telegram webhook: handling the update failed; answering 500 so Telegram re-delivers it',
      );
      return reply.code(500).send({ ok: false, error: 'update not handled; retry later' });
    }
  };
}

/** A fastify route for `app.route(...)`: the secret is checked before the body is parsed or validated. */
export function webhookRoute(
  handler: WebhookHandler,
  secret: string,
  url = TELEGRAM_WEBHOOK_PATH,
): RouteOptions {
  return {
    method: 'POST',
    url,
    handler,
    schema: {
      body: {
        type: 'object',
        required: ['update_id'],
        properties: { update_id: { type: 'integer' } },
      },
    },
    onRequest: async (request, reply) => {
      if (!secretMatches(request.headers[SECRET_HEADER], secret)) {
        return reply.code(401).send({ ok: false, error: 'wrong secret token' });
      }
    },
  };
}

function secretMatches(got: string | string[] | undefined, expected: string): boolean {
  if (typeof got !== 'string') return false;
  const a = Buffer.from(got);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
