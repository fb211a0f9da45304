// The Slack connector: the only code that knows bolt and Slack's Web API. It receives events
// (Socket Mode, or HTTP Events on the gateway's port), normalises them to InboundMessage, applies
// the access policy at the door, and hands accepted messages to the gateway. It also posts
// replies for the channel-send activity, and finds a reply again by its key when a send's
// outcome was lost.
import { webApi } from '@slack/bolt';
import type { FastifyPluginAsync } from 'fastify';
import type { ChannelSendOptions, SendRecovery, UnknownOutcome } from '../../activities/channel-send.js';
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
import { RecentKeys } from '../recent-keys.js';
import type { ChannelPolicy } from '../routing.js';
import { formatIssues } from '../schema-validation.js';
import type { ConnectorHealth } from '../status.js';
import type { SlackMode } from './config.js';
import { CredentialRefused, withToken } from './credentials.js';
import { type SlackDelivery, slackEventsRoute } from './events-route.js';
import { createSlackFiles } from './files.js';
import {
  isDirectChannel,
  type NormalizedEvent,
  normalizeSlackEvent,
  normalizeSlashCommand,
  SLACK_CHANNEL,
  type SlackBotIdentity,
  type SlackEventCallback,
  type SlackSlashCommand,
} from './normalize.js';
import {
  createSlackRecover,
  createSlackSend,
  SLACK_TEXT_LIMIT,
  type SlackSend,
  SlackSendError,
} from './send.js';
import { connectSocketMode, type SocketModeConnection, sdkLogger } from './socket-mode.js';

export interface SlackConnectorOptions {
  mode: SlackMode;
  botToken: string;
  /** Socket Mode: the app-level token (xapp-...). */
  appToken?: string;
  /** HTTP mode: the signing secret. */
  signingSecret?: string;
  /** Web API root; https://slack.com/api/ unless set (a test server). */
  apiUrl?: string;
  replyInThread?: boolean;
  accountId?: string;
  /** Approved senders and pairing codes (gateway/store/pairing.ts's PairingStore). */
  access: AccessStore;
  policy: ChannelPolicy | ResolvedChannelPolicy | undefined;
  /** An accepted message: start (or signal) its turn. Throwing makes Slack re-deliver the event. */
  onInbound(msg: InboundMessage): Promise<void>;
  /** A channel message kept as context, not answered. Dropped (logged at debug) when absent. */
  onContext?(msg: InboundMessage, reason: ContextOnlyReason): Promise<void>;
  log: ConnectorLog;
  /** Where the connector reports its state (gateway/channels builds one per account). */
  health?: ConnectorHealth;
  /**
   * Where the files of accepted messages are downloaded to (the gateway's blob store). Absent:
   * attachments stay references to Slack's private URLs and nothing is downloaded.
   */
  attachments?: AttachmentStore;
  /** Backoff bounds between connection attempts. */
  retry?: { minMs?: number; maxMs?: number };
}

export interface SlackConnector {
  readonly channel: typeof SLACK_CHANNEL;
  readonly accountId: string;
  readonly mode: SlackMode;
  /** Longest text one post carries; the channel-send activity chunks to it. */
  readonly textLimit: number;
  /**
   * Learns who the bot is (auth.test), then opens the Socket Mode connection (socket mode). Never
   * throws for the platform's sake: refused credentials are reported as auth-failed (and start
   * resolves), an unreachable Slack as reconnecting while it retries in the background.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Posts one message (≤ textLimit) carrying its chunk key; failures are SlackSendError. */
  sender: SlackSend;
  /** Looks a chunk of unknown outcome up by its key in the conversation. */
  recover(chunk: UnknownOutcome): Promise<SendRecovery>;
  /** HTTP mode: the events route, a fastify plugin for `app.register()`; undefined in socket mode. */
  eventsRoute: FastifyPluginAsync | undefined;
  /** Where the events route listens (HTTP mode). */
  readonly eventsPath: string;
  identity(): SlackBotIdentity | undefined;
}

/** Remembered deliveries and threads: enough for Slack's retry window, bounded. */
const RECENT_LIMIT = 5000;

export function slackEventsPath(accountId: string): string {
  return accountId === 'default' ? '/channels/slack/events' : `/channels/slack/${accountId}/events`;
}

export function createSlackConnector(options: SlackConnectorOptions): SlackConnector {
  const { mode, access, policy, onInbound, onContext, log } = options;
  const accountId = options.accountId ?? 'default';
  const replyInThread = options.replyInThread ?? true;
  if (mode === 'socket' && !options.appToken) {
    throw new Error('channels.slack.appToken (xapp-...) is required in Socket Mode');
  }
  if (mode === 'http' && !options.signingSecret) {
    throw new Error('channels.slack.signingSecret is required in HTTP mode');
  }
  const secrets = [options.botToken, options.appToken ?? '', options.signingSecret ?? ''];
  // No automatic retries: a retried post could post twice; the outbox and Temporal decide.
  const client = new webApi.WebClient(options.botToken, {
    logger: sdkLogger(log, secrets),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 20_000,
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
  });
  const post = createSlackSend(client);
  const files = options.attachments
    ? createSlackFiles({
        botToken: options.botToken,
        store: options.attachments,
        ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      })
    : undefined;
  const recover = createSlackRecover(client);
  const handled = new RecentKeys(RECENT_LIMIT);
  const botThreads = new RecentKeys(RECENT_LIMIT);
  const health = options.health;
  let identity: SlackBotIdentity | undefined;
  let socket: SocketModeConnection | undefined;
  let stopped = false;
  const connection = createConnectLoop({
    name: 'slack',
    attempt: () => connectOnce(),
    refused: (error) => (error instanceof CredentialRefused ? { error, action: error.action } : undefined),
    explain: connectError,
    log,
    ...(health ? { health } : {}),
    minMs: options.retry?.minMs ?? 500,
    maxMs: options.retry?.maxMs ?? 30_000,
  });

  /** Every verified body from Slack: an event, a slash command, or something not used (ignored). */
  async function handleEvent(body: unknown, delivery: SlackDelivery): Promise<void> {
    if (!identity) throw new Error('slack connector: an event arrived before start() finished');
    const payload = body as SlackEventCallback & SlackSlashCommand;
    let normalized: NormalizedEvent;
    let deliveryKeys: string[];
    if (payload.type === 'event_callback') {
      const event = payload.event;
      // A retried delivery, or the `message` twin of an `app_mention`, that was already handled.
      deliveryKeys = [
        payload.event_id ? `event:${payload.event_id}` : undefined,
        event?.channel && event.ts ? `message:${event.channel}:${event.ts}` : undefined,
      ].filter((k): k is string => k !== undefined);
      if (deliveryKeys.some((k) => handled.has(k))) {
        log.debug({ eventId: payload.event_id, retryNum: delivery.retryNum }, 'slack: re-delivery dropped');
        return;
      }
      normalized = normalizeSlackEvent(payload, identity, {
        accountId,
        replyInThread,
        inBotThread: (channel, threadTs) => botThreads.has(`${channel}:${threadTs}`),
      });
    } else if (typeof payload.command === 'string') {
      deliveryKeys = payload.trigger_id ? [`command:${payload.trigger_id}`] : [];
      if (deliveryKeys.some((k) => handled.has(k))) return;
      normalized = normalizeSlashCommand(payload, identity, { accountId });
    } else {
      // Interactivity (buttons, shortcuts): not used; acknowledged so Slack shows no error.
      log.debug({ type: payload.type }, 'slack: payload not used; acknowledged');
      return;
    }
    await handleMessage(normalized, payload.event_id, delivery);
    for (const key of deliveryKeys) handled.add(key);
  }

  async function handleMessage(
    normalized: NormalizedEvent,
    eventId: string | undefined,
    delivery: SlackDelivery,
  ): Promise<void> {
    if (normalized.kind === 'skip') {
      log.debug({ eventId, reason: normalized.reason }, 'slack: event ignored');
      return;
    }
    const checked = validateInboundMessage(normalized.message);
    if (!checked.ok) {
      // A bug in normalisation, not in the message: retrying cannot help, blocking would.
      log.error(
        { eventId, issues: formatIssues(checked.errors) },
        'slack: event does not make a valid InboundMessage; dropped',
      );
      return;
    }
    const msg = checked.value;
    health?.inbound();
    const decision = decideAccess(policy, msg, access);
    const where = {
      eventId,
      retryNum: delivery.retryNum,
      chatId: msg.chat.id,
      senderId: msg.sender.id,
    };
    switch (decision.kind) {
      case 'accept': {
        // Only now, and only for messages that will be answered: a stranger's file is never fetched.
        const stored = files && msg.attachments.length > 0 ? await files.store(msg.attachments) : undefined;
        for (const ref of stored ?? []) {
          if (ref.error)
            log.warn({ ...where, file: ref.id, reason: ref.error }, 'slack: attachment not kept');
        }
        await onInbound(stored ? { ...msg, attachments: stored } : msg);
        return;
      }
      case 'context-only':
        if (onContext) await onContext(msg, decision.reason);
        else log.debug({ ...where, reason: decision.reason }, 'slack: kept as context only');
        return;
      case 'pairing-challenge':
        try {
          await post(msg.chat.id, pairingPrompt(SLACK_CHANNEL, decision.code, decision.expiresAt), {
            ...(msg.chat.threadId ? { threadId: msg.chat.threadId } : {}),
          });
        } catch (error) {
          // The DM is gone or closed to the app: retrying would not help. The code stays
          // pending, and their next message sends it again.
          if (!(error instanceof SlackSendError && error.permanent)) throw error;
          log.warn({ ...where, err: error }, 'slack: could not send the pairing code; not retrying');
          return;
        }
        log.info({ ...where, isNew: decision.isNew }, 'slack: sent a stranger their pairing code');
        return;
      case 'reject':
        log.info({ ...where, reason: decision.reason }, 'slack: message rejected by access policy');
        return;
    }
  }

  const eventsPath = slackEventsPath(accountId);
  const eventsRoute =
    mode === 'http'
      ? slackEventsRoute({
          path: eventsPath,
          signingSecret: options.signingSecret!,
          handle: handleEvent,
          isReady: () => identity !== undefined,
          log,
        })
      : undefined;

  return {
    channel: SLACK_CHANNEL,
    accountId,
    mode,
    textLimit: SLACK_TEXT_LIMIT,
    eventsRoute,
    eventsPath,
    identity: () => identity,

    async sender(chatId: string, text: string, opts?: ChannelSendOptions) {
      const sent = await post(chatId, text, opts);
      // Follow-ups in a channel thread the assistant answers in are addressed to it.
      if (opts?.threadId && !isDirectChannel(chatId, undefined)) botThreads.add(`${chatId}:${opts.threadId}`);
      return sent;
    },
    recover,

    async start() {
      stopped = false;
      if (!identity) health?.connecting();
      await connection.run();
    },

    async stop() {
      stopped = true;
      await connection.stop();
      await socket?.stop();
      health?.stopped();
    },
  };

  async function connectOnce(): Promise<void> {
    if (!identity) {
      const me = await withToken('bot', () => client.auth.test());
      if (!me.user_id) throw new Error('auth.test answered without a user_id');
      identity = {
        userId: me.user_id,
        ...(me.bot_id ? { botId: me.bot_id } : {}),
        ...(me.team_id ? { teamId: me.team_id } : {}),
      };
    }
    if (mode === 'socket') {
      socket ??= connectSocketMode({
        appToken: options.appToken!,
        ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
        handle: handleEvent,
        log,
        secrets,
        onClosed: () => {
          health?.reconnecting(new Error('Slack closed the Socket Mode connection'));
          log.warn({ accountId }, 'slack: socket mode connection closed; reconnecting');
          void connection.run();
        },
      });
      const open = socket;
      await withToken('app', () => open.connect());
    }
    if (stopped) return;
    health?.connected();
    log.info({ bot: identity.userId, team: identity.teamId, mode, accountId }, 'slack: connected');
  }
}

function connectError(error: unknown): Error {
  return new Error(`could not reach Slack: ${String((error as Error)?.message ?? error)}`, { cause: error });
}
