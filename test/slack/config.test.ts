import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDiscordAccounts } from '../../channels/discord/config.js';
import { resolveSlackAccounts } from '../../channels/slack/config.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';

function problems(yaml: string): string[] {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-slackcfg-'));
  writeFileSync(join(home, 'switchyard.yaml'), yaml);
  try {
    loadConfig({ home, env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(
      (p) => `${p.where.replace(/^.*switchyard\.yaml/, 'switchyard.yaml')} ${p.key}: ${p.message}`,
    );
  }
  throw new Error('expected a ConfigError');
}

describe('channels.slack connector settings', () => {
  it('is off when no bot token is configured anywhere', () => {
    expect(resolveSlackAccounts(undefined, { env: {} })).toEqual([]);
    expect(resolveSlackAccounts({ dmPolicy: 'pairing' }, { env: {} })).toEqual([]);
  });

  it('defaults to Socket Mode with both tokens from the environment', () => {
    expect(
      resolveSlackAccounts(
        {},
        { env: { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-A1-2-def' } },
      ),
    ).toEqual([
      {
        accountId: 'default',
        mode: 'socket',
        botToken: 'xoxb-1-2-abc',
        appToken: 'xapp-1-A1-2-def',
        replyInThread: true,
      },
    ]);
  });

  it('takes HTTP mode with a signing secret, and several apps under accounts', () => {
    const accounts = resolveSlackAccounts(
      {
        mode: 'http',
        replyInThread: false,
        accounts: {
          work: { botToken: { env: 'WORK_SLACK' }, signingSecret: { env: 'WORK_SIGNING' } },
          home: { mode: 'socket', botToken: 'xoxb-home', appToken: 'xapp-home' },
        },
      },
      { env: { WORK_SLACK: 'xoxb-work', WORK_SIGNING: 'sign-sign-sign' } },
    );
    expect(accounts).toEqual([
      {
        accountId: 'work',
        mode: 'http',
        botToken: 'xoxb-work',
        signingSecret: 'sign-sign-sign',
        replyInThread: false,
      },
      {
        accountId: 'home',
        mode: 'socket',
        botToken: 'xoxb-home',
        appToken: 'xapp-home',
        replyInThread: false,
      },
    ]);
  });

  it('says what is missing or wrong, naming the key and never the value', () => {
    expect(() => resolveSlackAccounts({ botToken: 'xoxb-1' }, { env: {} })).toThrow(
      /channels\.slack\.appToken \(or SLACK_APP_TOKEN\) is required in Socket Mode/,
    );
    expect(() => resolveSlackAccounts({ mode: 'http', botToken: 'xoxb-1' }, { env: {} })).toThrow(
      /channels\.slack\.signingSecret \(or SLACK_SIGNING_SECRET\) is required in HTTP mode/,
    );
    expect(() => resolveSlackAccounts({ botToken: 'xapp-1-oops', appToken: 'xapp-1' }, { env: {} })).toThrow(
      /channels\.slack\.botToken does not look like a Slack bot token \(xoxb-...\); the xapp- token belongs in appToken/,
    );
    expect(() => resolveSlackAccounts({ mode: 'socket' }, { env: {} })).toThrow(
      /channels\.slack has no bot token/,
    );
    expect(() =>
      resolveSlackAccounts(
        { accounts: { a: { botToken: { env: 'NOPE' }, appToken: 'xapp-1' } } },
        { env: {} },
      ),
    ).toThrow('channels.slack.accounts.a.botToken: environment variable NOPE is not set');
  });

  it('reports a wrong key or value under channels.slack with its file:line', () => {
    expect(problems('channels:\n  slack:\n    mode: websocket\n    botTokn: xoxb-1\n')).toEqual([
      'switchyard.yaml:4:5 channels.slack.botTokn: is not a known field; known fields: dmPolicy, allowFrom, ' +
        'groupPolicy, groups, groupAllowFrom, requireMention, enabled, mode, botToken, appToken, signingSecret, ' +
        'apiUrl, replyInThread, onUncertain, accountId, accounts',
      'switchyard.yaml:3:11 channels.slack.mode: must be one of "socket", "http" (got "websocket")',
    ]);
  });
});

describe('channels.discord connector settings', () => {
  it('is off without a token, and takes DISCORD_BOT_TOKEN for the default account', () => {
    expect(resolveDiscordAccounts({ groupPolicy: 'open' }, { env: {} })).toEqual([]);
    expect(resolveDiscordAccounts({}, { env: { DISCORD_BOT_TOKEN: 'aaa.bbb.ccc' } })).toEqual([
      { accountId: 'default', botToken: 'aaa.bbb.ccc' },
    ]);
  });

  it('says what is wrong, naming the key', () => {
    expect(() => resolveDiscordAccounts({ botToken: '1234567890' }, { env: {} })).toThrow(
      /channels\.discord\.botToken does not look like a Discord bot token/,
    );
    expect(() => resolveDiscordAccounts({ enabled: true }, { env: {} })).toThrow(/DISCORD_BOT_TOKEN/);
    expect(() =>
      resolveDiscordAccounts(
        { accounts: { a: { botToken: 'x.y.z' }, b: { botToken: 'x.y.z' } } },
        { env: {} },
      ),
    ).toThrow(/accounts "a" and "b" use the same bot token/);
  });

  it('reports a wrong key under channels.discord with its file:line', () => {
    const found = problems('channels:\n  discord:\n    apiRoot: 42\n');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^switchyard\.yaml:3:14 channels\.discord\.apiRoot: /);
  });
});
