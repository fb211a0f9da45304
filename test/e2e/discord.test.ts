// Discord end to end: Discord's wire protocol (crabline's REST API and gateway, behind a proxy
// that can drop the connection or replay a dispatch) drives the real discord.js connector in the
// real gateway; turns run on a real worker and Temporal; replies go out through the exactly-once
// send activity on the gateway's discord queue, each with its enforced nonce.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SessionNotFoundError, sessionHistory } from '../../client/sessions.js';
import { PairingStore } from '../../gateway/store/pairing.js';
import { type FakeDiscord, startFakeDiscord } from '../discord/helpers.js';
import { type GatewayStack, startGatewayStack } from '../helpers/gateway-stack.js';
import { eventually } from '../telegram/helpers.js';

const OWNER = '135000000000009101';
const OWNER2 = '135000000000009102';
const OWNER3 = '135000000000009103';
const STRANGER = '135000000000009666';
const THREAD = '135000000000008101';

describe('Discord through the real gateway, worker and Temporal', () => {
  const address = inject('temporalAddress');
  let discord: FakeDiscord;
  let stack: GatewayStack;

  beforeAll(async () => {
    discord = await startFakeDiscord();
    stack = await startGatewayStack(address, {
      name: 'discord',
      yaml: [
        'channels:',
        '  discord:',
        `    botToken: "${discord.botToken}"`,
        `    apiRoot: "${discord.apiRoot}"`,
        '    dmPolicy: pairing',
        `    allowFrom: ["${OWNER}", "${OWNER2}", "${OWNER3}"]`,
        // The whole server is allowed, by its guild id.
        '    groups:',
        `      "${discord.guildId}": {}`,
      ],
      // The worker's live output reaches the gateway, as in production: Discord shows "typing…".
      liveOutput: true,
    });
    stack.agent.answerWith((prompt) => `Echo: ${prompt}`);
  });
  afterAll(async () => {
    await stack?.close();
    await discord?.close();
  });

  const userLines = async (sessionKey: string) =>
    (await sessionHistory(stack.gateway.client, sessionKey)).transcript
      .filter((e) => e.role === 'user')
      .map((e) => e.text);

  it('answers a DM once, in the same DM, as a reply carrying an enforced nonce', async () => {
    const dm = discord.dmChannel(OWNER);
    const asked = await discord.send({
      channelId: dm,
      senderId: OWNER,
      senderName: 'alice',
      content: 'good morning',
    });
    const reply = await eventually(() => discord.posts(dm)[0], 30_000);
    expect(reply).toMatchObject({
      content: 'Echo: good morning',
      message_reference: { message_id: asked.id },
      enforce_nonce: true,
    });
    expect(String(reply.nonce)).toMatch(/^[0-9a-f]{25}$/);
    // While the answer formed, the DM showed "typing…".
    expect(discord.calls('POST', new RegExp(`/channels/${dm}/typing$`)).length).toBeGreaterThanOrEqual(1);
    // A later message is answered after it: had the first been answered twice, it would show.
    await discord.send({ channelId: dm, senderId: OWNER, content: 'and again' });
    await eventually(() => discord.posts(dm)[1], 30_000);
    expect(discord.posts(dm).map((p) => p.content)).toEqual(['Echo: good morning', 'Echo: and again']);
  });

  it('gives a stranger a pairing code and starts no turn; after approval the next DM is answered', async () => {
    const dm = discord.dmChannel(STRANGER);
    await discord.send({
      channelId: dm,
      senderId: STRANGER,
      senderName: 'mallory',
      content: 'hi, who are you?',
    });
    const challenge = await eventually(() => discord.posts(dm)[0], 15_000);
    const code = /pairing approve discord ([A-Z0-9]{8})/.exec(String(challenge.content))?.[1];
    expect(code).toBeDefined();
    await expect(userLines(`agent:main:discord:direct:${STRANGER}`)).rejects.toThrow(SessionNotFoundError);

    new PairingStore(stack.gateway.db).approve('discord', code!);
    await discord.send({ channelId: dm, senderId: STRANGER, content: 'now?' });
    await eventually(() => discord.posts(dm)[1], 30_000);
    expect(discord.posts(dm)[1]?.content).toBe('Echo: now?');
    expect(await userLines(`agent:main:discord:direct:${STRANGER}`)).toEqual(['now?']);
  });

  it('starts no turn for an unmentioned guild message; answers a mention or a reply to it in the channel, and a mention in a thread', async () => {
    const channel = discord.channelId;
    const guildId = discord.guildId;
    await discord.send({
      channelId: channel,
      guildId,
      senderId: OWNER,
      content: 'just chatting among ourselves',
    });
    const asked = await discord.send({
      channelId: channel,
      guildId,
      senderId: OWNER,
      content: `<@${discord.botUserId}> what time is it?`,
    });
    const answer = await eventually(() => discord.posts(channel)[0], 30_000);
    expect(answer).toMatchObject({
      content: `Echo: <@${discord.botUserId}> what time is it?`,
      message_reference: { message_id: asked.id },
    });

    // A reply to the assistant's message addresses it, without a mention.
    const listed = await fetch(`${discord.apiRoot}/v10/channels/${channel}/messages?limit=10`, {
      headers: { authorization: `Bot ${discord.botToken}` },
    });
    const mine = ((await listed.json()) as Array<{ id: string; author: { id: string } }>).find(
      (m) => m.author.id === discord.botUserId,
    );
    await discord.send({
      channelId: channel,
      guildId,
      senderId: OWNER,
      content: 'and tomorrow?',
      message_reference: { message_id: mine!.id },
    });
    await eventually(() => discord.posts(channel)[1], 30_000);
    expect(discord.posts(channel)[1]?.content).toBe('Echo: and tomorrow?');

    // In a thread, the session is the thread's.
    await discord.send({
      channelId: THREAD,
      parentChannelId: channel,
      guildId,
      senderId: OWNER,
      content: `<@${discord.botUserId}> in the thread`,
    });
    await eventually(() => discord.posts(THREAD)[0], 30_000);
    expect(discord.posts(THREAD).map((p) => p.content)).toEqual([
      `Echo: <@${discord.botUserId}> in the thread`,
    ]);
    expect(await userLines(`agent:main:discord:channel:${channel}:thread:${THREAD}`)).toEqual([
      `<@${discord.botUserId}> in the thread`,
    ]);
    expect(discord.posts(channel)).toHaveLength(2);
    // The unmentioned message never became a turn.
    expect(await userLines(`agent:main:discord:channel:${channel}`)).toEqual([
      `<@${discord.botUserId}> what time is it?`,
      'and tomorrow?',
    ]);
  });

  it('turns a dispatch delivered twice into no second turn', async () => {
    const dm = discord.dmChannel(OWNER2);
    const first = await discord.send({ channelId: dm, senderId: OWNER2, content: 'only once please' });
    await eventually(() => discord.posts(dm)[0], 30_000);
    discord.redeliver(first.id);
    await discord.send({ channelId: dm, senderId: OWNER2, content: 'and this one' });
    await eventually(() => discord.posts(dm)[1], 30_000);
    expect(discord.posts(dm).map((p) => p.content)).toEqual(['Echo: only once please', 'Echo: and this one']);
    expect(await userLines(`agent:main:discord:direct:${OWNER2}`)).toEqual([
      'only once please',
      'and this one',
    ]);
  });

  it('reconnects after Discord drops the gateway connection, and answers what comes after', async () => {
    const dm = discord.dmChannel(OWNER3);
    const before = discord.sessions();
    discord.drop();
    await eventually(
      () => (discord.sessions() > before && discord.connections() === 1 ? true : undefined),
      30_000,
    );
    await discord.send({ channelId: dm, senderId: OWNER3, content: 'still there?' });
    await eventually(() => discord.posts(dm)[0], 30_000);
    expect(discord.posts(dm).map((p) => p.content)).toEqual(['Echo: still there?']);
  });
});
