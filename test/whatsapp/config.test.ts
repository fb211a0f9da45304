// channels.whatsapp in switchyard.yaml: no token, one folder of credentials per account, and a
// wrong key or value reported with its file:line like every other channel's.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveWhatsAppAccounts } from '../../channels/whatsapp/config.js';
import { ConfigError } from '../../config/errors.js';
import { loadConfig } from '../../config/load.js';

function problems(yaml: string): string[] {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-wacfg-'));
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

describe('channels.whatsapp connector settings', () => {
  it('is off when the block is absent, and an empty block is one account under the data dir', () => {
    expect(resolveWhatsAppAccounts(undefined, '/data')).toEqual([]);
    expect(resolveWhatsAppAccounts({}, '/data')).toEqual([
      { accountId: 'default', authDir: join('/data', 'whatsapp', 'default'), readReceipts: true },
    ]);
  });

  it('runs several numbers under accounts, each with its own credentials folder; a disabled one is left out', () => {
    const accounts = resolveWhatsAppAccounts(
      {
        readReceipts: false,
        accounts: {
          personal: {},
          work: { authDir: 'wa-work', readReceipts: true },
          old: { enabled: false },
        },
      },
      '/data',
    );
    expect(accounts).toEqual([
      { accountId: 'personal', authDir: join('/data', 'whatsapp', 'personal'), readReceipts: false },
      { accountId: 'work', authDir: join('/data', 'wa-work'), readReceipts: true },
    ]);
  });

  it('loads a valid block', () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-wacfg-'));
    writeFileSync(
      join(home, 'switchyard.yaml'),
      'channels:\n  whatsapp:\n    dmPolicy: pairing\n    allowFrom: ["+15551234567"]\n    readReceipts: false\n',
    );
    expect(() => loadConfig({ home, env: {} })).not.toThrow();
  });

  it('reports a wrong key or value under channels.whatsapp with its file:line', () => {
    expect(
      problems(
        'channels:\n  whatsapp:\n    readReceipts: "yes"\n    wsUrl: http://localhost:1\n    qrTimeout: 60\n',
      ),
    ).toEqual([
      'switchyard.yaml:5:5 channels.whatsapp.qrTimeout: is not a known field; known fields: dmPolicy, allowFrom, ' +
        'groupPolicy, groups, groupAllowFrom, requireMention, enabled, authDir, readReceipts, wsUrl, accountId, accounts',
      'switchyard.yaml:3:19 channels.whatsapp.readReceipts: must be a boolean (got string)',
      'switchyard.yaml:4:12 channels.whatsapp.wsUrl: must match /^wss?:/// (got "http://localhost:1")',
    ]);
    const [inAccount] = problems('channels:\n  whatsapp:\n    accounts:\n      work:\n        authDir: 5\n');
    expect(inAccount).toMatch(
      /^switchyard\.yaml:5:18 channels\.whatsapp\.accounts\.work\.authDir: must be a string/,
    );
  });
});
