import { describe, expect, it } from 'vitest';
import { type RoutingConfig, resolveRoute, validateRoutingConfig } from '../../channels/routing.js';
import { groupMessage, message } from './fixtures.js';

const agents = [
  { id: 'main', name: 'Everyday', default: true },
  { id: 'family', name: 'Family helper', pipeline: 'family' },
  { id: 'work', name: 'Work' },
  { id: 'alice', name: 'Alice only' },
  { id: 'tg', name: 'Telegram' },
];

// One binding per tier, listed least specific first, so order alone cannot explain a win.
const config: RoutingConfig = {
  agents,
  bindings: [
    { match: { channel: 'telegram' }, agentId: 'tg' },
    { match: { channel: 'telegram', accountId: 'work' }, agentId: 'work' },
    { match: { channel: 'telegram', group: '-100777' }, agentId: 'family' },
    { match: { channel: 'telegram', peer: '1001' }, agentId: 'alice', pipeline: 'private' },
  ],
  session: { dmScope: 'per-channel-peer' },
};

describe('binding precedence: peer > group > account > channel > default agent', () => {
  it.each([
    ['Alice DMs on the work account', message({ accountId: 'work' }), 'alice', 'peer', 3],
    [
      'someone writes in the family group on the work account',
      groupMessage({ accountId: 'work' }),
      'family',
      'group',
      2,
    ],
    [
      'a thread of the family group',
      groupMessage({ chat: { kind: 'thread', threadId: '5' } }),
      'family',
      'group',
      2,
    ],
    [
      'Bob DMs on the work account',
      message({ accountId: 'work', sender: { id: '1002' } }),
      'work',
      'account',
      1,
    ],
    ['Bob DMs on the default account', message({ sender: { id: '1002' } }), 'tg', 'channel', 0],
    ['another group on the default account', groupMessage({ chat: { id: '-100888' } }), 'tg', 'channel', 0],
  ] as const)('%s → agent %s (by %s binding)', (_case, msg, agentId, tier, index) => {
    const route = resolveRoute(config, msg);
    expect(route.agentId).toBe(agentId);
    expect(route.bindingMatched).toEqual({ tier, index });
  });

  it('falls back to the default agent when no binding matches', () => {
    const route = resolveRoute(config, message({ channel: 'webchat' }));
    expect(route).toEqual({
      agentId: 'main',
      pipeline: 'default',
      sessionKey: 'agent:main:webchat:direct:1001',
      bindingMatched: null,
    });
  });

  it('picks the first agent when none is marked default, and "main" when there are no agents', () => {
    expect(resolveRoute({ agents: [{ id: 'Ops' }, { id: 'b' }] }, message()).agentId).toBe('ops');
    expect(resolveRoute({}, message())).toEqual({
      agentId: 'main',
      pipeline: 'default',
      sessionKey: 'agent:main:main',
      bindingMatched: null,
    });
  });

  it('lets the first listed binding win within a tier', () => {
    const route = resolveRoute(
      {
        agents,
        bindings: [
          { match: { channel: 'telegram', accountId: '*' }, agentId: 'work' },
          { match: { channel: 'telegram' }, agentId: 'tg' },
        ],
      },
      message(),
    );
    expect(route.bindingMatched).toEqual({ tier: 'channel', index: 0 });
    expect(route.agentId).toBe('work');
  });

  it('matches a peer binding only on direct messages, from that sender', () => {
    const route = resolveRoute(config, groupMessage({ sender: { id: '1001' } }));
    expect(route.agentId).toBe('family');
  });

  it('compares channel, account, peer and group ids case-insensitively', () => {
    const route = resolveRoute(config, message({ sender: { id: ' 1001 ' }, accountId: 'WORK' }));
    expect(route.agentId).toBe('alice');
  });

  it('takes the pipeline from the binding, else the agent, else "default"', () => {
    expect(resolveRoute(config, message()).pipeline).toBe('private');
    expect(resolveRoute(config, groupMessage()).pipeline).toBe('family');
    expect(resolveRoute(config, message({ sender: { id: '1002' } })).pipeline).toBe('default');
  });

  it('builds the session key for the chosen agent', () => {
    expect(resolveRoute(config, message()).sessionKey).toBe('agent:alice:telegram:direct:1001');
    expect(resolveRoute(config, groupMessage({ chat: { kind: 'thread', threadId: '5' } })).sessionKey).toBe(
      'agent:family:telegram:group:-100777:thread:5',
    );
  });
});

describe('routing config validation', () => {
  it("keys a Slack or Discord channel (roomType channel) with OpenClaw's word 'channel'", () => {
    const msg = groupMessage({
      channel: 'discord',
      chat: { id: '123', kind: 'thread', threadId: '987', roomType: 'channel' },
    });
    expect(resolveRoute({}, msg).sessionKey).toBe('agent:main:discord:channel:123:thread:987');
  });

  it('accepts the example config', () => {
    expect(
      validateRoutingConfig({ ...config, channels: { telegram: { dmPolicy: 'pairing', botToken: 'x' } } }),
    ).toEqual({
      ok: true,
      value: expect.anything(),
    });
  });

  it('explains schema errors by path', () => {
    const result = validateRoutingConfig({
      session: { dmScope: 'per-user' },
      bindings: [{ match: { peer: '1001', group: '-1' }, agentId: 'main' }],
      channels: { telegram: { dmPolicy: 'everyone' } },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        {
          path: 'session.dmScope',
          message:
            'must be one of "main", "per-peer", "per-channel-peer", "per-account-channel-peer" (got "per-user")',
        },
        { path: 'bindings[0].match.channel', message: 'is required' },
        { path: 'bindings[0].match', message: 'must not set peer and group together' },
        {
          path: 'channels.telegram.dmPolicy',
          message: 'must be one of "pairing", "allowlist", "open", "disabled" (got "everyone")',
        },
      ]),
    );
  });

  it('catches what the schema cannot: duplicate agents, two defaults, bindings to unknown agents', () => {
    const result = validateRoutingConfig({
      agents: [{ id: 'main', default: true }, { id: 'Main' }, { id: 'ops', default: true }],
      bindings: [{ match: { channel: 'telegram' }, agentId: 'nobody' }],
    });
    expect(result).toEqual({
      ok: false,
      errors: [
        { path: 'agents[1].id', message: '"Main" is already the id of agents[0] (ids ignore case)' },
        { path: 'agents[2].default', message: 'only one agent can be the default; agents[0] already is' },
        { path: 'bindings[0].agentId', message: 'names no agent; expected one of "main", "ops"' },
      ],
    });
  });
});
