/**
 * The gateway's channels, composed: each connector (web chat, OpenAI-compatible API, Telegram,
 * WhatsApp, Slack and Discord when configured) hands accepted messages to the router, and the gateway serves each
 * channel's task queue (`<taskQueue>.channel.<id>`) with the exactly-once send activity — the process
 * that holds a platform connection is the one that sends on it, checked against one outbox.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { type ChannelSender, createChannelSendActivities } from '../../activities/channel-send.js';
import { channelPolicyFor } from '../../channels/access.js';
import { accountBlocks } from '../../channels/accounts.js';
import type { AttachmentStore } from '../../channels/attachments.js';
import { resolveDiscordAccounts } from '../../channels/discord/config.js';
import { createDiscordConnector } from '../../channels/discord/connector.js';
import { DEFAULT_AGENT_ID } from '../../channels/session-key.js';
import { resolveSlackAccounts } from '../../channels/slack/config.js';
import { createSlackConnector } from '../../channels/slack/connector.js';
import type { ConnectorStatusBoard } from '../../channels/status.js';
import { resolveTelegramAccounts } from '../../channels/telegram/config.js';
import { createTelegramConnector } from '../../channels/telegram/connector.js';
import { createWebchatConnector } from '../../channels/webchat/connector.js';
import type { Config } from '../../config/config.js';
import { secretSourcesOf } from '../../config/secrets.js';
import type { TemporalConnectionOptions } from '../../temporal/connection.js';
import { OPENAI_CHANNEL } from '../../workflows/channel/channel-api.js';
import { openaiPlugin } from '../openai/plugin.js';
import { PendingReplies } from '../openai/replies.js';
import type { Database } from '../store/db.js';
import { Outbox } from '../store/outbox.js';
import { PairingStore } from '../store/pairing.js';
import type { DeltaHub } from '../stream/hub.js';
import { channelTaskQueue, type RunningChannelWorker, startChannelWorker } from './channel-worker.js';
import type { Ingest } from './router.js';
import { createTypingIndicator } from './typing.js';
import { startWhatsAppAccounts } from './whatsapp.js';

export interface ChannelsOptions {
  app: FastifyInstance;
  config: Config;
  db: Database;
  token: string;
  ingest: Ingest;
  hub: DeltaHub;
  temporal: TemporalConnectionOptions;
  env?: NodeJS.ProcessEnv;
  /** Where connectors put the attachments of accepted messages (the gateway's blob store). */
  attachments?: AttachmentStore;
  /** Senders of channels built elsewhere in the gateway (e.g. `openclaw` for the protocol's chats). */
  extraSenders?: ChannelSender[];
  /** Where every connector account reports its state (/readyz, doctor, OpenClaw health). */
  status: ConnectorStatusBoard;
}

export interface Channels {
  /** Channel ids with a connector in this gateway. */
  ids: string[];
  /** Resolves once every channel's send worker polls (it retries while Temporal is down). */
  workersReady: Promise<void>;
  close(): Promise<void>;
}

/** The configured agents (one `main` when none are), as the OpenAI API and OpenClaw's agents.list show them. */
export function configuredAgents(config: Config): Array<{ id: string; name: string }> {
  return (config.routing.agents ?? [{ id: DEFAULT_AGENT_ID }]).map((a) => ({
    id: a.id,
    name: a.name ?? a.id,
  }));
}

export async function startChannels(options: ChannelsOptions): Promise<Channels> {
  const { app, config, db, token, hub, status } = options;
  const ingest = async (message: Parameters<Ingest>[0]): Promise<void> => {
    await options.ingest(message);
  };
  const senders = new Map<string, ChannelSender[]>();
  const closers: Array<() => Promise<void>> = [];

  const webchat = createWebchatConnector({
    ingest,
    hub,
    token,
    log: app.log.child({ channel: 'webchat' }),
    ...(options.attachments ? { attachments: options.attachments } : {}),
  });
  await app.register(webchat.plugin);
  senders.set('webchat', [webchat.sender]);

  const agents = () => configuredAgents(config);
  const replies = new PendingReplies();
  await app.register(openaiPlugin, { ingest, hub, token, replies, agents });
  senders.set(
    OPENAI_CHANNEL,
    agents().map((a) => replies.sender(a.id)),
  );

  const sources = secretSourcesOf(config, options.env ?? process.env);
  const telegramSenders: ChannelSender[] = [];
  for (const account of resolveTelegramAccounts(config.routing.channels?.telegram, sources)) {
    const log = app.log.child({ channel: 'telegram', accountId: account.accountId });
    const health = status.account('telegram', account.accountId, {
      mode: account.mode,
      secrets: [account.botToken, ...(account.webhookSecret ? [account.webhookSecret] : [])],
    });
    // Telegram cannot show an answer as it forms: "typing…" while the turn streams instead.
    const typing = createTypingIndicator({
      hub,
      channel: 'telegram',
      typing: (chatId, threadId) => telegram.typing(chatId, threadId),
      onError: (err) => log.debug({ err }, 'typing indicator failed'),
    });
    const telegram = createTelegramConnector({
      ...account,
      access: new PairingStore(db),
      policy: channelPolicyFor(config.routing, 'telegram', account.accountId),
      onInbound: async (message) => {
        await ingest(message);
        typing.watch(message);
      },
      log,
      health,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    closers.push(async () => typing.close());
    app.route(telegram.webhookRoute);
    telegramSenders.push({
      channel: telegram.channel,
      accountId: telegram.accountId,
      textLimit: telegram.textLimit,
      send: (chatId, text, opts) => {
        typing.replied(chatId, opts?.replyToMessageId);
        return telegram.sender(chatId, text, opts);
      },
    });
    app.addHook('onReady', () => telegram.start());
    closers.push(() => telegram.stop());
  }
  if (telegramSenders.length > 0) senders.set('telegram', telegramSenders);
  reportDisabled(status, config, 'telegram');

  const slackSenders: ChannelSender[] = [];
  for (const account of resolveSlackAccounts(config.routing.channels?.slack, sources)) {
    const health = status.account('slack', account.accountId, {
      mode: account.mode,
      secrets: [account.botToken, account.appToken ?? '', account.signingSecret ?? ''],
    });
    // Slack has no typing indicator for bots outside its assistant threads: nothing to show.
    const slack = createSlackConnector({
      ...account,
      access: new PairingStore(db),
      policy: channelPolicyFor(config.routing, 'slack', account.accountId),
      onInbound: async (message) => {
        await ingest(message);
      },
      log: app.log.child({ channel: 'slack', accountId: account.accountId }),
      health,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    if (slack.eventsRoute) await app.register(slack.eventsRoute);
    slackSenders.push({
      channel: slack.channel,
      accountId: slack.accountId,
      textLimit: slack.textLimit,
      send: slack.sender,
      recover: slack.recover,
    });
    app.addHook('onReady', () => slack.start());
    closers.push(() => slack.stop());
  }
  if (slackSenders.length > 0) senders.set('slack', slackSenders);
  reportDisabled(status, config, 'slack');

  const discordSenders: ChannelSender[] = [];
  for (const account of resolveDiscordAccounts(config.routing.channels?.discord, sources)) {
    const log = app.log.child({ channel: 'discord', accountId: account.accountId });
    const health = status.account('discord', account.accountId, {
      mode: 'gateway',
      secrets: [account.botToken],
    });
    // Discord's "typing…" lasts about 10 s: repeated every 8 s while the turn streams.
    const typing = createTypingIndicator({
      hub,
      channel: 'discord',
      typing: (chatId, threadId) => discord.typing(chatId, threadId),
      onError: (err) => log.debug({ err }, 'typing indicator failed'),
      intervalMs: 8000,
    });
    const discord = createDiscordConnector({
      ...account,
      access: new PairingStore(db),
      policy: channelPolicyFor(config.routing, 'discord', account.accountId),
      onInbound: async (message) => {
        await ingest(message);
        typing.watch(message);
      },
      log,
      health,
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
    closers.push(async () => typing.close());
    discordSenders.push({
      channel: discord.channel,
      accountId: discord.accountId,
      textLimit: discord.textLimit,
      send: (chatId, text, opts) => {
        typing.replied(chatId, opts?.replyToMessageId);
        return discord.sender(chatId, text, opts);
      },
      recover: discord.recover,
    });
    app.addHook('onReady', () => discord.start());
    closers.push(() => discord.stop());
  }
  if (discordSenders.length > 0) senders.set('discord', discordSenders);
  reportDisabled(status, config, 'discord');

  const whatsapp = await startWhatsAppAccounts({
    app,
    config,
    db,
    token,
    hub,
    status,
    ingest,
    ...(options.attachments ? { attachments: options.attachments } : {}),
  });
  if (whatsapp.senders.length > 0) senders.set('whatsapp', whatsapp.senders);
  closers.push(() => whatsapp.close());
  reportDisabled(status, config, 'whatsapp');

  for (const sender of options.extraSenders ?? []) senders.set(sender.channel, [sender]);

  const outbox = new Outbox(db, { runId: randomUUID() });
  const workers: RunningChannelWorker[] = [];
  let closed = false;
  const workersReady = (async () => {
    const connection = await connectWithRetry(options.temporal, () => closed, app);
    if (!connection) return;
    for (const [channel, list] of senders) {
      workers.push(
        await startChannelWorker({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: channelTaskQueue(config.temporal.taskQueue, channel),
          activities: createChannelSendActivities({ outbox, senders: list }),
        }),
      );
    }
    closers.push(async () => {
      await Promise.all(workers.map((w) => w.shutdown()));
      await connection.close();
    });
  })();
  workersReady.catch((err) => app.log.error({ err }, 'channel send workers failed to start'));

  return {
    ids: [...senders.keys()],
    workersReady,
    async close() {
      closed = true;
      await workersReady.catch(() => {});
      for (const close of closers.reverse()) await close();
    },
  };
}

/** The gateway starts while Temporal is down; its send workers join as soon as Temporal answers. */
async function connectWithRetry(
  options: TemporalConnectionOptions,
  cancelled: () => boolean,
  app: FastifyInstance,
): Promise<NativeConnection | undefined> {
  let delay = 500;
  let warned = false;
  while (!cancelled()) {
    try {
      return await NativeConnection.connect(options);
    } catch (err) {
      if (!warned)
        app.log.warn(
          `Temporal not reachable at ${options.address} yet; channel send workers will start when it is (${(err as Error).message.split('\n')[0]})`,
        );
      warned = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
  return undefined;
}

/** Accounts switched off with `enabled: false` are shown as disabled, not silently absent. */
export function reportDisabled(status: ConnectorStatusBoard, config: Config, channel: string): void {
  for (const block of accountBlocks(channel, config.routing.channels?.[channel])) {
    if (!block.enabled) status.account(channel, block.accountId).disabled(`enabled: false in ${block.path}`);
  }
}
