// Slack's HTTP Events API on the gateway's own port. Every request is signed with the app's
// signing secret (`v0=HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")`); bolt's
// verifySlackRequest checks the signature and that the timestamp is within five minutes, before
// anything is parsed. A forged or stale request gets 401 and changes nothing. The answer waits
// for the hand-off: 200 once the message is with Temporal, 500 when that failed, so Slack retries
// (with x-slack-retry-num) instead of the message being lost.
import { verifySlackRequest } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';
import type { ConnectorLog } from '../log.js';

export interface SlackDelivery {
  /** x-slack-retry-num: how many times Slack already tried this event. */
  retryNum?: number;
  retryReason?: string;
}

export interface SlackEventsRouteOptions {
  path: string;
  signingSecret: string;
  /** A verified body (an `event_callback`, a slash command…); throwing makes Slack re-deliver it. */
  handle(body: unknown, delivery: SlackDelivery): Promise<void>;
  /** False until the connector knows who the bot is; Slack retries a 503. */
  isReady(): boolean;
  log: ConnectorLog;
}

/** Slack's bodies are small; anything near this is not from Slack. */
const BODY_LIMIT = 1024 * 1024;

/**
 * A fastify plugin with one route. It keeps the raw body (the signature covers its exact bytes),
 * in its own scope, so the rest of the gateway parses JSON as usual.
 */
export function slackEventsRoute(options: SlackEventsRouteOptions): FastifyPluginAsync {
  const { path, signingSecret, handle, isReady, log } = options;
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    );
    app.post(path, async (request, reply) => {
      const raw = typeof request.body === 'string' ? request.body : '';
      const signature = request.headers['x-slack-signature'];
      const timestamp = Number(request.headers['x-slack-request-timestamp']);
      try {
        verifySlackRequest({
          signingSecret,
          body: raw,
          headers: { 'x-slack-signature': String(signature ?? ''), 'x-slack-request-timestamp': timestamp },
        });
      } catch (error) {
        log.warn(
          { ip: request.ip, reason: (error as Error).message },
          'slack events: bad or stale signature; refused',
        );
        return reply.code(401).send({ ok: false, error: 'invalid signature' });
      }
      let body: unknown;
      try {
        body = parseBody(raw, request.headers['content-type']);
      } catch {
        return reply.code(400).header('x-slack-no-retry', '1').send({ ok: false, error: 'unreadable body' });
      }
      const type = (body as { type?: unknown } | undefined)?.type;
      if (type === 'url_verification') {
        return reply.code(200).send({ challenge: (body as { challenge?: unknown }).challenge });
      }
      if (!isReady()) return reply.code(503).send({ ok: false, error: 'slack connector not started' });
      const retryNum = Number(request.headers['x-slack-retry-num']);
      const retryReason = request.headers['x-slack-retry-reason'];
      try {
        await handle(body, {
          ...(Number.isInteger(retryNum) ? { retryNum } : {}),
          ...(typeof retryReason === 'string' ? { retryReason } : {}),
        });
        return reply.code(200).send();
      } catch (error) {
        log.error(
          { err: error, eventId: (body as { event_id?: unknown }).event_id },
          'slack events: handling the event failed; answering 500 so Slack re-delivers it',
        );
        return reply.code(500).send({ ok: false, error: 'event not handled; retry later' });
      }
    });
  };
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    return payload === null ? Object.fromEntries(form) : JSON.parse(payload);
  }
  return JSON.parse(raw);
}
