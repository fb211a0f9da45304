import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTelegramAccounts } from '../../channels/telegram/config.js';

describe('channels.telegram connector settings', () => {
  it('is off when no token is configured anywhere', () => {
    expect(resolveTelegramAccounts(undefined, { env: {} })).toEqual([]);
    expect(resolveTelegramAccounts({ dmPolicy: 'pairing' }, { env: {} })).toEqual([]);
  });

  it('takes the token from TELEGRAM_BOT_TOKEN and defaults to long polling', () => {
    expect(resolveTelegramAccounts({ dmPolicy: 'open' }, { env: { TELEGRAM_BOT_TOKEN: '123:abc' } })).toEqual(
      [{ botToken: '123:abc', mode: 'polling', accountId: 'default' }],
    );
  });

  it('names the field when something is wrong', () => {
    expect(() => resolveTelegramAccounts({ mode: 'webhook', botToken: '1:a' }, { env: {} })).toThrow(
      /channels\.telegram\.webhookSecret is required/,
    );
    expect(() => resolveTelegramAccounts({ enabled: true }, { env: {} })).toThrow(/TELEGRAM_BOT_TOKEN/);
    expect(() => resolveTelegramAccounts({ botToken: 'not a token' }, { env: {} })).toThrow(
      /channels\.telegram\.botToken does not look like a bot token/,
    );
  });

  it('runs several bots under accounts, each inheriting the shared keys, tokens from env or the secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-tg-secrets-'));
    const secretsFile = join(dir, 'secrets.json');
    writeFileSync(secretsFile, JSON.stringify({ homeBot: '222:home' }));
    const accounts = resolveTelegramAccounts(
      {
        apiRoot: 'http://127.0.0.1:9/',
        accounts: {
          work: { botToken: { env: 'WORK_BOT' } },
          home: { botToken: { secret: 'homeBot' }, apiRoot: 'http://127.0.0.1:8/' },
          old: { botToken: '333:old', enabled: false },
        },
      },
      { env: { WORK_BOT: '111:work', TELEGRAM_BOT_TOKEN: '999:ignored' }, secretsFile },
    );
    expect(accounts).toEqual([
      { accountId: 'work', botToken: '111:work', mode: 'polling', apiRoot: 'http://127.0.0.1:9/' },
      { accountId: 'home', botToken: '222:home', mode: 'polling', apiRoot: 'http://127.0.0.1:8/' },
    ]);
  });

  it('says which variable or secret is missing, never a value', () => {
    expect(() =>
      resolveTelegramAccounts({ accounts: { work: { botToken: { env: 'WORK_BOT' } } } }, { env: {} }),
    ).toThrow('channels.telegram.accounts.work.botToken: environment variable WORK_BOT is not set');
    expect(() =>
      resolveTelegramAccounts({ accounts: { work: { botToken: { secret: 'w' } } } }, { env: {} }),
    ).toThrow(/accounts\.work\.botToken: names secret 'w' but there is no secrets file/);
    expect(() =>
      resolveTelegramAccounts({ accounts: { a: { botToken: '1:x' }, b: { botToken: '1:x' } } }, { env: {} }),
    ).toThrow(/accounts "a" and "b" use the same bot token/);
  });
});
