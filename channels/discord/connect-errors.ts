// Why a Discord connection failed, worded for the owner: a refused token (close code 4004, or
// 401 at login) or the Message Content intent not enabled (4014) need them; others are retried.
import { DiscordjsError, DiscordjsErrorCodes } from 'discord.js';

const TOKEN_ACTION =
  "Set channels.discord.botToken (or DISCORD_BOT_TOKEN) to your application's bot token (Developer Portal → " +
  'Bot → Reset Token), then restart the gateway.';
const INTENTS_ACTION =
  'Enable "Message Content Intent" under Developer Portal → Bot → Privileged Gateway Intents (bots in 100 or ' +
  'more servers need Discord to approve it), then restart the gateway.';

/** Close codes after which discord.js gives up (4004 authentication failed, 4014 disallowed intents). */
export function closeError(code: number): Error {
  if (code === 4004) return tokenRejected();
  if (code === 4014) return intentsRefused();
  return new ConnectError(
    `Discord closed the gateway connection with code ${code} and will not let it resume`,
  );
}

export function startError(error: unknown): Error {
  if (error instanceof ConnectError) return error;
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid)
    return tokenRejected(error);
  if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.DisallowedIntents) {
    return intentsRefused(error);
  }
  return new ConnectError(`could not connect to Discord: ${String((error as Error)?.message ?? error)}`, {
    cause: error,
  });
}

/** A connection failure worded for the owner; `action` set when only the owner can fix it. */
export class ConnectError extends Error {
  override readonly name = 'DiscordConnectError';
  constructor(
    message: string,
    options?: { cause?: unknown },
    readonly action?: string,
  ) {
    super(message, options);
  }
}

function tokenRejected(cause?: unknown): Error {
  return new ConnectError('Discord rejected the bot token', { cause }, TOKEN_ACTION);
}

function intentsRefused(cause?: unknown): Error {
  return new ConnectError(
    'Discord refused the Message Content intent (close code 4014)',
    { cause },
    INTENTS_ACTION,
  );
}
