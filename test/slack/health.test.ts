// Health that tells the truth, for Slack and Discord: /readyz (and so `switchyard doctor` and
// OpenClaw's health) says what each connector is really doing — a refused token or intent, a
// connection lost and being retried, connected again once the platform is back.
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Readiness } from '../../gateway/health.js';
import { type FakeDiscord, startFakeDiscord } from '../discord/helpers.js';
import { startBareGateway } from '../helpers/gateway-stack.js';
import { until } from '../helpers/until.js';
import { type FakeSlack, startFakeSlack } from './helpers.js';

const readyz = async (base: string) => (await (await fetch(`${base}/readyz`)).json()) as Readiness;
const stateOf = async (base: string, channel: string) =>
  (await readyz(base)).channels.find((c) => c.channel === channel);

describe('Slack and Discord connector health in /readyz', () => {
  const address = inject('temporalAddress');
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });
  const slackFake = async () => {
    const slack = await startFakeSlack();
    cleanups.push(() => slack.close());
    return slack;
  };
  const discordFake = async () => {
    const discord = await startFakeDiscord();
    cleanups.push(() => discord.close());
    return discord;
  };
  const gateway = async (yaml: string[]) => {
    const bare = await startBareGateway(address, { name: 'chathealth', yaml: ['channels:', ...yaml] });
    cleanups.push(() => bare.close());
    return bare;
  };
  const slackYaml = (slack: FakeSlack, botToken = slack.botToken, appToken = slack.appToken) => [
    '  slack:',
    `    botToken: "${botToken}"`,
    `    appToken: "${appToken}"`,
    `    apiUrl: "${slack.apiUrl}"`,
  ];
  const discordYaml = (discord: FakeDiscord, botToken = discord.botToken) => [
    '  discord:',
    `    botToken: "${botToken}"`,
    `    apiRoot: "${discord.apiRoot}"`,
  ];

  it('reports a refused Slack bot token, or app-level token, as auth-failed with what to do', async () => {
    const slack = await slackFake();
    const badBot = await gateway(slackYaml(slack, 'xoxb-not-the-right-one'));
    const bot = await until(async () => {
      const s = await stateOf(badBot.base, 'slack');
      return s?.state === 'auth-failed' ? s : undefined;
    });
    expect(bot.action).toMatch(/channels\.slack\.botToken/);
    expect(bot.lastError).not.toContain('xoxb-not-the-right-one');
    expect((await readyz(badBot.base)).problems).toEqual([
      expect.stringMatching(/^slack\/default was refused by the platform: Slack refused the bot token/),
    ]);

    const badApp = await gateway(slackYaml(slack, slack.botToken, 'xapp-1-wrong-app-token'));
    const app = await until(async () => {
      const s = await stateOf(badApp.base, 'slack');
      return s?.state === 'auth-failed' ? s : undefined;
    });
    expect(app.action).toMatch(/channels\.slack\.appToken/);
  });

  it('shows a Slack socket that cannot be reopened as reconnecting, then connected again', async () => {
    const slack = await slackFake();
    const { base } = await gateway(slackYaml(slack));
    await until(async () => ((await stateOf(base, 'slack'))?.state === 'connected' ? true : undefined));
    slack.refuseConnections(true);
    slack.drop();
    const lost = await until(async () => {
      const s = await stateOf(base, 'slack');
      return s?.state === 'reconnecting' && (s.attempt ?? 0) >= 2 ? s : undefined;
    }, 20_000);
    expect(lost.lastError).toMatch(/could not reach Slack|closed/);
    slack.refuseConnections(false);
    await until(
      async () => ((await stateOf(base, 'slack'))?.state === 'connected' ? true : undefined),
      40_000,
    );
    expect(slack.connections()).toBe(1);
  });

  it('reports a refused Discord token as auth-failed', async () => {
    const discord = await discordFake();
    const { base } = await gateway(discordYaml(discord, 'AAAA.BBBB.CCCC'));
    const refused = await until(async () => {
      const s = await stateOf(base, 'discord');
      return s?.state === 'auth-failed' ? s : undefined;
    });
    expect(refused.action).toMatch(/channels\.discord\.botToken/);
    expect(refused.lastError).not.toContain('AAAA.BBBB.CCCC');
  });

  it('shows a Discord gateway connection that is gone as reconnecting, then connected again', async () => {
    const discord = await discordFake();
    const { base } = await gateway(discordYaml(discord));
    await until(async () => ((await stateOf(base, 'discord'))?.state === 'connected' ? true : undefined));
    discord.refuseConnections(true);
    discord.drop();
    await until(async () => ((await stateOf(base, 'discord'))?.state === 'reconnecting' ? true : undefined));
    discord.refuseConnections(false);
    await until(
      async () => ((await stateOf(base, 'discord'))?.state === 'connected' ? true : undefined),
      60_000,
    );
  });
});
