// The connector keys of `channels.slack` in switchyard.yaml, for one Slack app or several
// (`accounts:`, see channels/accounts.ts). The whole block is checked against
// channelConfigSchema(slackConnectorProperties) when the config is loaded (file:line errors);
// here each account is resolved: its credentials from the file, the environment or the secrets file.

import type { UncertainPolicy } from '../../activities/channel-send.js';
import {
  resolveSecret,
  type SecretInput,
  type SecretSources,
  secretInputSchema,
} from '../../config/secrets.js';
import { type AccountBlock, accountBlocks } from '../accounts.js';
import { onUncertainOf, onUncertainProperty } from '../uncertain.js';

export type SlackMode = 'socket' | 'http';

export interface SlackAccountSettings {
  enabled?: boolean;
  mode?: SlackMode;
  botToken?: SecretInput;
  appToken?: SecretInput;
  signingSecret?: SecretInput;
  apiUrl?: string;
  replyInThread?: boolean;
}

export interface ResolvedSlackConfig {
  accountId: string;
  mode: SlackMode;
  botToken: string;
  /** Socket Mode only. */
  appToken?: string;
  /** HTTP mode only. */
  signingSecret?: string;
  apiUrl?: string;
  replyInThread: boolean;
  /** A reply chunk of unknown outcome (not found by its key): skip (default), resend or notice. */
  onUncertain?: UncertainPolicy;
}

const BOT_TOKEN = /^xoxb-[A-Za-z0-9-]+$/;
const APP_TOKEN = /^xapp-[A-Za-z0-9-]+$/;

/** JSON Schema of the connector's own keys (beside the access-policy keys and `accounts`). */
export const slackConnectorProperties = {
  mode: {
    description:
      'socket (default): the gateway opens a WebSocket to Slack (Socket Mode, no public URL needed). http: Slack posts events to POST /channels/slack/events (/channels/slack/<account>/events for other accounts).',
    enum: ['socket', 'http'],
  },
  botToken: {
    ...secretInputSchema,
    description:
      'Bot User OAuth Token (xoxb-...) from "OAuth & Permissions", { env: NAME } or { secret: name }. Default for the account "default": SLACK_BOT_TOKEN.',
  },
  appToken: {
    ...secretInputSchema,
    description:
      'Socket Mode: App-Level Token (xapp-...) with the connections:write scope, { env } or { secret }. Default for the account "default": SLACK_APP_TOKEN.',
  },
  signingSecret: {
    ...secretInputSchema,
    description:
      'HTTP mode: the Signing Secret from "Basic Information", { env } or { secret }. Default for the account "default": SLACK_SIGNING_SECRET.',
  },
  apiUrl: {
    description: 'Web API root. Default https://slack.com/api/; a test server in tests.',
    type: 'string',
    format: 'uri',
  },
  replyInThread: {
    description:
      'Answer a top-level channel message in a thread under it (that thread is then its session). false: answer in the channel itself. Default true.',
    type: 'boolean',
  },
  onUncertain: onUncertainProperty,
} as const;

/**
 * The enabled Slack accounts of `channels.slack` (none when no bot token is configured anywhere).
 * Expects a block that passed the config schema. Throws naming the key when a credential is
 * missing or malformed.
 */
export function resolveSlackAccounts(raw: unknown, sources: SecretSources): ResolvedSlackConfig[] {
  const explicit = raw !== undefined && typeof raw === 'object' && raw !== null && 'accounts' in raw;
  const resolved = accountBlocks('slack', raw).flatMap((block) => resolveAccount(block, sources, explicit));
  const seen = new Map<string, string>();
  for (const account of resolved) {
    const other = seen.get(account.botToken);
    if (other !== undefined) {
      throw new Error(
        `channels.slack: accounts "${other}" and "${account.accountId}" use the same bot token; ` +
          'each account is one Slack app installation',
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
): ResolvedSlackConfig[] {
  if (!block.enabled) return [];
  const settings = block.settings as SlackAccountSettings;
  const where = block.path;
  const fromEnv = (name: string) =>
    block.accountId === 'default' && sources.env[name] ? { env: name } : undefined;
  const tokenInput = settings.botToken ?? fromEnv('SLACK_BOT_TOKEN');
  if (tokenInput === undefined) {
    // The shorthand without a token is "Slack not configured" (policy keys alone are fine);
    // a listed account or an explicit switch wants one.
    if (explicit || settings.enabled === true || settings.mode !== undefined) {
      throw new Error(
        `${where} has no bot token: set ${where}.botToken (or SLACK_BOT_TOKEN for the account "default") to the ` +
          'Bot User OAuth Token (xoxb-...) from your Slack app\'s "OAuth & Permissions" page.',
      );
    }
    return [];
  }
  const botToken = resolveSecret(tokenInput, sources, `${where}.botToken`);
  if (!BOT_TOKEN.test(botToken)) {
    throw new Error(
      `${where}.botToken does not look like a Slack bot token (xoxb-...); the xapp- token belongs in appToken`,
    );
  }
  const mode = settings.mode ?? 'socket';
  const base = {
    accountId: block.accountId,
    mode,
    botToken,
    replyInThread: settings.replyInThread ?? true,
    ...(settings.apiUrl === undefined ? {} : { apiUrl: settings.apiUrl }),
    ...(onUncertainOf(block.settings) ? { onUncertain: onUncertainOf(block.settings) } : {}),
  };
  if (mode === 'socket') {
    const input = settings.appToken ?? fromEnv('SLACK_APP_TOKEN');
    if (input === undefined) {
      throw new Error(
        `${where}.appToken (or SLACK_APP_TOKEN) is required in Socket Mode: generate an App-Level Token with the ` +
          `connections:write scope under "Basic Information", or set ${where}.mode: http.`,
      );
    }
    const appToken = resolveSecret(input, sources, `${where}.appToken`);
    if (!APP_TOKEN.test(appToken)) {
      throw new Error(`${where}.appToken does not look like an App-Level Token (xapp-...)`);
    }
    return [{ ...base, appToken }];
  }
  const input = settings.signingSecret ?? fromEnv('SLACK_SIGNING_SECRET');
  if (input === undefined) {
    throw new Error(
      `${where}.signingSecret (or SLACK_SIGNING_SECRET) is required in HTTP mode: Slack signs every event with it, ` +
        'so nobody else can post events to the gateway ("Basic Information" → Signing Secret).',
    );
  }
  return [{ ...base, signingSecret: resolveSecret(input, sources, `${where}.signingSecret`) }];
}
