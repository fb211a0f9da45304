// The connector keys of `channels.discord` in switchyard.yaml (the access-policy keys next to them
// are checked by schemas/routing.schema.json). The token may come from the environment instead.
import { compileSchema, formatIssues } from '../schema-validation.js';

export interface DiscordChannelConfig {
  enabled?: boolean;
  botToken?: string;
  apiRoot?: string;
  accountId?: string;
}

export interface ResolvedDiscordConfig {
  botToken: string;
  apiRoot?: string;
  accountId: string;
}

/** JSON Schema for the connector keys; merged into `channels.discord` of the config schema. */
export const discordChannelConfigSchema = {
  type: 'object',
  properties: {
    enabled: {
      description: 'Run the Discord connector. Default: true when a bot token is configured.',
      type: 'boolean',
    },
    botToken: {
      description: 'The bot token from the Developer Portal (Bot → Reset Token). Or set DISCORD_BOT_TOKEN.',
      type: 'string',
      pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
    },
    apiRoot: {
      description: 'REST API root. Default https://discord.com/api; a test server in tests.',
      type: 'string',
      format: 'uri',
    },
    accountId: { description: "Account id in session keys and bindings. Default 'default'.", type: 'string' },
  },
} as const;

const check = compileSchema<DiscordChannelConfig>(discordChannelConfigSchema);

/**
 * The connector settings from `channels.discord` (unknown keys, e.g. dmPolicy, are ignored), or
 * undefined when Discord is not configured. Throws naming the key when something is wrong.
 */
export function resolveDiscordConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedDiscordConfig | undefined {
  const checked = check(raw ?? {});
  if (!checked.ok) {
    throw new Error(
      `channels.discord in switchyard.yaml is invalid:\n${formatIssues(checked.errors)
        .split('\n')
        .map((line) => `  channels.discord.${line}`)
        .join('\n')}`,
    );
  }
  const config = checked.value;
  if (config.enabled === false) return undefined;
  const botToken = config.botToken ?? env.DISCORD_BOT_TOKEN;
  if (!botToken) {
    if (config.enabled === true) {
      throw new Error(
        'channels.discord is enabled but has no bot token: set channels.discord.botToken or DISCORD_BOT_TOKEN ' +
          "to the token of your application's bot (Developer Portal → Bot → Reset Token).",
      );
    }
    return undefined;
  }
  return {
    botToken,
    accountId: config.accountId ?? 'default',
    ...(config.apiRoot === undefined ? {} : { apiRoot: config.apiRoot }),
  };
}
