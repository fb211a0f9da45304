/**
 * The chat platforms' accounts (Telegram, Slack, Discord), one running connector each, built
 * from the config. `resolvePlatformAccounts` says which accounts the config wants and with
 * what settings (a fingerprint: resolved credentials and access policy); `createAccount` builds
 * one connector. channels.ts starts them and, when switchyard.yaml or the secrets file changes,
 * restarts exactly the accounts whose fingerprint changed.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ChannelSender, ChannelSendOptions, OutgoingFile } from '../../activities/channel-send.js';
import { channelPolicyFor, type ResolvedChannelPolicy } from '../../channels/access.js';
import type { AttachmentStore } from '../../channels/attachments.js';
import { type ResolvedDiscordConfig, resolveDiscordAccounts } from '../../channels/discord/config.js';
import type { createDiscordConnector } from '../../channels/discord/connector.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { type ResolvedSlackConfig, resolveSlackAccounts } from '../../channels/slack/config.js';
import type { createSlackConnector } from '../../channels/slack/connector.js';
import type { ConnectorStatusBoard } from '../../channels/status.js';
import { type ResolvedTelegramConfig, resolveTelegramAccounts } from '../../channels/telegram/config.js';
import type { createTelegramConnector } from '../../channels/telegram/connector.js';
import type { Config } from '../../config/config.js';
import type { SecretSources } from '../../config/secrets.js';
import type { Database } from '../store/db.js';
import { PairingStore } from '../store/pairing.js';
import type { DeltaHub } from '../stream/hub.js';
import { createTypingIndicator } from './typing.js';

export const PLATFORMS = ['telegram', 'slack', 'discord'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** One account the config asks for, resolved (credentials read) but not built. */
export type WantedAccount =
  | {
      channel: 'telegram';
      accountId: string;
      settings: ResolvedTelegramConfig;
      policy: ResolvedChannelPolicy;
      fingerprint: string;
    }
  | {
      channel: 'slack';
      accountId: string;
      settings: ResolvedSlackConfig;
      policy: ResolvedChannelPolicy;
      fingerprint: string;
    }
  | {
      channel: 'discord';
      accountId: string;
      settings: ResolvedDiscordConfig;
      policy: ResolvedChannelPolicy;
      fingerprint: string;
    };

/** A built account connector. */
export interface AccountConnector {
  channel: Platform;
  accountId: string;
  sender: ChannelSender;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * The account's HTTP route (a webhook), when it has one. Fastify takes routes only before it
   * listens: `dispatch` says whether a route registered at start can serve a rebuilt connector.
   */
  route?: {
    register(app: FastifyInstance, current: () => AccountConnector | undefined): Promise<void>;
    rebindable: boolean;
  };
  /** What the route of a rebindable account calls (Telegram's webhook handler and its secret check). */
  webhook?: ReturnType<typeof createTelegramConnector>['webhookRoute'];
}

export interface AccountContext {
  app: FastifyInstance;
  db: Database;
  hub: DeltaHub;
  status: ConnectorStatusBoard;
  ingest(message: InboundMessage): Promise<void>;
  /** Where connectors put the attachments of accepted messages (the gateway's blob store). */
  attachments?: AttachmentStore;
}

/**
 * Every platform account the config wants. Throws (naming the key) when a credential is missing
 * or malformed: at start-up that stops the gateway; on a reload the running accounts stay.
 */
export function resolvePlatformAccounts(config: Config, sources: SecretSources): WantedAccount[] {
  const channels = config.routing.channels;
  const policy = (channel: Platform, accountId: string) =>
    channelPolicyFor(config.routing, channel, accountId);
  const wanted = (channel: Platform, accountId: string, settings: object) => {
    const p = policy(channel, accountId);
    return { channel, accountId, settings, policy: p, fingerprint: fingerprintOf(settings, p) };
  };
  return [
    ...resolveTelegramAccounts(channels?.telegram, sources).map((s) => wanted('telegram', s.accountId, s)),
    ...resolveSlackAccounts(channels?.slack, sources).map((s) => wanted('slack', s.accountId, s)),
    ...resolveDiscordAccounts(channels?.discord, sources).map((s) => wanted('discord', s.accountId, s)),
  ] as WantedAccount[];
}

/** A digest, so credentials are compared without being kept around in the clear. */
function fingerprintOf(settings: object, policy: ResolvedChannelPolicy): string {
  return createHash('sha256').update(JSON.stringify({ settings, policy })).digest('hex');
}

/** Builds one account's connector; each platform's SDK loads with its first account (issue 13). */
export async function createAccount(account: WantedAccount, ctx: AccountContext): Promise<AccountConnector> {
  switch (account.channel) {
    case 'telegram': {
      const { createTelegramConnector } = await import('../../channels/telegram/connector.js');
      return telegramAccount(account.settings, account.policy, ctx, createTelegramConnector);
    }
    case 'slack': {
      const { createSlackConnector } = await import('../../channels/slack/connector.js');
      return slackAccount(account.settings, account.policy, ctx, createSlackConnector);
    }
    case 'discord': {
      const { createDiscordConnector } = await import('../../channels/discord/connector.js');
      return discordAccount(account.settings, account.policy, ctx, createDiscordConnector);
    }
  }
}

function telegramAccount(
  settings: ResolvedTelegramConfig,
  policy: ResolvedChannelPolicy,
  ctx: AccountContext,
  create: typeof createTelegramConnector,
): AccountConnector {
  const { accountId } = settings;
  const log = ctx.app.log.child({ channel: 'telegram', accountId });
  const health = ctx.status.account('telegram', accountId, {
    mode: settings.mode,
    secrets: [settings.botToken, ...(settings.webhookSecret ? [settings.webhookSecret] : [])],
  });
  // Telegram cannot show an answer as it forms: "typing…" while the turn streams instead.
  const typing = createTypingIndicator({
    hub: ctx.hub,
    channel: 'telegram',
    typing: (chatId, threadId) => telegram.typing(chatId, threadId),
    onError: (err) => log.debug({ err }, 'typing indicator failed'),
  });
  const telegram = create({
    ...settings,
    access: new PairingStore(ctx.db),
    policy,
    onInbound: async (message) => {
      await ctx.ingest(message);
      typing.watch(message);
    },
    log,
    health,
    ...(ctx.attachments ? { attachments: ctx.attachments } : {}),
  });
  return {
    channel: 'telegram',
    accountId,
    sender: {
      channel: telegram.channel,
      accountId,
      textLimit: telegram.textLimit,
      ...(settings.onUncertain ? { onUncertain: settings.onUncertain } : {}),
      send: (chatId, text, opts) => {
        typing.replied(chatId, opts?.replyToMessageId);
        return telegram.sender(chatId, text, opts);
      },
      ...(telegram.sendFile
        ? {
            sendFile: (chatId: string, file: OutgoingFile, opts?: ChannelSendOptions) => {
              typing.replied(chatId, opts?.replyToMessageId);
              return telegram.sendFile!(chatId, file, opts);
            },
          }
        : {}),
    },
    start: () => telegram.start(),
    async stop() {
      typing.close();
      await telegram.stop();
    },
    webhook: telegram.webhookRoute,
    route: {
      rebindable: true,
      // The route stays; each request goes to the account's connector of the moment.
      async register(app, current) {
        const route = telegram.webhookRoute;
        const now = () => current()?.webhook;
        app.route({
          ...route,
          onRequest: async (request, reply) => {
            const hook = now()?.onRequest;
            if (!hook) return reply.code(404).send({ ok: false, error: 'telegram account not configured' });
            if (typeof hook === 'function') return hook.call(app, request, reply, () => undefined);
          },
          handler: async (request, reply) => {
            const target = now();
            if (!target) return reply.code(404).send({ ok: false, error: 'telegram account not configured' });
            return target.handler.call(app, request, reply);
          },
        });
      },
    },
  };
}

function slackAccount(
  settings: ResolvedSlackConfig,
  policy: ResolvedChannelPolicy,
  ctx: AccountContext,
  create: typeof createSlackConnector,
): AccountConnector {
  const { accountId } = settings;
  const health = ctx.status.account('slack', accountId, {
    mode: settings.mode,
    secrets: [settings.botToken, settings.appToken ?? '', settings.signingSecret ?? ''],
  });
  // Slack has no typing indicator for bots outside its assistant threads: nothing to show.
  const slack = create({
    ...settings,
    access: new PairingStore(ctx.db),
    policy,
    onInbound: (message) => ctx.ingest(message),
    log: ctx.app.log.child({ channel: 'slack', accountId }),
    health,
    ...(ctx.attachments ? { attachments: ctx.attachments } : {}),
  });
  const events = slack.eventsRoute;
  return {
    channel: 'slack',
    accountId,
    sender: {
      channel: slack.channel,
      accountId,
      textLimit: slack.textLimit,
      send: slack.sender,
      recover: slack.recover,
      ...(settings.onUncertain ? { onUncertain: settings.onUncertain } : {}),
    },
    start: () => slack.start(),
    stop: () => slack.stop(),
    // Bolt's events route holds this connector: a changed HTTP-mode account needs a gateway restart.
    ...(events
      ? { route: { rebindable: false, register: async (app) => void (await app.register(events)) } }
      : {}),
  };
}

function discordAccount(
  settings: ResolvedDiscordConfig,
  policy: ResolvedChannelPolicy,
  ctx: AccountContext,
  create: typeof createDiscordConnector,
): AccountConnector {
  const { accountId } = settings;
  const log = ctx.app.log.child({ channel: 'discord', accountId });
  const health = ctx.status.account('discord', accountId, { mode: 'gateway', secrets: [settings.botToken] });
  // Discord's "typing…" lasts about 10 s: repeated every 8 s while the turn streams.
  const typing = createTypingIndicator({
    hub: ctx.hub,
    channel: 'discord',
    typing: (chatId, threadId) => discord.typing(chatId, threadId),
    onError: (err) => log.debug({ err }, 'typing indicator failed'),
    intervalMs: 8000,
  });
  const discord = create({
    ...settings,
    access: new PairingStore(ctx.db),
    policy,
    onInbound: async (message) => {
      await ctx.ingest(message);
      typing.watch(message);
    },
    log,
    health,
    ...(ctx.attachments ? { attachments: ctx.attachments } : {}),
  });
  return {
    channel: 'discord',
    accountId,
    sender: {
      channel: discord.channel,
      accountId,
      textLimit: discord.textLimit,
      send: (chatId, text, opts) => {
        typing.replied(chatId, opts?.replyToMessageId);
        return discord.sender(chatId, text, opts);
      },
      recover: discord.recover,
    },
    start: () => discord.start(),
    async stop() {
      typing.close();
      await discord.stop();
    },
  };
}
