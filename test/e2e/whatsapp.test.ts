// WhatsApp end to end: a local server speaking WhatsApp Web's protocol (crabline) drives the real
// baileys-based connector in the real gateway; the turn runs on a real worker and Temporal; the
// reply comes back through the exactly-once send activity on the gateway's whatsapp queue.
import type { WAMessage } from 'baileys';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createWhatsAppConnector } from '../../channels/whatsapp/connector.js';
import { gatewayChecks } from '../../cli/commands/doctor.js';
import { sessionHistory } from '../../client/sessions.js';
import type { Readiness } from '../../gateway/health.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { until } from '../helpers/until.js';
import { startWhatsAppStack, type WhatsAppStack } from '../helpers/whatsapp-stack.js';
import { connectParams, RawClient } from '../protocol/harness.js';
import { recordingLog } from '../telegram/helpers.js';

const OWNER = '15551110001@s.whatsapp.net';
const STRANGER = '15551110002@s.whatsapp.net';
const GROUP = '120363000000000001@g.us';

const readyz = async (base: string) => (await (await fetch(`${base}/readyz`)).json()) as Readiness;

describe('WhatsApp through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let stack: WhatsAppStack;

  beforeAll(async () => {
    stack = await startWhatsAppStack(address, {
      name: 'wa',
      whatsapp: ['dmPolicy: pairing', 'allowFrom: ["+15551110001"]', 'groupPolicy: open'],
      liveOutput: true,
    });
    stack.agent.answerWith((prompt) => `Echo from the assistant: ${prompt}`);
    await until(
      async () => ((await readyz(stack.base)).channels[0]?.state === 'connected' ? true : undefined),
      30_000,
    );
  });
  afterAll(async () => stack?.close());

  const repliesTo = (jid: string) => stack.whatsapp.accepted().filter((m) => m.chatJid === jid);

  it('answers a DM once, in the same chat; typing… shows while it forms', async () => {
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      pushName: 'Alice',
      text: 'good morning',
      messageId: 'E2E-DM-1',
    });
    const reply = await until(() => repliesTo(OWNER)[0], 30_000);
    expect(reply.text).toBe('Echo from the assistant: good morning');
    const composing = stack.whatsapp
      .events()
      .filter((e) => (e.body as { tag?: string } | undefined)?.tag === 'chatstate')
      .map((e) => (e.body as { content?: Array<{ tag: string }> }).content?.[0]?.tag);
    expect(composing).toContain('composing');
    // A sentinel proves nothing else was sent for the first message.
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      text: 'sentinel one',
      messageId: 'E2E-DM-2',
    });
    await until(() => (repliesTo(OWNER).length >= 2 ? true : undefined), 30_000);
    expect(repliesTo(OWNER).map((m) => m.text)).toEqual([
      'Echo from the assistant: good morning',
      'Echo from the assistant: sentinel one',
    ]);
  });

  it('gives a stranger a pairing code and starts no turn; after approval the next message is answered', async () => {
    await stack.whatsapp.inject({
      chatJid: STRANGER,
      senderJid: STRANGER,
      pushName: 'Mallory',
      text: 'hi, who are you?',
      messageId: 'E2E-S-1',
    });
    const challenge = await until(() => repliesTo(STRANGER)[0], 30_000);
    const code = /pairing approve whatsapp ([A-Z0-9]{8})/.exec(challenge.text)?.[1];
    expect(code).toBeDefined();
    await expect(
      sessionHistory(stack.gateway.client, 'agent:main:whatsapp:direct:+15551110002'),
    ).rejects.toThrow();

    new PairingStore(stack.gateway.db).approve('whatsapp', code!);
    await stack.whatsapp.inject({
      chatJid: STRANGER,
      senderJid: STRANGER,
      text: 'now?',
      messageId: 'E2E-S-2',
    });
    const answer = await until(() => repliesTo(STRANGER)[1], 30_000);
    expect(answer.text).toBe('Echo from the assistant: now?');
    const history = await sessionHistory(stack.gateway.client, 'agent:main:whatsapp:direct:+15551110002');
    expect(history.transcript.filter((e) => e.role === 'user').map((e) => e.text)).toEqual(['now?']);
  });

  it('turns a re-delivered message into neither a second turn nor a second reply', async () => {
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      text: 'only once please',
      messageId: 'E2E-RE-1',
    });
    await until(() => repliesTo(OWNER).find((m) => m.text.endsWith('only once please')), 30_000);
    // The same message delivered again (crabline refuses a repeated id, so it is handed to a
    // connector directly, twice, as baileys would emit it), through the same router into Temporal.
    const again: WAMessage = {
      key: { remoteJid: OWNER, fromMe: false, id: 'E2E-RE-1', participant: '' },
      message: { conversation: 'only once please' },
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: 'Alice',
    };
    const connector = createWhatsAppConnector({
      authDir: `${stack.home}/whatsapp/unused`,
      access: new PairingStore(stack.gateway.db),
      policy: stack.config.routing.channels?.whatsapp,
      onInbound: async (message) => void (await stack.gateway.router.ingest(message)),
      log: recordingLog().log,
    });
    await connector.handleUpsert([again], 'notify', { jid: stack.whatsapp.selfJid });
    await connector.handleUpsert([again], 'notify', { jid: stack.whatsapp.selfJid });
    await connector.idle();
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      text: 'and this one',
      messageId: 'E2E-RE-2',
    });
    await until(() => repliesTo(OWNER).find((m) => m.text.endsWith('and this one')), 30_000);
    expect(repliesTo(OWNER).filter((m) => m.text.endsWith('only once please'))).toHaveLength(1);
    const history = await sessionHistory(stack.gateway.client, 'agent:main:whatsapp:direct:+15551110001');
    const users = history.transcript.filter((e) => e.role === 'user').map((e) => e.text);
    expect(users.filter((t) => t === 'only once please')).toHaveLength(1);
    expect(users.at(-1)).toBe('and this one');
  });

  it('starts no turn for an unmentioned group message', async () => {
    await stack.whatsapp.inject({
      chatJid: GROUP,
      senderJid: OWNER,
      pushName: 'Alice',
      text: 'lunch anyone?',
      messageId: 'E2E-G-1',
    });
    // A DM after it proves the group message was decided before.
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      text: 'group sentinel',
      messageId: 'E2E-G-2',
    });
    await until(() => repliesTo(OWNER).find((m) => m.text.endsWith('group sentinel')), 30_000);
    await expect(
      sessionHistory(stack.gateway.client, `agent:main:whatsapp:group:${GROUP}`),
    ).rejects.toThrow();
    expect(repliesTo(GROUP)).toEqual([]);
  });

  it('reconnects after the server drops and comes back, and answers again', async () => {
    await stack.whatsapp.stop();
    const lost = await until(async () => {
      const channel = (await readyz(stack.base)).channels[0];
      return channel?.state === 'reconnecting' ? channel : undefined;
    }, 30_000);
    expect(lost.attempt).toBeGreaterThanOrEqual(1);
    await stack.whatsapp.restart();
    await until(
      async () => ((await readyz(stack.base)).channels[0]?.state === 'connected' ? true : undefined),
      90_000,
    );
    await stack.whatsapp.inject({
      chatJid: OWNER,
      senderJid: OWNER,
      text: 'are you back?',
      messageId: 'E2E-RC-1',
    });
    const reply = await until(() => repliesTo(OWNER).find((m) => m.text.endsWith('are you back?')), 30_000);
    expect(reply.text).toBe('Echo from the assistant: are you back?');
  });
});

describe('a WhatsApp account that is not linked', () => {
  const address = inject('temporalAddress');
  let stack: WhatsAppStack;
  beforeAll(async () => {
    stack = await startWhatsAppStack(address, { name: 'wanl', whatsapp: [], linked: false });
  });
  afterAll(async () => stack?.close());

  it('is reported logged out in /readyz and by doctor, with how to link it', async () => {
    const ready = await readyz(stack.base);
    expect(ready.channels).toEqual([
      expect.objectContaining({ channel: 'whatsapp', accountId: 'default', state: 'logged-out' }),
    ]);
    expect(ready.problems[0]).toMatch(
      /^whatsapp\/default is logged out: not linked yet\. Link it: run `switchyard channels login whatsapp`/,
    );
    const port = Number(new URL(stack.base).port);
    const checks = await gatewayChecks({ ...stack.config, gateway: { ...stack.config.gateway, port } });
    expect(checks.find((c) => c.name === 'whatsapp/default')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('switchyard channels login whatsapp'),
    });
  });

  it("is reported logged out by OpenClaw's health and channels.status", async () => {
    const client = await RawClient.open(stack.base.replace(/^http/, 'ws'));
    try {
      await client.challenge();
      expect(
        (await client.request('c1', 'connect', connectParams({ auth: { token: stack.token } }))).ok,
      ).toBe(true);
      const loggedOut = {
        accountId: 'default',
        healthState: 'logged-out',
        linked: false,
        connected: false,
        problem: expect.stringContaining('switchyard channels login whatsapp'),
      };
      const health = await client.request('h1', 'health', {});
      expect(health).toMatchObject({ ok: true, payload: { channels: { whatsapp: loggedOut } } });
      const status = await client.request('s1', 'channels.status', { channel: 'whatsapp', probe: true });
      expect(status).toMatchObject({
        ok: true,
        payload: {
          channelOrder: ['whatsapp'],
          channelDefaultAccountId: { whatsapp: 'default' },
          channelAccounts: { whatsapp: [loggedOut] },
        },
      });
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });
});
