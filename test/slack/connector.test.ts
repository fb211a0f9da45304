// The Slack connector on its own, against Slack's wire protocol (crabline + a Socket Mode server):
// events in through bolt's real SocketModeReceiver, posts out through the real Web API client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import { createSlackConnector, type SlackConnector } from '../../channels/slack/connector.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { eventually, Inbox, recordingLog, tempDb } from '../telegram/helpers.js';
import { type FakeSlack, SLACK_BOT_USER, startFakeSlack } from './helpers.js';

describe('Slack connector in Socket Mode', () => {
  let slack: FakeSlack;
  let store: ReturnType<typeof tempDb>;
  let connector: SlackConnector;
  let inbox: Inbox<InboundMessage>;
  let fail: (msg: InboundMessage) => boolean;
  let logged: ReturnType<typeof recordingLog>;

  beforeEach(async () => {
    slack = await startFakeSlack();
    store = tempDb();
    inbox = new Inbox<InboundMessage>();
    fail = () => false;
    logged = recordingLog();
    connector = createSlackConnector({
      mode: 'socket',
      botToken: slack.botToken,
      appToken: slack.appToken,
      apiUrl: slack.apiUrl,
      access: new PairingStore(store.db),
      policy: { dmPolicy: 'open', groupPolicy: 'open' },
      onInbound: async (msg) => {
        if (fail(msg)) throw new Error('Temporal is down');
        inbox.push(msg);
      },
      log: logged.log,
    });
    await connector.start();
  });
  afterEach(async () => {
    await connector.stop();
    await slack.close();
    store.cleanup();
  });

  it('hands over a DM as a direct message and acknowledges the envelope after', async () => {
    await slack.send({ channel: 'D0DM000001', user: 'U0ALICE01', text: 'hello &amp; welcome' });
    const [msg] = await inbox.waitFor(1);
    expect(msg).toMatchObject({
      channel: 'slack',
      chat: { id: 'D0DM000001', kind: 'direct' },
      sender: { id: 'U0ALICE01' },
      text: 'hello & welcome',
    });
    expect(connector.identity()).toMatchObject({ userId: SLACK_BOT_USER });
  });

  it('leaves an event unacknowledged while its hand-off fails, and takes the re-delivery', async () => {
    fail = (msg) => msg.text === 'flaky';
    const event = await fetch(slack.manifest.endpoints.adminInboundUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-crabline-admin-token': slack.manifest.adminToken },
      body: JSON.stringify({ channel: 'D0DM000001', user: 'U0ALICE01', text: 'flaky' }),
    }).then(async (r) => ((await r.json()) as { event: Parameters<FakeSlack['push']>[0] }).event);
    const first = slack.push(event);
    const outcome = await Promise.race([first.then(() => 'acked'), sleep(1500).then(() => 'not acked')]);
    expect(outcome).toBe('not acked');
    fail = () => false;
    await slack.push(event, { attempt: 1, reason: 'timeout' });
    const [msg] = await inbox.waitFor(1);
    expect(msg?.text).toBe('flaky');
  });

  it('posts a reply with its chunk key as metadata, and finds it again by that key', async () => {
    const sent = await connector.sender('C0CHAN0001', 'a reply', { idempotencyKey: 'turn:abc:reply:0' });
    const post = slack.posts().at(-1)!;
    expect(post).toMatchObject({ channel: 'C0CHAN0001', text: 'a reply' });
    // The Web API client sends form fields: metadata travels as JSON text.
    expect(JSON.parse(String(post.metadata))).toEqual({
      event_type: 'switchyard_reply',
      event_payload: { key: 'turn:abc:reply:0' },
    });
    const found = await connector.recover({
      chatId: 'C0CHAN0001',
      key: 'turn:abc:reply:0',
      claimedAt: Date.now(),
      opts: { idempotencyKey: 'turn:abc:reply:0' },
    });
    expect(found).toEqual({ kind: 'sent', messageId: sent.messageId });
    const missing = await connector.recover({
      chatId: 'C0CHAN0001',
      key: 'turn:abc:reply:1',
      claimedAt: Date.now(),
      opts: { idempotencyKey: 'turn:abc:reply:1' },
    });
    expect(missing.kind).toBe('unknown');
  });

  it('turns a slash command into a message addressed to the assistant in the chat it was typed in', async () => {
    await slack.command({
      command: '/approve',
      text: 'ab12cd',
      user_id: 'U0ALICE01',
      channel_id: 'D0DM000001',
    });
    const [msg] = await inbox.waitFor(1);
    expect(msg).toMatchObject({
      chat: { id: 'D0DM000001', kind: 'direct' },
      sender: { id: 'U0ALICE01' },
      text: '/approve ab12cd',
      wasMentioned: true,
      messageId: expect.stringMatching(/^command:/),
    });
  });

  it('never writes a token into its logs, even at debug level and when a call fails', async () => {
    await slack.send({ channel: 'D0DM000001', user: 'U0ALICE01', text: 'hello' });
    await inbox.waitFor(1);
    await expect(connector.sender('not a channel', 'x')).rejects.toThrow(/Slack refused/);
    slack.drop();
    await eventually(() => (slack.connections() === 1 && slack.opened() >= 2 ? true : undefined), 30_000);
    const text = JSON.stringify(logged.entries);
    expect(logged.entries.some((e) => e.level === 'debug')).toBe(true);
    expect(text).not.toContain(slack.botToken);
    expect(text).not.toContain(slack.appToken);
  });

  it('reconnects after the server drops the connection', async () => {
    expect(slack.opened()).toBe(1);
    slack.drop();
    await eventually(() => (slack.opened() >= 2 && slack.connections() === 1 ? true : undefined), 30_000);
    await slack.send({ channel: 'D0DM000001', user: 'U0ALICE01', text: 'after the drop' });
    const [msg] = await inbox.waitFor(1);
    expect(msg?.text).toBe('after the drop');
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
