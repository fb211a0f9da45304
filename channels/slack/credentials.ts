// Slack's two tokens and what to do when Slack refuses one: the bot token (every Web API call)
// and the app-level token (only apps.connections.open, for Socket Mode).

const TOKEN_ACTION =
  'Set channels.slack.botToken (or SLACK_BOT_TOKEN) to the Bot User OAuth Token (xoxb-...) of your Slack app, ' +
  'reinstall the app if it was revoked, then restart the gateway.';
const APP_TOKEN_ACTION =
  'Set channels.slack.appToken (or SLACK_APP_TOKEN) to an App-Level Token (xapp-...) with the connections:write ' +
  'scope, and check that Socket Mode is enabled for the app, then restart the gateway.';

/** Slack's answers that mean "this token is no good", not "try again later". */
const REFUSED = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'team_disabled']);

/** Slack refused a token for good: retrying cannot help, the owner must act. */
export class CredentialRefused extends Error {
  override readonly name = 'SlackCredentialRefused';
  constructor(
    readonly token: 'bot' | 'app',
    reason: string,
    options: { cause: unknown },
  ) {
    super(`Slack refused the ${token === 'bot' ? 'bot token' : 'app-level token'} (${reason})`, options);
  }

  get action(): string {
    return this.token === 'bot' ? TOKEN_ACTION : APP_TOKEN_ACTION;
  }
}

/** Runs a call made with one of the tokens; Slack's refusal of that token becomes CredentialRefused. */
export async function withToken<T>(token: 'bot' | 'app', call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const reason = (error as { data?: { error?: string } } | undefined)?.data?.error;
    if (reason && REFUSED.has(reason)) throw new CredentialRefused(token, reason, { cause: error });
    throw error;
  }
}
