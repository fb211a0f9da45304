// Slack end to end: Slack's wire protocol (crabline's Web API; in Socket Mode a local server
// speaking Slack's socket protocol, in HTTP mode crabline posting signed events to the gateway)
// drives the real bolt-based connector in the real gateway; turns run on a real worker and
// Temporal; replies go out through the exactly-once send activity on the gateway's slack queue.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SessionNotFoundError, sessionHistory } from '../../client/sessions.js';
import type { Gateway } from '../../gateway/server.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { type GatewayStack, startGatewayStack } from '../helpers/gateway-stack.js';
import { freePort } from '../helpers/ports.js';
import { type FakeSlack, SLACK_BOT_USER, startFakeSlack } from '../slack/helpers.js';
import { eventually } from '../telegram/helpers.js';

const OWNER = 'U0OWNER001';
const OWNER2 = 'U0OWNER002';
const OWNER3 = 'U0OWNER003';
const STRANGER = 'U0STRANG01';
// Sessions outlive a describe on the shared Temporal server: each describe has its own people.
const HTTP_OWNER = 'U0HTTPOWN1';
const HTTP_OWNER2 = 'U0HTTPOWN2';
const TEAM_CHANNEL = 'C0TEAM0001';

const userLines = async (gateway: Gateway, sessionKey: string) =>
  (await sessionHistory(gateway.client, sessionKey)).transcript
    .filter((e) => e.role === 'user')
    .map((e) => e.text);

describe('Slack in Socket Mode through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let slack: FakeSlack;
  let stack: GatewayStack;

  beforeAll(async () => {
    slack = await startFakeSlack();
    stack = await startGatewayStack(address, {
      name: 'slack',
      yaml: [
        'channels:',
        '  slack:',
        `    botToken: "${slack.botToken}"`,
        `    appToken: "${slack.appToken}"`,
        `    apiUrl: "${slack.apiUrl}"`,
        '    dmPolicy: pairing',
        `    allowFrom: ["${OWNER}", "${OWNER2}", "${OWNER3}"]`,
        '    groups:',
        `      ${TEAM_CHANNEL}: {}`,
      ],
    });
    stack.agent.answerWith((prompt) => `Echo: ${prompt}`);
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
  });

  const postsIn = (channel: string) => slack.posts().filter((p) => p.channel === channel);

  it('answers a DM once, in the same DM', async () => {
    const dm = 'D0OWNER001';
    await slack.send({ channel: dm, user: OWNER, text: 'good morning' });
    await eventually(() => postsIn(dm)[0], 30_000);
    // A later message is answered after it: had the first been answered twice, it would show.
    await slack.send({ channel: dm, user: OWNER, text: 'and again' });
    await eventually(() => postsIn(dm)[1], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['Echo: good morning', 'Echo: and again']);
    expect(postsIn(dm)[0]?.thread_ts).toBeUndefined();
  });

  it('gives a stranger a pairing code and starts no turn; after approval the next DM is answered', async () => {
    const dm = 'D0STRANG01';
    await slack.send({ channel: dm, user: STRANGER, text: 'hi, who are you?' });
    const challenge = await eventually(() => postsIn(dm)[0], 15_000);
    const code = /pairing approve slack ([A-Z0-9]{8})/.exec(String(challenge.text))?.[1];
    expect(code).toBeDefined();
    await expect(
      userLines(stack.gateway, `agent:main:slack:direct:${STRANGER.toLowerCase()}`),
    ).rejects.toThrow(SessionNotFoundError);

    new PairingStore(stack.gateway.db).approve('slack', code!);
    await slack.send({ channel: dm, user: STRANGER, text: 'now?' });
    await eventually(() => postsIn(dm)[1], 30_000);
    expect(
      postsIn(dm)
        .map((p) => p.text)
        .slice(1),
    ).toEqual(['Echo: now?']);
    expect(await userLines(stack.gateway, `agent:main:slack:direct:${STRANGER.toLowerCase()}`)).toEqual([
      'now?',
    ]);
  });

  it('starts no turn for an unmentioned channel message; answers a mention in a thread, and follow-ups there', async () => {
    await slack.send({ channel: TEAM_CHANNEL, user: OWNER, text: 'just chatting among ourselves' });
    const asked = await slack.send({
      channel: TEAM_CHANNEL,
      user: OWNER,
      text: `<@${SLACK_BOT_USER}> what time is it?`,
    });
    const ts = asked.event!.ts!;
    const answer = await eventually(() => postsIn(TEAM_CHANNEL)[0], 30_000);
    expect(answer).toMatchObject({ text: `Echo: <@${SLACK_BOT_USER}> what time is it?`, thread_ts: ts });

    // In the thread the assistant answered in, a follow-up needs no mention.
    await slack.send({ channel: TEAM_CHANNEL, user: OWNER, text: 'and tomorrow?', threadTs: ts });
    await eventually(() => postsIn(TEAM_CHANNEL)[1], 30_000);
    expect(postsIn(TEAM_CHANNEL).map((p) => [p.text, p.thread_ts])).toEqual([
      [`Echo: <@${SLACK_BOT_USER}> what time is it?`, ts],
      ['Echo: and tomorrow?', ts],
    ]);
    // The thread is one OpenClaw thread session; the unmentioned message never became a turn.
    expect(
      await userLines(stack.gateway, `agent:main:slack:channel:${TEAM_CHANNEL.toLowerCase()}:thread:${ts}`),
    ).toEqual([`<@${SLACK_BOT_USER}> what time is it?`, 'and tomorrow?']);
  });

  it('turns a re-delivered event (same event_id, retry_attempt 1) into no second turn', async () => {
    const dm = 'D0OWNER002';
    const event = await slack.send({ channel: dm, user: OWNER2, text: 'only once please' });
    await eventually(() => postsIn(dm)[0], 30_000);
    await slack.push(event, { attempt: 1, reason: 'timeout' });
    await slack.send({ channel: dm, user: OWNER2, text: 'and this one' });
    await eventually(() => postsIn(dm)[1], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['Echo: only once please', 'Echo: and this one']);
    expect(await userLines(stack.gateway, `agent:main:slack:direct:${OWNER2.toLowerCase()}`)).toEqual([
      'only once please',
      'and this one',
    ]);
  });

  it('takes /approve as a slash command (Slack keeps "/" messages for itself) and answers in the DM', async () => {
    const dm = 'D0OWNER003';
    await slack.command({ command: '/approve', text: 'zz99', user_id: OWNER3, channel_id: dm });
    await eventually(() => postsIn(dm)[0], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['No approval zz99 is waiting in this conversation.']);
  });

  it('reconnects after Slack drops the socket, and answers what comes after', async () => {
    const dm = 'D0OWNER004';
    const before = slack.opened();
    slack.drop();
    await eventually(() => (slack.opened() > before && slack.connections() === 1 ? true : undefined), 30_000);
    await slack.send({ channel: dm, user: OWNER3, text: 'still there?' });
    await eventually(() => postsIn(dm)[0], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['Echo: still there?']);
  });
});

describe('Slack HTTP Events through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let slack: FakeSlack;
  let stack: GatewayStack;
  let eventsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    eventsUrl = `http://127.0.0.1:${port}/channels/slack/events`;
    slack = await startFakeSlack({ eventsRequestUrl: eventsUrl });
    stack = await startGatewayStack(address, {
      name: 'slackhttp',
      port,
      yaml: [
        'channels:',
        '  slack:',
        '    mode: http',
        `    botToken: "${slack.botToken}"`,
        `    signingSecret: "${slack.signingSecret}"`,
        `    apiUrl: "${slack.apiUrl}"`,
        '    dmPolicy: allowlist',
        `    allowFrom: ["${HTTP_OWNER}", "${HTTP_OWNER2}"]`,
      ],
    });
    stack.agent.answerWith((prompt) => `Heard: ${prompt}`);
  });
  afterAll(async () => {
    await stack?.close();
    await slack?.close();
  });

  const postsIn = (channel: string) => slack.posts().filter((p) => p.channel === channel);
  const sign = (body: string, ts: number) =>
    `v0=${createHmac('sha256', slack.signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  const postEvent = (body: string, headers: Record<string, string>) =>
    fetch(eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers a DM Slack posted to the events route, and drops Slack re-posting the same event', async () => {
    const dm = 'D0HTTP0001';
    const event = await slack.send({ channel: dm, user: HTTP_OWNER, text: 'over http' });
    await eventually(() => postsIn(dm)[0], 30_000);
    // Slack re-delivers the very event (it missed our 200): correctly signed, with its retry headers.
    const body = JSON.stringify(event);
    const now = Math.floor(Date.now() / 1000);
    const again = await postEvent(body, {
      'x-slack-request-timestamp': String(now),
      'x-slack-signature': sign(body, now),
      'x-slack-retry-num': '1',
      'x-slack-retry-reason': 'http_timeout',
    });
    expect(again.status).toBe(200);
    await slack.send({ channel: dm, user: HTTP_OWNER, text: 'and after' });
    await eventually(() => postsIn(dm)[1], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['Heard: over http', 'Heard: and after']);
    expect(await userLines(stack.gateway, `agent:main:slack:direct:${HTTP_OWNER.toLowerCase()}`)).toEqual([
      'over http',
      'and after',
    ]);
  });

  it('refuses a forged or stale signature with 401 and starts nothing', async () => {
    const dm = 'D0HTTP0002';
    const event = {
      type: 'event_callback',
      team_id: 'TCRABLINE',
      event_id: 'EvFORGED0001',
      event: { type: 'message', channel: dm, user: HTTP_OWNER2, text: 'forged', ts: '1700000999.000001' },
    };
    const body = JSON.stringify(event);
    const now = Math.floor(Date.now() / 1000);
    const forged = await postEvent(body, {
      'x-slack-request-timestamp': String(now),
      'x-slack-signature': `v0=${createHmac('sha256', 'not-the-secret').update(`v0:${now}:${body}`).digest('hex')}`,
    });
    expect(forged.status).toBe(401);
    const stale = now - 10 * 60;
    const replayed = await postEvent(body, {
      'x-slack-request-timestamp': String(stale),
      'x-slack-signature': sign(body, stale),
    });
    expect(replayed.status).toBe(401);
    const unsigned = await postEvent(body, {});
    expect(unsigned.status).toBe(401);
    // A real message after them is answered; the forged ones never became turns.
    await slack.send({ channel: dm, user: HTTP_OWNER2, text: 'the real one' });
    await eventually(() => postsIn(dm)[0], 30_000);
    expect(postsIn(dm).map((p) => p.text)).toEqual(['Heard: the real one']);
    expect(await userLines(stack.gateway, `agent:main:slack:direct:${HTTP_OWNER2.toLowerCase()}`)).toEqual([
      'the real one',
    ]);
  });
});
