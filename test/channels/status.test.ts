import { ChannelsStatusResultSchema, SnapshotSchema } from '@openclaw/gateway-protocol';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  ConnectorStatusBoard,
  connectorProblem,
  describeStatus,
  STUCK_AFTER_MS,
} from '../../channels/status.js';
import { channelsStatus, gatewayHealth } from '../../gateway/openclaw/health.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('connector status', () => {
  it('starts connecting, then says since when it is connected', () => {
    const time = clock();
    const board = new ConnectorStatusBoard({ now: time.now });
    const wa = board.account('whatsapp', 'default', { mode: 'websocket' });
    expect(wa.current()).toMatchObject({ state: 'connecting', since: 1_000_000, mode: 'websocket' });
    time.advance(500);
    wa.connected();
    expect(board.list()).toEqual([
      {
        channel: 'whatsapp',
        accountId: 'default',
        state: 'connected',
        since: 1_000_500,
        lastConnectedAt: 1_000_500,
        mode: 'websocket',
      },
    ]);
  });

  it('counts reconnect attempts from the first failure and becomes a problem once stuck', () => {
    const time = clock();
    const board = new ConnectorStatusBoard({ now: time.now });
    const tg = board.account('telegram', 'work');
    tg.connected();
    time.advance(1000);
    tg.reconnecting(new Error('connect ECONNREFUSED'));
    const lostAt = time.now();
    time.advance(2000);
    tg.reconnecting(new Error('connect ECONNREFUSED again'));
    expect(tg.current()).toMatchObject({
      state: 'reconnecting',
      since: lostAt,
      attempt: 2,
      lastError: 'connect ECONNREFUSED again',
    });
    expect(connectorProblem(tg.current(), time.now())).toBeUndefined();
    time.advance(STUCK_AFTER_MS);
    expect(connectorProblem(tg.current(), time.now())).toMatch(
      /^telegram\/work has been reconnecting since .* \(attempt 2\): connect ECONNREFUSED again$/,
    );
    tg.connected();
    expect(tg.current()).toMatchObject({ state: 'connected' });
    expect(tg.current().attempt).toBeUndefined();
  });

  it('reports logged out and refused credentials at once, with what to do', () => {
    const board = new ConnectorStatusBoard();
    const wa = board.account('whatsapp', 'default');
    wa.loggedOut('Run `switchyard channels login whatsapp` to link again.', new Error('Connection Failure'));
    expect(connectorProblem(wa.current())).toBe(
      'whatsapp/default is logged out: Connection Failure. Run `switchyard channels login whatsapp` to link again.',
    );
    const tg = board.account('telegram', 'default');
    tg.authFailed(new Error('401 Unauthorized'), 'Fix the token.');
    expect(connectorProblem(tg.current())).toBe(
      'telegram/default was refused by the platform: 401 Unauthorized. Fix the token.',
    );
    expect(describeStatus(tg.current())).toMatch(/^credentials refused 0 s ago: 401 Unauthorized$/);
  });

  it('masks the account secrets in every error it reports', () => {
    const board = new ConnectorStatusBoard();
    const tg = board.account('telegram', 'default', { secrets: ['123456:SECRET-token'] });
    tg.reconnecting(new Error('GET https://api.telegram.org/bot123456:SECRET-token/getMe failed'));
    expect(tg.current().lastError).toBe('GET https://api.telegram.org/bot***/getMe failed');
  });

  it('tells listeners about state changes, not about every message', () => {
    const seen: string[] = [];
    const board = new ConnectorStatusBoard({ onChange: (s) => seen.push(s.state) });
    const tg = board.account('telegram', 'default');
    tg.connected();
    tg.inbound();
    tg.inbound();
    tg.connected();
    tg.reconnecting('timeout');
    tg.reconnecting('timeout');
    tg.stopped();
    expect(seen).toEqual(['connected', 'reconnecting', 'reconnecting', 'stopped']);
    expect(tg.current().lastInboundAt).toBeTypeOf('number');
  });
});

describe("OpenClaw's health payload", () => {
  it('lists each channel with its accounts in the shape OpenClaw clients read, valid by its schema', () => {
    const board = new ConnectorStatusBoard();
    board.account('whatsapp', 'personal').connected();
    board.account('whatsapp', 'work').loggedOut('Link it.');
    board.account('telegram', 'default').reconnecting(new Error('ECONNRESET'));
    const health = gatewayHealth('sessions', board.list());
    const validate = new Ajv({ strict: false }).compile(
      (SnapshotSchema as { properties: { health: object } }).properties.health,
    );
    expect(validate(health), JSON.stringify(validate.errors)).toBe(true);
    expect(health.channelOrder).toEqual(['whatsapp', 'telegram']);
    expect(health.channelLabels).toEqual({ whatsapp: 'WhatsApp', telegram: 'Telegram' });
    expect(health.channels?.whatsapp).toMatchObject({
      accountId: 'personal',
      connected: true,
      accounts: {
        personal: { healthState: 'connected', connected: true, linked: true },
        work: { healthState: 'logged-out', connected: false, linked: false, action: 'Link it.' },
      },
    });
    expect(health.channels?.telegram).toMatchObject({
      healthState: 'reconnecting',
      reconnectAttempts: 1,
      lastError: 'ECONNRESET',
    });
  });
});

describe("OpenClaw's channels.status", () => {
  it('lists every account of every channel, valid by its schema; `channel` picks one', () => {
    const board = new ConnectorStatusBoard();
    board.account('whatsapp', 'personal').connected();
    board
      .account('whatsapp', 'work')
      .loggedOut('Link it: run `switchyard channels login whatsapp --account work`.');
    board.account('slack', 'default').authFailed(new Error('invalid_auth'), 'Check SLACK_BOT_TOKEN.');
    const result = channelsStatus(board.list());
    const validate = new Ajv({ strict: false }).compile(ChannelsStatusResultSchema);
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
    expect(result).toMatchObject({
      channelOrder: ['whatsapp', 'slack'],
      channelLabels: { whatsapp: 'WhatsApp', slack: 'Slack' },
      channelDefaultAccountId: { whatsapp: 'personal', slack: 'default' },
      channels: {
        whatsapp: { accountId: 'personal', connected: true },
        slack: { healthState: 'auth-failed' },
      },
      channelAccounts: {
        whatsapp: [
          { accountId: 'personal', healthState: 'connected', connected: true, linked: true },
          {
            accountId: 'work',
            healthState: 'logged-out',
            connected: false,
            linked: false,
            running: true,
            problem: expect.stringContaining('whatsapp/work is logged out'),
          },
        ],
        slack: [{ accountId: 'default', connected: false, lastError: 'invalid_auth' }],
      },
    });
    const onlySlack = channelsStatus(board.list(), 'slack');
    expect(onlySlack.channelOrder).toEqual(['slack']);
    expect(Object.keys(onlySlack.channelAccounts as object)).toEqual(['slack']);
    expect(channelsStatus(board.list(), 'discord')).toMatchObject({ channelOrder: [], channelAccounts: {} });
  });
});
