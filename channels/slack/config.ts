// The connector keys of `channels.slack` in switchyard.yaml (the access-policy keys next to them
// are checked by schemas/routing.schema.json). Tokens may come from the environment instead.
import { compileSchema, formatIssues } from '../schema-validation.js';

export type SlackMode = 'socket' | 'http';

export interface SlackChannelConfig {
  enabled?: boolean;
  mode?: SlackMode;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  apiUrl?: string;
  replyInThread?: boolean;
  accountId?: string;
}

export interface ResolvedSlackConfig {
  mode: SlackMode;
  botToken: string;
  /** Socket Mode only. */
  appToken?: string;
  /** HTTP mode only. */
  signingSecret?: string;
  apiUrl?: string;
  replyInThread: boolean;
  accountId: string;
}

/** JSON Schema for the connector keys; merged into `channels.slack` of the config schema. */
export const slackChannelConfigSchema = {
  type: 'object',
  properties: {
    enabled: {
      description: 'Run the Slack connector. Default: true when a bot token is configured.',
      type: 'boolean',
    },
    mode: {
      description:
        'socket: the gateway opens a WebSocket to Slack (Socket Mode, no public URL needed). http: Slack posts events to POST /channels/slack/events.',
      enum: ['socket', 'http'],
      default: 'socket',
    },
    botToken: {
      description: 'Bot User OAuth Token (xoxb-...), from OAuth & Permissions. Or set SLACK_BOT_TOKEN.',
      type: 'string',
      pattern: '^xoxb-[A-Za-z0-9-]+$',
    },
    appToken: {
      description:
        'Socket Mode: App-Level Token (xapp-...) with the connections:write scope. Or set SLACK_APP_TOKEN.',
      type: 'string',
      pattern: '^xapp-[A-Za-z0-9-]+$',
    },
    signingSecret: {
      description: 'HTTP mode: the Signing Secret from Basic Information. Or set SLACK_SIGNING_SECRET.',
      type: 'string',
      minLength: 8,
    },
    apiUrl: {
      description: 'Web API root. Default https://slack.com/api/; a test server in tests.',
      type: 'string',
      format: 'uri',
    },
    replyInThread: {
      description:
        'Answer a top-level channel message in a thread under it (that thread is then its session). false: answer in the channel. Default true.',
      type: 'boolean',
    },
    accountId: { description: "Account id in session keys and bindings. Default 'default'.", type: 'string' },
  },
} as const;

const check = compileSchema<SlackChannelConfig>(slackChannelConfigSchema);

/**
 * The connector settings from `channels.slack` (unknown keys, e.g. dmPolicy, are ignored), or
 * undefined when Slack is not configured. Throws naming the key when something is wrong.
 */
export function resolveSlackConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSlackConfig | undefined {
  const checked = check(raw ?? {});
  if (!checked.ok) {
    throw new Error(
      `channels.slack in switchyard.yaml is invalid:\n${formatIssues(checked.errors)
        .split('\n')
        .map((line) => `  channels.slack.${line}`)
        .join('\n')}`,
    );
  }
  const config = checked.value;
  if (config.enabled === false) return undefined;
  const botToken = config.botToken ?? env.SLACK_BOT_TOKEN;
  if (!botToken) {
    if (config.enabled === true || config.mode !== undefined) {
      throw new Error(
        'channels.slack is enabled but has no bot token: set channels.slack.botToken or SLACK_BOT_TOKEN to the ' +
          'Bot User OAuth Token (xoxb-...) from your Slack app\'s "OAuth & Permissions" page.',
      );
    }
    return undefined;
  }
  const mode = config.mode ?? 'socket';
  const appToken = config.appToken ?? env.SLACK_APP_TOKEN;
  const signingSecret = config.signingSecret ?? env.SLACK_SIGNING_SECRET;
  if (mode === 'socket' && !appToken) {
    throw new Error(
      'channels.slack.appToken (or SLACK_APP_TOKEN) is required in Socket Mode: generate an App-Level Token ' +
        'with the connections:write scope under "Basic Information", or set channels.slack.mode: http.',
    );
  }
  if (mode === 'http' && !signingSecret) {
    throw new Error(
      'channels.slack.signingSecret (or SLACK_SIGNING_SECRET) is required in HTTP mode: Slack signs every ' +
        'event with it, so nobody else can post events to the gateway ("Basic Information" → Signing Secret).',
    );
  }
  return {
    mode,
    botToken,
    replyInThread: config.replyInThread ?? true,
    accountId: config.accountId ?? 'default',
    ...(mode === 'socket' ? { appToken } : { signingSecret }),
    ...(config.apiUrl === undefined ? {} : { apiUrl: config.apiUrl }),
  };
}
