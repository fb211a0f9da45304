// The Discord connector: the only code that knows discord.js. It holds the gateway connection
// (intents for guild messages, DMs and message content; discord.js resumes or re-identifies after
// a drop), normalises messages to InboundMessage, applies the access policy at the door, and hands
// accepted messages to the gateway — in order, retrying a failed hand-off, because Discord never
// delivers a message twice. It also posts replies (with an enforced nonce) and shows "typing…".
import { Client, Events, GatewayIntentBits, Options, Partials } from 'discord.js';
import type { SendRecovery, UnknownOutcome } from '../../activities/channel-send.js';
import {
  type AccessStore,
  type ContextOnlyReason,
  decideAccess,
  pairingPrompt,
  type ResolvedChannelPolicy,
} from '../access.js';
import type { AttachmentStore } from '../attachments.js';
import { createConnectLoop } from '../connect-loop.js';
import { type InboundMessage, validateInboundMessage } from '../envelope.js';
import type { ConnectorLog } from '../log.js';
import { pause } from '../pause.js';
import type { ChannelPolicy } from '../routing.js';
import { formatIssues } from '../schema-validation.js';
import type { ConnectorHealth } from '../status.js';
import { ConnectError, closeError, startError } from './connect-errors.js';
import { createDiscordFiles } from './files.js';
import {
  DISCORD_CHANNEL,
  type DiscordMessageFacts,
  messageFacts,
  normalizeDiscordMessage,
} from './normalize.js';
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
  /** Backoff bounds for a failed hand-off (connection attempts wait four times as long). */
  retry?: { minMs?: number; maxMs?: number };
  /** Where the connector reports its state (gateway/channels builds one per account). */
  health?: ConnectorHealth;
  /**
   * Where the files of accepted messages are downloaded to (the gateway's blob store). Absent:
   * attachments stay references to Discord's CDN and nothing is downloaded.
   */
  attachments?: AttachmentStore;
}

export interface DiscordConnector {
  readonly channel: typeof DISCORD_CHANNEL;
  readonly accountId: string;
  readonly textLimit: number;
  /**
   * Logs in and resolves once the gateway connection is ready. Never throws for the platform's
   * sake: a refused token or intent is reported as auth-failed (and start resolves), an
   * unreachable Discord as reconnecting while it retries in the background.
   */
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
  const files = options.attachments ? createDiscordFiles({ store: options.attachments }) : undefined;
  const health = options.health;
  let stopped = false;
  let handOffs: Promise<void> = Promise.resolve();
  let wake = new AbortController();

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
    health?.inbound();
    const decision = decideAccess(policy, msg, access);
    const where = { messageId: msg.messageId, chatId: msg.chat.id, senderId: msg.sender.id };
    switch (decision.kind) {
      case 'accept': {
        // Only now, and only for messages that will be answered: a stranger's file is never fetched.
        const stored = files && msg.attachments.length > 0 ? await files.store(msg.attachments) : undefined;
        for (const ref of stored ?? []) {
          if (ref.error)
            log.warn({ ...where, file: ref.id, reason: ref.error }, 'discord: attachment not kept');
        }
        await onInbound(stored ? { ...msg, attachments: stored } : msg);
        return;
      }
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

  client.on(Events.MessageCreate, (message) => enqueue(messageFacts(message)));
  client.on(Events.ShardReady, (shard) => {
    if (!client.isReady()) return;
    health?.connected();
    log.info({ shard, accountId }, 'discord: gateway ready');
  });
  client.on(Events.ShardResume, (shard, replayed) => {
    health?.connected();
    log.info({ shard, replayed, accountId }, 'discord: gateway resumed');
  });
  client.on(Events.ShardReconnecting, (shard) => {
    if (stopped) return;
    health?.reconnecting(new Error('the gateway connection dropped; resuming'));
    log.warn({ shard, accountId }, 'discord: gateway reconnecting');
  });
  client.on(Events.ShardDisconnect, (event, shard) => {
    if (stopped || connection.active()) return;
    // discord.js gave up on this session (it resumes anything else by itself): log in afresh.
    log.warn({ shard, code: event.code, accountId }, 'discord: gateway closed for good; logging in again');
    const error = closeError(event.code);
    if (error instanceof ConnectError && error.action) {
      health?.authFailed(error, error.action);
      return;
    }
    health?.reconnecting(error);
    reconnect();
  });
  client.on(Events.Invalidated, () => {
    if (stopped) return;
    log.error({ accountId }, 'discord: session invalidated; logging in again');
    health?.reconnecting(new Error('Discord invalidated the session'));
    reconnect();
  });
  client.on(Events.Error, (err) => {
    health?.noteError(err);
    log.error({ err, accountId }, 'discord: client error');
  });

  // Log in afresh (dropping the old session) after discord.js gave one up, and before every retry.
  let freshLogin = false;
  const connection = createConnectLoop({
    name: 'discord',
    async attempt(failures) {
      if (freshLogin || failures > 0) await client.destroy();
      freshLogin = false;
      await loginOnce();
      if (stopped) return;
      health?.connected();
      log.info({ bot: client.user?.id, tag: client.user?.tag, accountId }, 'discord: connected');
    },
    refused(error) {
      const explained = startError(error);
      return explained instanceof ConnectError && explained.action
        ? { error: explained, action: explained.action }
        : undefined;
    },
    explain: startError,
    log,
    ...(health ? { health } : {}),
    // Logging in is heavier than a hand-off: wait four times as long between attempts.
    minMs: minBackoff * 4,
    maxMs: maxBackoff * 4,
  });

  function reconnect(): void {
    freshLogin = true;
    void connection.run();
  }

  /** Logs in and waits for READY, or for a close Discord will not let us recover from. */
  async function loginOnce(): Promise<void> {
    let settle!: (error?: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const onReady = () => settle();
    const onClosed = (event: { code: number }) => settle(closeError(event.code));
    const timer = setTimeout(
      () => settle(new Error(`no READY from the Discord gateway within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    client.once(Events.ClientReady, onReady);
    client.on(Events.ShardDisconnect, onClosed);
    try {
      await client.login(options.botToken);
      await ready;
    } finally {
      clearTimeout(timer);
      client.off(Events.ClientReady, onReady);
      client.off(Events.ShardDisconnect, onClosed);
    }
  }

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
      stopped = false;
      if (wake.signal.aborted) wake = new AbortController();
      if (!client.isReady()) health?.connecting();
      await connection.run();
    },

    async stop() {
      stopped = true;
      wake.abort();
      await connection.stop();
      await handOffs;
      await client.destroy();
      health?.stopped();
    },
  };
}

const READY_TIMEOUT_MS = 60_000;
