// Posting to Discord with a nonce Discord enforces. Every chunk carries a nonce derived from its
// outbox key with `enforce_nonce: true`: when a message by the same bot with the same nonce was
// created in the last few minutes, Discord returns that message instead of creating another. So
// a retried send of a chunk whose outcome was lost is sent again, under the same nonce, and real
// Discord posts it once. Outside that window (Discord says "a few minutes"; we trust two) the
// chunk stays uncertain and is never sent again.
import { createHash } from 'node:crypto';
import { DiscordAPIError, HTTPError, type REST, Routes } from 'discord.js';
import type { ChannelSendOptions, SendRecovery, UnknownOutcome } from '../../activities/channel-send.js';

/** Discord allows 2000 characters per message; stay under it. */
export const DISCORD_TEXT_LIMIT = 1950;

/** How long after the first attempt a resend under the same nonce is trusted to be deduplicated. */
export const NONCE_WINDOW_MS = 2 * 60_000;

export type DiscordSend = (
  chatId: string,
  text: string,
  opts?: ChannelSendOptions,
) => Promise<{ messageId: string }>;

/**
 * A failed send. `notSent` is true only when Discord provably did not post it (it answered with an
 * error, or no connection was made); `permanent` means retrying is pointless. Read structurally by
 * activities/channel-send.ts.
 */
export class DiscordSendError extends Error {
  override readonly name = 'DiscordSendError';
  constructor(
    message: string,
    readonly notSent: boolean,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The nonce of a chunk: deterministic, at most 25 characters (Discord's limit). */
export function discordNonce(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 25);
}

export function createDiscordSend(rest: REST): DiscordSend {
  return async (chatId, text, opts = {}) => {
    // A thread is a channel of its own: replies in it are posted to it.
    const target = opts.threadId ?? chatId;
    try {
      const created = (await rest.post(Routes.channelMessages(target), {
        body: {
          content: text,
          ...(opts.idempotencyKey ? { nonce: discordNonce(opts.idempotencyKey), enforce_nonce: true } : {}),
          ...(opts.replyToMessageId
            ? { message_reference: { message_id: opts.replyToMessageId, fail_if_not_exists: false } }
            : {}),
          // The model's text never pings @everyone, @here or roles.
          allowed_mentions: { parse: ['users'], replied_user: true },
        },
      })) as { id?: string };
      if (!created.id) throw new Error('create message answered without an id');
      return { messageId: created.id };
    } catch (error) {
      throw classifyDiscordError(error, target);
    }
  };
}

/** A chunk of unknown outcome is sent again under its nonce while Discord still deduplicates it. */
export function recoverDiscordChunk(chunk: UnknownOutcome, now = Date.now()): SendRecovery {
  const age = now - chunk.claimedAt;
  if (!chunk.opts.idempotencyKey) return { kind: 'unknown', reason: 'the earlier send carried no nonce' };
  if (age > NONCE_WINDOW_MS) {
    return {
      kind: 'unknown',
      reason: `first sent ${Math.round(age / 1000)} s ago, beyond the ${NONCE_WINDOW_MS / 1000} s Discord is trusted to deduplicate a nonce`,
    };
  }
  return { kind: 'resend' };
}

/** Errors before the request reached Discord: nothing can have been posted. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export function classifyDiscordError(error: unknown, channelId: string): DiscordSendError {
  const where = `create message in channel ${channelId}`;
  if (error instanceof DiscordAPIError) {
    const status = error.status;
    const hint =
      status === 401
        ? ' (check channels.discord.botToken)'
        : status === 403
          ? ' (the bot lacks Send Messages / View Channel there, or the user does not accept DMs)'
          : '';
    return new DiscordSendError(
      `Discord refused ${where}: ${status} ${error.code} ${error.message}${hint}`,
      // Discord answered: a 5xx may still have created it; a 4xx did not.
      status < 500,
      status >= 400 && status < 500 && status !== 429,
      { cause: error },
    );
  }
  if (error instanceof HTTPError) {
    return new DiscordSendError(
      `${where} failed with HTTP ${error.status}; Discord may or may not have posted it`,
      false,
      false,
      { cause: error },
    );
  }
  const code = networkCode(error);
  const notSent = code !== undefined && NOT_CONNECTED.has(code);
  return new DiscordSendError(
    `${where} failed (${code ?? String((error as Error)?.message ?? error)}); ${notSent ? 'nothing was sent' : 'Discord may or may not have posted it'}`,
    notSent,
    false,
    { cause: error },
  );
}

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}
