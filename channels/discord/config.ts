// The connector keys of `channels.discord` in switchyard.yaml, for one bot or several
// (`accounts:`, see channels/accounts.ts). The whole block is checked against
// channelConfigSchema(discordConnectorProperties) when the config is loaded (file:line errors);
// here each account is resolved: its token from the file, the environment or the secrets file.
import {
  resolveSecret,
  type SecretInput,
  type SecretSources,
  secretInputSchema,
} from '../../config/secrets.js';
import { type AccountBlock, accountBlocks } from '../accounts.js';

export interface DiscordAccountSettings {
  enabled?: boolean;
  botToken?: SecretInput;
  apiRoot?: string;
}

export interface ResolvedDiscordConfig {
  accountId: string;
  botToken: string;
  apiRoot?: string;
}

/** Three dot-separated base64url parts. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** JSON Schema of the connector's own keys (beside the access-policy keys and `accounts`). */
export const discordConnectorProperties = {
  botToken: {
    ...secretInputSchema,
    description:
      'The bot token (Developer Portal → your application → Bot → Reset Token), { env: NAME } or { secret: name }. Default for the account "default": DISCORD_BOT_TOKEN.',
  },
  apiRoot: {
    description: 'REST API root. Default https://discord.com/api; a test server in tests.',
    type: 'string',
    format: 'uri',
  },
} as const;

/**
 * The enabled Discord accounts of `channels.discord` (none when no token is configured
 * anywhere). Expects a block that passed the config schema. Throws naming the key when a
 * credential is missing or malformed.
 */
export function resolveDiscordAccounts(raw: unknown, sources: SecretSources): ResolvedDiscordConfig[] {
  const explicit = raw !== undefined && typeof raw === 'object' && raw !== null && 'accounts' in raw;
  const resolved = accountBlocks('discord', raw).flatMap((block) => resolveAccount(block, sources, explicit));
  const seen = new Map<string, string>();
  for (const account of resolved) {
    const other = seen.get(account.botToken);
    if (other !== undefined) {
      throw new Error(
        `channels.discord: accounts "${other}" and "${account.accountId}" use the same bot token; ` +
          'one bot can hold only one gateway session here',
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
): ResolvedDiscordConfig[] {
  if (!block.enabled) return [];
  const settings = block.settings as DiscordAccountSettings;
  const where = block.path;
  const tokenInput =
    settings.botToken ??
    (block.accountId === 'default' && sources.env.DISCORD_BOT_TOKEN
      ? { env: 'DISCORD_BOT_TOKEN' }
      : undefined);
  if (tokenInput === undefined) {
    if (explicit || settings.enabled === true) {
      throw new Error(
        `${where} has no bot token: set ${where}.botToken (or DISCORD_BOT_TOKEN for the account "default") to the ` +
          "token of your application's bot (Developer Portal → Bot → Reset Token).",
      );
    }
    return [];
  }
  const botToken = resolveSecret(tokenInput, sources, `${where}.botToken`);
  if (!TOKEN_PATTERN.test(botToken)) {
    throw new Error(
      `${where}.botToken does not look like a Discord bot token (three parts separated by dots); ` +
        'the application id or public key is not the token',
    );
  }
  return [
    {
      accountId: block.accountId,
      botToken,
      ...(settings.apiRoot === undefined ? {} : { apiRoot: settings.apiRoot }),
    },
  ];
}
