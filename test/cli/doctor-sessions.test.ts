// switchyard doctor warns when one shared session (dmScope: main, the default) can be reached by
// more than one person (issue 12 §5), as OpenClaw's security audit does.
import { describe, expect, it } from 'vitest';
import { sharedSessionCheck } from '../../cli/commands/doctor.js';

describe('doctor: one conversation shared by several people', () => {
  it('warns under dmScope main when a channel takes anyone', () => {
    const check = sharedSessionCheck({ channels: { telegram: { dmPolicy: 'open' } } });
    expect(check).toMatchObject({ name: 'sessions', ok: false, optional: true });
    expect(check!.detail).toMatch(/dmScope is main .* anyone can write on telegram/);
    expect(check!.fix).toMatch(/dmScope: per-channel-peer/);
  });

  it('warns when the allowlists name more than one sender, across channels too', () => {
    expect(
      sharedSessionCheck({ channels: { telegram: { dmPolicy: 'allowlist', allowFrom: ['1', '2'] } } })
        ?.detail,
    ).toMatch(/2 senders are allowed \(telegram:1, telegram:2\)/);
    expect(
      sharedSessionCheck({
        session: { dmScope: 'main' },
        channels: { telegram: { allowFrom: ['1'] }, slack: { allowFrom: ['U1'] } },
      }),
    ).toBeDefined();
    expect(sharedSessionCheck({ channels: { slack: { allowFrom: [' * '] } } })?.detail).toMatch(/anyone/);
  });

  it('stays quiet for one sender, for disabled DMs and when each person has a session', () => {
    expect(sharedSessionCheck({})).toBeUndefined();
    expect(sharedSessionCheck({ channels: { telegram: { allowFrom: ['1'] } } })).toBeUndefined();
    expect(
      sharedSessionCheck({ channels: { telegram: { dmPolicy: 'disabled', allowFrom: ['1', '2'] } } }),
    ).toBeUndefined();
    expect(
      sharedSessionCheck({
        session: { dmScope: 'per-channel-peer' },
        channels: { telegram: { dmPolicy: 'open' } },
      }),
    ).toBeUndefined();
  });
});
