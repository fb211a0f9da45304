import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSessionKey,
  type DmScope,
  parseSessionKey,
  type SessionKeyInput,
  sessionWorkflowId,
} from '../../channels/session-key.js';

const dm = (dmScope: DmScope, extra: Partial<SessionKeyInput> = {}) =>
  buildSessionKey({
    agentId: 'main',
    channel: 'telegram',
    accountId: 'work',
    peer: { kind: 'direct', id: '1001' },
    dmScope,
    ...extra,
  });

describe('session keys (OpenClaw grammar)', () => {
  it.each([
    ['main', 'agent:main:main'],
    ['per-peer', 'agent:main:direct:1001'],
    ['per-channel-peer', 'agent:main:telegram:direct:1001'],
    ['per-account-channel-peer', 'agent:main:telegram:work:direct:1001'],
  ] as const)('dmScope %s puts a DM in %s', (dmScope, expected) => {
    expect(dm(dmScope)).toBe(expected);
  });

  it('uses the configured main key for the shared DM session', () => {
    expect(dm('main', { mainKey: 'Home' })).toBe('agent:main:home');
  });

  it('keys a group by channel and group id, whatever the dmScope', () => {
    for (const dmScope of ['main', 'per-peer', 'per-channel-peer', 'per-account-channel-peer'] as const) {
      expect(
        buildSessionKey({
          agentId: 'main',
          channel: 'telegram',
          peer: { kind: 'group', id: '-100777' },
          dmScope,
        }),
      ).toBe('agent:main:telegram:group:-100777');
    }
  });

  it('appends a thread to its group key', () => {
    const key = buildSessionKey({
      agentId: 'main',
      channel: 'slack',
      peer: { kind: 'group', id: 'C0ABC', threadId: '1712.0042' },
    });
    expect(key).toBe('agent:main:slack:group:c0abc:thread:1712.0042');
  });

  it("keys a Slack or Discord channel with OpenClaw's word for it, threads included", () => {
    expect(
      buildSessionKey({
        agentId: 'main',
        channel: 'discord',
        peer: { kind: 'channel', id: '123456', threadId: '987654' },
      }),
    ).toBe('agent:main:discord:channel:123456:thread:987654');
  });

  it('appends a thread to a DM key too', () => {
    expect(dm('per-peer', { peer: { kind: 'direct', id: '1001', threadId: 'T9' } })).toBe(
      'agent:main:direct:1001:thread:t9',
    );
  });

  it('normalises like OpenClaw: lowercase ids, safe agent and account ids, defaults for blanks', () => {
    const key = buildSessionKey({
      agentId: ' Work Bot! ',
      channel: ' Slack ',
      accountId: 'Team One',
      peer: { kind: 'direct', id: ' U0ABC ' },
      dmScope: 'per-account-channel-peer',
    });
    expect(key).toBe('agent:work-bot:slack:team-one:direct:u0abc');
    expect(dm('per-account-channel-peer', { agentId: '', accountId: '' })).toBe(
      'agent:main:telegram:default:direct:1001',
    );
  });

  it('names the session workflow after the key', () => {
    expect(sessionWorkflowId('agent:main:main')).toBe('session:agent:main:main');
  });
});

describe('parseSessionKey', () => {
  it.each([
    ['agent:main:main', { scope: 'main', agentId: 'main', mainKey: 'main' }],
    ['agent:main:direct:1001', { scope: 'per-peer', agentId: 'main', peerId: '1001' }],
    [
      'agent:ops:telegram:direct:1001',
      { scope: 'per-channel-peer', agentId: 'ops', channel: 'telegram', peerId: '1001' },
    ],
    [
      'agent:main:telegram:work:direct:1001',
      {
        scope: 'per-account-channel-peer',
        agentId: 'main',
        channel: 'telegram',
        accountId: 'work',
        peerId: '1001',
      },
    ],
    [
      'agent:main:telegram:group:-100777',
      { scope: 'group', agentId: 'main', channel: 'telegram', groupId: '-100777', room: 'group' },
    ],
    [
      'agent:main:slack:group:c0abc:thread:1712.0042',
      {
        scope: 'group',
        agentId: 'main',
        channel: 'slack',
        groupId: 'c0abc',
        room: 'group',
        threadId: '1712.0042',
      },
    ],
    [
      'agent:main:discord:channel:987',
      { scope: 'group', agentId: 'main', channel: 'discord', groupId: '987', room: 'channel' },
    ],
    [
      'agent:main:matrix:direct:@bob:example.org',
      { scope: 'per-channel-peer', agentId: 'main', channel: 'matrix', peerId: '@bob:example.org' },
    ],
  ])('reads %s', (key, expected) => {
    expect(parseSessionKey(key)).toEqual(expected);
  });

  it.each(['cron:nightly', 'hook:0b7c', 'agent:main', 'agent::main', 'agent:main:a:b:c:d', ''])(
    'returns undefined for %j, which is not an agent session key',
    (key) => {
      expect(parseSessionKey(key)).toBeUndefined();
    },
  );

  it('reads back every key it builds', () => {
    const id = fc.stringMatching(/^[a-z0-9][a-z0-9._@+-]{0,20}$/);
    fc.assert(
      fc.property(
        fc.constantFrom<DmScope>('main', 'per-peer', 'per-channel-peer', 'per-account-channel-peer'),
        fc.boolean(),
        id,
        fc.option(id, { nil: undefined }),
        (dmScope, isGroup, peerId, threadId) => {
          const key = buildSessionKey({
            agentId: 'ops',
            channel: 'telegram',
            accountId: 'work',
            peer: { kind: isGroup ? 'group' : 'direct', id: peerId, threadId },
            dmScope,
          });
          const parsed = parseSessionKey(key);
          const scope = isGroup ? 'group' : dmScope;
          expect(parsed?.scope).toBe(scope);
          expect(parsed?.agentId).toBe('ops');
          expect(parsed?.threadId).toBe(threadId);
          if (parsed?.scope === 'group') expect(parsed.groupId).toBe(peerId);
          if (parsed && 'peerId' in parsed) expect(parsed.peerId).toBe(peerId);
        },
      ),
    );
  });
});
