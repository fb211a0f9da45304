// The Discord connector: the only code that knows discord.js. It holds the gateway connection
// (intents for guild messages, DMs and message content; discord.js resumes or re-identifies after
// a drop), normalises messages to InboundMessage, applies the access policy at the door, and hands
// accepted messages to the gateway — in order, retrying a failed hand-off, because Discord never
// delivers a message twice. It also posts replies (with an enforced nonce) and shows "typing…".
import {
  Client,
  DiscordjsError,
  DiscordjsErrorCodes,
  Events,
  GatewayIntentBits,
  type Message,
  Options,
  Partials,
} from 'discord.js';
import type { SendRecovery, UnknownOutcome } from '../../activities/channel-send.js';
import {
  type AccessStore,
  type ContextOnlyReason,
  decideAccess,
  pairingPrompt,
  type ResolvedChannelPolicy,
} from '../access.js';
import { type InboundMessage, validateInboundMessage } from '../envelope.js';
import type { ConnectorLog } from '../log.js';
import type { ChannelPolicy } from '../routing.js';
import { formatIssues } from '../schema-validation.js';
import { DISCORD_CHANNEL, type DiscordMessageFacts, normalizeDiscordMessage } from './normalize.js';
import {
  createDiscordSend,
  DISCORD_TEXT_LIMIT,
  type DiscordSend,
  DiscordSendError,
  recoverDiscordChunk,
} from './send.js';

export interface DiscordConnectorOptions {
  botToken: string;
  /** REST API root; https://discord.com/api unless set (a test server). The gateway URL comes from it. */
  apiRoot?: string;
  accountId?: string;
  /** Approved senders and pairing codes (gateway/store/pairing.ts's PairingStore). */
  access: AccessStore;
  policy: ChannelPolicy | ResolvedChannelPolicy | undefined;
  /** An accepted message: start (or signal) its turn. Throwing retries it (with backoff), in order. */
  onInbound(msg: InboundMessage): Promise<void>;
  /** A guild message kept as context, not answered. Dropped (logged at debug) when absent. */
  onContext?(msg: InboundMessage, reason: ContextOnlyReason): Promise<void>;
  log: ConnectorLog;
  /** Backoff bounds for a failed hand-off. */
  retry?: { minMs?: number; maxMs?: number };
}

export interface DiscordConnector {
  readonly channel: typeof DISCORD_CHANNEL;
  readonly accountId: string;
  readonly textLimit: number;
  /** Logs in and resolves once the gateway connection is ready. */
  start(): Promise<void>;
  /** Closes the connection after the message in hand. */
  stop(): Promise<void>;
  /** Posts one message (≤ textLimit) with the chunk's nonce; failures are DiscordSendError. */
  sender: DiscordSend;
  /** A chunk of unknown outcome: send again under the same nonce while Discord deduplicates it. */
  recover(chunk: UnknownOutcome): Promise<SendRecovery>;
  /** Shows "typing…" in a channel or thread for about 10 s (sendTyping). */
  typing(chatId: string, threadId?: string): Promise<void>;
  /** The bot's user id once started. */
  botUserId(): string | undefined;
}

/** Guild messages and DMs, with their text (a privileged intent: enable it in the Developer Portal). */
export const DISCORD_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];

export function createDiscordConnector(options: DiscordConnectorOptions): DiscordConnector {
  const { access, policy, onInbound, onContext, log } = options;
  const accountId = options.accountId ?? 'default';
  const minBackoff = options.retry?.minMs ?? 250;
  const maxBackoff = options.retry?.maxMs ?? 30_000;
  const client = new Client({
    intents: DISCORD_INTENTS,
    // DM channels are not cached before their first message; without these their messages are dropped.
    partials: [Partials.Channel, Partials.Message],
    // Each message is read once, at its arrival: caching 200 per channel would only grow memory.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
    ...(options.apiRoot ? { rest: { api: options.apiRoot } } : {}),
  });
  const post = createDiscordSend(client.rest);
  let stopped = false;
  let handOffs: Promise<void> = Promise.resolve();
  const wake = new AbortController();

  async function handleMessage(facts: DiscordMessageFacts): Promise<void> {
    const botId = client.user?.id;
    if (!botId) throw new Error('discord connector: a message arrived before the client was ready');
    const normalized = normalizeDiscordMessage(facts, botId, accountId);
    if (normalized.kind === 'skip') {
      log.debug({ messageId: facts.id, reason: normalized.reason }, 'discord: message ignored');
      return;
    }
    const checked = validateInboundMessage(normalized.message);
    if (!checked.ok) {
      log.error(
        { messageId: facts.id, issues: formatIssues(checked.errors) },
        'discord: message does not make a valid InboundMessage; dropped',
      );
      return;
    }
    const msg = checked.value;
    const decision = decideAccess(policy, msg, access);
    const where = { messageId: msg.messageId, chatId: msg.chat.id, senderId: msg.sender.id };
    switch (decision.kind) {
      case 'accept':
        await onInbound(msg);
        return;
      case 'context-only':
        if (onContext) await onContext(msg, decision.reason);
        else log.debug({ ...where, reason: decision.reason }, 'discord: kept as context only');
        return;
      case 'pairing-challenge':
        try {
          await post(msg.chat.id, pairingPrompt(DISCORD_CHANNEL, decision.code, decision.expiresAt));
        } catch (error) {
          if (!(error instanceof DiscordSendError && error.permanent)) throw error;
          log.warn({ ...where, err: error }, 'discord: could not send the pairing code; not retrying');
          return;
        }
        log.info({ ...where, isNew: decision.isNew }, 'discord: sent a stranger their pairing code');
        return;
      case 'reject':
        log.info({ ...where, reason: decision.reason }, 'discord: message rejected by access policy');
        return;
    }
  }

  /** One message at a time, in arrival order; a failed hand-off is retried until it succeeds or we stop. */
  function enqueue(facts: DiscordMessageFacts): void {
    handOffs = handOffs.then(async () => {
      for (let failures = 0; !stopped; failures++) {
        try {
          await handleMessage(facts);
          return;
        } catch (error) {
          const delay = Math.min(maxBackoff, minBackoff * 2 ** failures);
          log.error(
            { err: error, messageId: facts.id, retryInMs: delay },
            'discord: handing a message over failed; retrying',
          );
          await pause(delay, wake.signal);
        }
      }
      log.error(
        { messageId: facts.id },
        'discord: stopped before a message could be handed over; it is lost',
      );
    });
  }

  client.on(Events.MessageCreate, (message) => enqueue(toFacts(message)));
  client.on(Events.ShardReady, (shard) => log.info({ shard }, 'discord: gateway ready'));
  client.on(Events.ShardResume, (shard, replayed) =>
    log.info({ shard, replayed }, 'discord: gateway resumed'),
  );
  client.on(Events.ShardReconnecting, (shard) => log.warn({ shard }, 'discord: gateway reconnecting'));
  client.on(Events.ShardDisconnect, (event, shard) =>
    log.warn({ shard, code: event.code }, 'discord: gateway disconnected'),
  );
  client.on(Events.Error, (err) => log.error({ err }, 'discord: client error'));
  client.on(Events.Invalidated, () => log.error({}, 'discord: session invalidated; the client stopped'));

  return {
    channel: DISCORD_CHANNEL,
    accountId,
    textLimit: DISCORD_TEXT_LIMIT,
    sender: post,
    async recover(chunk) {
      return recoverDiscordChunk(chunk);
    },
    async typing(chatId, threadId) {
      const channel = await client.channels.fetch(threadId ?? chatId);
      if (channel?.isSendable()) await channel.sendTyping();
    },
    botUserId: () => client.user?.id,

    async start() {
      if (client.isReady()) return;
      // Ready, or a close Discord will not let us recover from (bad token, intents not enabled).
      let settle!: (error?: Error) => void;
      const ready = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      const onReady = () => settle();
      const onClosed = (event: { code: number }) => settle(closeError(event.code));
      client.once(Events.ClientReady, onReady);
      client.on(Events.ShardDisconnect, onClosed);
      try {
        await client.login(options.botToken);
        await ready;
      } catch (error) {
        await client.destroy();
        throw startError(error);
      } finally {
        client.off(Events.ClientReady, onReady);
        client.off(Events.ShardDisconnect, onClosed);
      }
      log.info({ bot: client.user?.id, tag: client.user?.tag }, 'discord: connected');
    },

    async stop() {
      stopped = true;
      wake.abort();
      await handOffs;
      await client.destroy();
    },
  };
}

function toFacts(message: Message): DiscordMessageFacts {
  const channel = message.channel;
  const thread = channel?.isThread() ? channel : undefined;
  return {
    id: message.id,
    channelId: message.channelId,
    guildId: message.guildId,
    type: message.type,
    content: message.content,
    author: {
      id: message.author.id,
      bot: message.author.bot,
      username: message.author.username,
      globalName: message.author.globalName,
    },
    isThread: thread !== undefined,
    parentId: thread?.parentId ?? null,
    channelName: channel && 'name' in channel ? channel.name : null,
    mentionedUserIds: [...message.mentions.users.keys()],
    repliedUserId: message.mentions.repliedUser?.id ?? null,
    referenceMessageId: message.reference?.messageId ?? null,
    attachments: message.attachments.map((a) => ({
      id: a.id,
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      url: a.url,
    })),
    createdTimestamp: message.createdTimestamp,
  };
}

/** Close codes after which discord.js gives up (4004 authentication failed, 4014 disallowed intents). */
function closeError(code: number): Error {
  if (code === 4004) return tokenRejected();
  if (code === 4014) return intentsRefused();
  return new ConnectError(
    `Discord closed the gateway connection with code ${code} and will not let it reconnect`,
  );
}

function startError(error: unknown): Error {
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

/** A start failure already worded for the person who configures the bot. */
class ConnectError extends Error {
  override readonly name = 'DiscordConnectError';
}

function tokenRejected(cause?: unknown): Error {
  return new ConnectError(
    'Discord rejected the bot token: set channels.discord.botToken or DISCORD_BOT_TOKEN to the token of your ' +
      "application's bot (Developer Portal → Bot → Reset Token).",
    { cause },
  );
}

function intentsRefused(cause?: unknown): Error {
  return new ConnectError(
    'Discord refused the Message Content intent: enable "Message Content Intent" under Developer Portal → ' +
      'Bot → Privileged Gateway Intents (bots in 100 or more servers need Discord to approve it).',
    { cause },
  );
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
