import { describe, expect, it } from 'vitest';
import { resolveTelegramConfig } from '../../channels/telegram/config.js';

describe('channels.telegram connector settings', () => {
  it('is off when no token is configured anywhere', () => {
    expect(resolveTelegramConfig(undefined, {})).toBeUndefined();
    expect(resolveTelegramConfig({ dmPolicy: 'pairing' }, {})).toBeUndefined();
  });

  it('takes the token from TELEGRAM_BOT_TOKEN and defaults to long polling', () => {
    expect(resolveTelegramConfig({ dmPolicy: 'open' }, { TELEGRAM_BOT_TOKEN: '123:abc' })).toEqual({
      botToken: '123:abc',
      mode: 'polling',
      accountId: 'default',
    });
  });

  it('names the field when something is wrong', () => {
    expect(() => resolveTelegramConfig({ mode: 'push', botToken: '1:a' }, {})).toThrow(
      /channels\.telegram\.mode/,
    );
    expect(() => resolveTelegramConfig({ mode: 'webhook', botToken: '1:a' }, {})).toThrow(
      /channels\.telegram\.webhookSecret is required/,
    );
    expect(() => resolveTelegramConfig({ enabled: true }, {})).toThrow(/TELEGRAM_BOT_TOKEN/);
  });
});
