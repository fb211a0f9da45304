// The connector keys of `channels.telegram` in switchyard.yaml (the access-policy keys next to them
// are checked by schemas/routing.schema.json). Checked once here; the token may come from the env.
import { compileSchema, formatIssues } from '../schema-validation.js';
import type { TelegramMode } from './connector.js';

export interface TelegramChannelConfig {
  enabled?: boolean;
  botToken?: string;
  mode?: TelegramMode;
  webhookSecret?: string;
  webhookUrl?: string;
  apiRoot?: string;
  accountId?: string;
}

export interface ResolvedTelegramConfig {
  botToken: string;
  mode: TelegramMode;
  webhookSecret?: string;
  webhookUrl?: string;
  apiRoot?: string;
  accountId: string;
}

/** JSON Schema for the connector keys; merge into `channels.telegram` of the config schema. */
export const telegramChannelConfigSchema = {
  type: 'object',
  properties: {
    enabled: {
      description: 'Run the Telegram connector. Default: true when a bot token is configured.',
      type: 'boolean',
    },
    botToken: {
      description: 'The token from @BotFather (123456:ABC-...). Or set TELEGRAM_BOT_TOKEN.',
      type: 'string',
      pattern: '^[0-9]+:[A-Za-z0-9_-]+$',
    },
    mode: {
      description:
        'polling: the gateway asks Telegram for updates (no public URL needed). webhook: Telegram posts them.',
      enum: ['polling', 'webhook'],
      default: 'polling',
    },
    webhookSecret: {
      description:
        'Webhook mode: secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -).',
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{1,256}$',
    },
    webhookUrl: {
      description:
        'Webhook mode: public https URL of POST /channels/telegram/webhook; when set, the gateway registers it on start.',
      type: 'string',
      format: 'uri',
    },
    apiRoot: {
      description:
        'Bot API server root. Default https://api.telegram.org; a local Bot API server or a test server.',
      type: 'string',
      format: 'uri',
    },
    accountId: { description: "Account id in session keys and bindings. Default 'default'.", type: 'string' },
  },
} as const;

const check = compileSchema<TelegramChannelConfig>(telegramChannelConfigSchema);

/**
 * The connector settings from `channels.telegram` (unknown keys, e.g. dmPolicy, are ignored), or
 * undefined when Telegram is not configured. Throws naming the field when something is wrong.
 */
export function resolveTelegramConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedTelegramConfig | undefined {
  const checked = check(raw ?? {});
  if (!checked.ok) {
    throw new Error(
      `channels.telegram in switchyard.yaml is invalid:\n${formatIssues(checked.errors)
        .split('\n')
        .map((line) => `  channels.telegram.${line}`)
        .join('\n')}`,
    );
  }
  const config = checked.value;
  const botToken = config.botToken ?? env.TELEGRAM_BOT_TOKEN;
  if (config.enabled === false) return undefined;
  if (!botToken) {
    if (config.enabled === true || config.mode !== undefined) {
      throw new Error(
        'channels.telegram is enabled but has no bot token: set channels.telegram.botToken or TELEGRAM_BOT_TOKEN ' +
          'to the token @BotFather gave you.',
      );
    }
    return undefined;
  }
  const mode = config.mode ?? 'polling';
  if (mode === 'webhook' && config.webhookSecret === undefined) {
    throw new Error(
      'channels.telegram.webhookSecret is required when channels.telegram.mode is webhook: ' +
        'Telegram sends it back with every update so nobody else can post to the gateway.',
    );
  }
  return {
    botToken,
    mode,
    accountId: config.accountId ?? 'default',
    ...(config.webhookSecret === undefined ? {} : { webhookSecret: config.webhookSecret }),
    ...(config.webhookUrl === undefined ? {} : { webhookUrl: config.webhookUrl }),
    ...(config.apiRoot === undefined ? {} : { apiRoot: config.apiRoot }),
  };
}
