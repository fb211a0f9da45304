// The connector keys of `channels.telegram` in switchyard.yaml, for one bot or several
// (`accounts:`, see channels/accounts.ts). The whole block is checked against
// channelConfigSchema(telegramConnectorProperties) when the config is loaded (file:line errors);
// here each account is resolved: its token from the file, the environment or the secrets file.

import type { UncertainPolicy } from '../../activities/channel-send.js';
import type { SecretInput, SecretSources } from '../../config/secrets.js';
import { resolveSecret, secretInputSchema } from '../../config/secrets.js';
import { type AccountBlock, accountBlocks } from '../accounts.js';
import { onUncertainOf, onUncertainProperty } from '../uncertain.js';
import type { TelegramMode } from './connector.js';

export interface TelegramAccountSettings {
  enabled?: boolean;
  botToken?: SecretInput;
  mode?: TelegramMode;
  webhookSecret?: SecretInput;
  webhookUrl?: string;
  apiRoot?: string;
  onUncertain?: UncertainPolicy;
}

export interface ResolvedTelegramConfig {
  accountId: string;
  botToken: string;
  mode: TelegramMode;
  webhookSecret?: string;
  webhookUrl?: string;
  apiRoot?: string;
  /** A reply chunk of unknown outcome: skip (default), resend or notice. */
  onUncertain?: UncertainPolicy;
}

const TOKEN_PATTERN = /^[0-9]+:[A-Za-z0-9_-]+$/;

/** JSON Schema of the connector's own keys (beside the access-policy keys and `accounts`). */
export const telegramConnectorProperties = {
  botToken: {
    ...secretInputSchema,
    description:
      'The token from @BotFather (123456:ABC-...), { env: NAME } or { secret: name }. Default for the account "default": TELEGRAM_BOT_TOKEN.',
  },
  mode: {
    description:
      'polling: the gateway asks Telegram for updates (no public URL needed). webhook: Telegram posts them.',
    enum: ['polling', 'webhook'],
  },
  webhookSecret: {
    ...secretInputSchema,
    description:
      'Webhook mode: secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -); the value, { env } or { secret }.',
  },
  webhookUrl: {
    description:
      'Webhook mode: public https URL of POST /channels/telegram/webhook (/channels/telegram/<account>/webhook for other accounts); registered on start when set.',
    type: 'string',
    format: 'uri',
  },
  apiRoot: {
    description:
      'Bot API server root. Default https://api.telegram.org; a local Bot API server or a test server.',
    type: 'string',
    format: 'uri',
  },
  onUncertain: onUncertainProperty,
} as const;

/**
 * The enabled Telegram accounts of `channels.telegram` (none when no token is configured
 * anywhere). Expects a block that passed the config schema. Throws naming the key when a
 * credential is missing or malformed.
 */
export function resolveTelegramAccounts(raw: unknown, sources: SecretSources): ResolvedTelegramConfig[] {
  const blocks = accountBlocks('telegram', raw);
  const explicit = raw !== undefined && typeof raw === 'object' && raw !== null && 'accounts' in raw;
  const resolved = blocks.flatMap((block) => resolveAccount(block, sources, explicit));
  const seen = new Map<string, string>();
  for (const account of resolved) {
    const other = seen.get(account.botToken);
    if (other !== undefined) {
      throw new Error(
        `channels.telegram: accounts "${other}" and "${account.accountId}" use the same bot token; ` +
          'one bot can only be polled by one connector',
      );
    }
    seen.set(account.botToken, account.accountId);
  }
  return resolved;
}

function resolveAccount(
  block: AccountBlock,
  sources: SecretSources,
  explicit: boolean,
): ResolvedTelegramConfig[] {
  if (!block.enabled) return [];
  const settings = block.settings as TelegramAccountSettings;
  const where = block.path;
  const tokenInput =
    settings.botToken ??
    (block.accountId === 'default' && sources.env.TELEGRAM_BOT_TOKEN
      ? { env: 'TELEGRAM_BOT_TOKEN' }
      : undefined);
  if (tokenInput === undefined) {
    // The shorthand without a token is "Telegram not configured" (policy keys alone are fine);
    // a listed account or an explicit switch wants one.
    if (explicit || settings.enabled === true || settings.mode !== undefined) {
      throw new Error(
        `${where} has no bot token: set ${where}.botToken (or TELEGRAM_BOT_TOKEN for the account "default") ` +
          'to the token @BotFather gave you.',
      );
    }
    return [];
  }
  const botToken = resolveSecret(tokenInput, sources, `${where}.botToken`);
  if (!TOKEN_PATTERN.test(botToken)) {
    throw new Error(`${where}.botToken does not look like a bot token from @BotFather (123456:ABC-...)`);
  }
  const mode = settings.mode ?? 'polling';
  const webhookSecret =
    settings.webhookSecret === undefined
      ? undefined
      : resolveSecret(settings.webhookSecret, sources, `${where}.webhookSecret`);
  if (mode === 'webhook' && webhookSecret === undefined) {
    throw new Error(
      `${where}.webhookSecret is required when ${where}.mode is webhook: ` +
        'Telegram sends it back with every update so nobody else can post to the gateway.',
    );
  }
  return [
    {
      accountId: block.accountId,
      botToken,
      mode,
      ...(webhookSecret === undefined ? {} : { webhookSecret }),
      ...(settings.webhookUrl === undefined ? {} : { webhookUrl: settings.webhookUrl }),
      ...(settings.apiRoot === undefined ? {} : { apiRoot: settings.apiRoot }),
      ...(onUncertainOf(block.settings) ? { onUncertain: onUncertainOf(block.settings) } : {}),
    },
  ];
}
