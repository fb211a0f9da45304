import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelPolicyFor } from '../../channels/access.js';
import { accountBlocks } from '../../channels/accounts.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';

function load(yaml: string) {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-accounts-'));
  writeFileSync(join(home, 'switchyard.yaml'), yaml);
  return loadConfig({ home, env: {} });
}

function problems(yaml: string): string[] {
  try {
    load(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(
      (p) => `${p.where.replace(/^.*switchyard\.yaml/, 'switchyard.yaml')} ${p.key}: ${p.message}`,
    );
  }
  throw new Error('expected a ConfigError');
}

describe('several accounts per platform', () => {
  it('expands the single-account shorthand and the accounts map alike', () => {
    expect(accountBlocks('telegram', { botToken: 't', dmPolicy: 'open' })).toEqual([
      {
        accountId: 'default',
        path: 'channels.telegram',
        settings: { botToken: 't', dmPolicy: 'open' },
        enabled: true,
      },
    ]);
    expect(
      accountBlocks('whatsapp', {
        dmPolicy: 'allowlist',
        accounts: { Work: { dmPolicy: 'open' }, home: { enabled: false } },
      }),
    ).toEqual([
      {
        accountId: 'work',
        path: 'channels.whatsapp.accounts.Work',
        settings: { dmPolicy: 'open' },
        enabled: true,
      },
      {
        accountId: 'home',
        path: 'channels.whatsapp.accounts.home',
        settings: { dmPolicy: 'allowlist', enabled: false },
        enabled: false,
      },
    ]);
    expect(accountBlocks('telegram', undefined)).toEqual([]);
  });

  it('gives each account the shared access policy unless it sets its own', () => {
    const config = load(
      [
        'channels:',
        '  telegram:',
        '    dmPolicy: allowlist',
        '    allowFrom: ["1"]',
        '    accounts:',
        '      work: { botToken: "1:a" }',
        '      family: { botToken: "2:b", dmPolicy: open }',
      ].join('\n'),
    );
    expect(channelPolicyFor(config.routing, 'telegram', 'work')).toMatchObject({
      dmPolicy: 'allowlist',
      allowFrom: ['1'],
    });
    expect(channelPolicyFor(config.routing, 'telegram', 'family')).toMatchObject({ dmPolicy: 'open' });
    // An account the config does not list (a message can't come from one) gets the shared keys.
    expect(channelPolicyFor(config.routing, 'telegram', 'other')).toMatchObject({ dmPolicy: 'allowlist' });
  });

  it('names file, line and key of a wrong connector key, inside accounts too', () => {
    expect(
      problems(
        [
          'channels:',
          '  telegram:',
          '    botTokn: "1:a"',
          '    accounts:',
          '      work:',
          '        mode: push',
          '        botToken: { env: 1BAD }',
        ].join('\n'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^switchyard\.yaml:3:5 channels\.telegram\.botTokn: is not a known field; known fields: /,
      ),
      expect.stringMatching(
        /^switchyard\.yaml:7:19 channels\.telegram\.accounts\.work\.botToken: is not valid: /,
      ),
      expect.stringMatching(
        /^switchyard\.yaml:6:15 channels\.telegram\.accounts\.work\.mode: must be one of "polling", "webhook" \(got "push"\)$/,
      ),
    ]);
  });

  it('refuses accountId beside accounts, and account ids that cannot be keys', () => {
    expect(
      problems(['channels:', '  telegram:', '    accountId: a', '    accounts:', '      b: {}'].join('\n')),
    ).toEqual(['switchyard.yaml:3:5 channels.telegram: must not set accountId and accounts together']);
    expect(problems(['channels:', '  telegram:', '    accounts:', '      "no way": {}'].join('\n'))).toEqual([
      expect.stringMatching(/^switchyard\.yaml:4:7 channels\.telegram\.accounts(\.no way)?: /),
    ]);
  });
});
