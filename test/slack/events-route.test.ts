// Slack's HTTP Events route on its own: every request is checked against the signing secret
// (bolt's verifySlackRequest) before anything is read; the answer waits for the hand-off.
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackEventsRoute } from '../../channels/slack/events-route.js';
import { recordingLog } from '../telegram/helpers.js';

const SECRET = 'signing-secret-0123456789';
const PATH = '/channels/slack/events';

function signed(body: string, { secret = SECRET, at = Math.floor(Date.now() / 1000) } = {}) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${at}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(at), 'x-slack-signature': signature };
}

describe('the Slack events route', () => {
  let app: FastifyInstance;
  let handled: unknown[];
  let ready: boolean;
  let fail: boolean;

  beforeEach(async () => {
    handled = [];
    ready = true;
    fail = false;
    app = Fastify();
    await app.register(
      slackEventsRoute({
        path: PATH,
        signingSecret: SECRET,
        handle: async (body, delivery) => {
          if (fail) throw new Error('Temporal is down');
          handled.push({ body, delivery });
        },
        isReady: () => ready,
        log: recordingLog().log,
      }),
    );
    // The rest of the gateway still parses JSON as usual.
    app.post('/other', async (request) => ({ got: request.body }));
  });
  afterEach(() => app.close());

  const post = (body: string, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const event = JSON.stringify({
    type: 'event_callback',
    event_id: 'Ev1',
    event: { type: 'message', text: 'hi' },
  });

  it('hands over a signed event and answers 200, with the retry number when Slack retries', async () => {
    expect((await post(event, signed(event))).statusCode).toBe(200);
    expect(
      (
        await post(event, {
          ...signed(event),
          'x-slack-retry-num': '2',
          'x-slack-retry-reason': 'http_timeout',
        })
      ).statusCode,
    ).toBe(200);
    expect(handled).toEqual([
      { body: JSON.parse(event), delivery: {} },
      { body: JSON.parse(event), delivery: { retryNum: 2, retryReason: 'http_timeout' } },
    ]);
  });

  it('refuses a wrong, stale, missing or body-altered signature with 401 and hands nothing over', async () => {
    const stale = Math.floor(Date.now() / 1000) - 6 * 60;
    for (const headers of [
      signed(event, { secret: 'another-secret' }),
      signed(event, { at: stale }),
      {},
      { 'x-slack-request-timestamp': 'soon', 'x-slack-signature': 'v0=00' },
      signed(event.replace('hi', 'ho')),
    ]) {
      expect((await post(event, headers)).statusCode).toBe(401);
    }
    expect(handled).toEqual([]);
  });

  it('hands over a signed slash command, which Slack posts form-encoded', async () => {
    const form = 'command=%2Fapprove&text=ab12&user_id=U1&channel_id=D1&trigger_id=t1';
    const res = await app.inject({
      method: 'POST',
      url: PATH,
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(form) },
    });
    expect(res.statusCode).toBe(200);
    expect(handled).toEqual([
      {
        body: { command: '/approve', text: 'ab12', user_id: 'U1', channel_id: 'D1', trigger_id: 't1' },
        delivery: {},
      },
    ]);
  });

  it("answers Slack's URL check with the challenge", async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123' });
    const res = await post(body, signed(body));
    expect(res.json()).toEqual({ challenge: 'abc123' });
  });

  it('answers 500 when the hand-off fails and 503 before the connector is ready, so Slack retries', async () => {
    fail = true;
    expect((await post(event, signed(event))).statusCode).toBe(500);
    ready = false;
    expect((await post(event, signed(event))).statusCode).toBe(503);
  });

  it('leaves JSON parsing of other routes alone', async () => {
    const res = await app.inject({ method: 'POST', url: '/other', payload: { a: 1 } });
    expect(res.json()).toEqual({ got: { a: 1 } });
  });
});
