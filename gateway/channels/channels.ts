/**
 * The gateway's channels, composed: each connector (web chat, OpenAI-compatible API, Telegram,
 * WhatsApp, Slack and Discord when configured) hands accepted messages to the router, and the gateway serves each
 * channel's task queue (`<taskQueue>.channel.<id>`) with the exactly-once send activity — the process
 * that holds a platform connection is the one that sends on it, checked against one outbox.
 */
import { randomUUID } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { type ChannelSender, createChannelSendActivities } from '../../activities/channel-send.js';
import { accountBlocks } from '../../channels/accounts.js';
import type { AttachmentStore } from '../../channels/attachments.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { resolveRoute } from '../../channels/routing.js';
import { DEFAULT_AGENT_ID } from '../../channels/session-key.js';
import type { ConnectorStatusBoard } from '../../channels/status.js';
import { createWebchatConnector, type WebchatSetup } from '../../channels/webchat/connector.js';
import { bundledLocalModel } from '../../config/bundled-model.js';
import { type Config, servesChannel } from '../../config/config.js';
import { secretSourcesOf } from '../../config/secrets.js';
import type { TemporalConnectionOptions } from '../../temporal/connection.js';
import { OPENAI_CHANNEL } from '../../workflows/channel/channel-api.js';
import { createOnboarding, type OnboardingDeps, setupReason } from '../onboarding.js';
import { openaiPlugin } from '../openai/plugin.js';
import { PendingReplies } from '../openai/replies.js';
import type { Database } from '../store/db.js';
import { Outbox } from '../store/outbox.js';
import type { DeltaHub } from '../stream/hub.js';
import { channelTaskQueue, type RunningChannelWorker, startChannelWorker } from './channel-worker.js';
import {
  type AccountConnector,
  type AccountContext,
  createAccount,
  PLATFORMS,
  resolvePlatformAccounts,
  type WantedAccount,
} from './platforms.js';
import type { Ingest } from './router.js';
import { startWhatsAppAccounts } from './whatsapp.js';

export interface ChannelsOptions {
  app: FastifyInstance;
  config: Config;
  db: Database;
  token: string;
  ingest: Ingest;
  hub: DeltaHub;
  temporal: TemporalConnectionOptions;
  /** The payload codec (temporal/data-converter.ts) the send workers decode and encode with. */
  dataConverter?: DataConverter;
  env?: NodeJS.ProcessEnv;
  /** Where connectors put the attachments of accepted messages (the gateway's blob store). */
  attachments?: AttachmentStore;
  /** Senders of channels built elsewhere in the gateway (e.g. `openclaw` for the protocol's chats). */
  extraSenders?: ChannelSender[];
  /** Where every connector account reports its state (/readyz, doctor, OpenClaw health). */
  status: ConnectorStatusBoard;
  /** The config in effect now (switchyard.yaml re-read when it changed); default: `config`. */
  current?: () => Config;
  /**
   * What onboarding may offer beyond the cloud providers (the bundled local model), or `false`:
   * no onboarding, for a worker whose models do not come from switchyard.yaml (tests).
   */
  onboarding?: Pick<OnboardingDeps, 'localModel' | 'probe'> | false;
}

/** Onboarding for the web chat: needed when the agent a message goes to has no working model. */
function webchatOnboarding(
  current: () => Config,
  env: NodeJS.ProcessEnv,
  extra: Pick<OnboardingDeps, 'localModel' | 'probe'> | undefined,
): WebchatSetup {
  const agentOf = (message: InboundMessage) => resolveRoute(current().routing, message).agentId;
  return {
    needed: (message) => setupReason(current(), agentOf(message), env),
    begin: (message, reason) =>
      createOnboarding(
        // The bundled local model is offered when `npm run setup` installed it.
        { config: current, env, localModel: bundledLocalModel, ...extra },
        agentOf(message),
        reason,
      ),
  };
}

export interface Channels {
  /** Channel ids with a connector in this gateway. */
  ids: string[];
  /** Resolves once every channel's send worker polls (it retries while Temporal is down). */
  workersReady: Promise<void>;
  /** Restarts the platform accounts a changed config changes (see startChannels). */
  apply(config: Config): Promise<void>;
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

  const current = options.current ?? (() => config);
  const env = options.env ?? process.env;
  // With several gateway hosts, each serves only its `gateway.channels`: a channel it does not
  // serve has no route here and its send queue is left to the host that holds it.
  const serves = (channel: string) => servesChannel(config, channel);
  const notServed = (channel: string) =>
    app.log.info(`channels: ${channel} is not served by this gateway (gateway.channels)`);
  if (serves('webchat')) {
    const webchat = createWebchatConnector({
      ingest,
      hub,
      token,
      log: app.log.child({ channel: 'webchat' }),
      ...(options.attachments ? { attachments: options.attachments } : {}),
      // Everyone the web chat lets in is the owner (loopback, or the gateway token): they may set
      // up the model when there is none. Other channels never see onboarding.
      ...(options.onboarding === false ? {} : { setup: webchatOnboarding(current, env, options.onboarding) }),
    });
    await app.register(webchat.plugin);
    senders.set('webchat', [webchat.sender]);
  }

  // The config in effect (apply() moves it on): new agents are served by the OpenAI API at once.
  let latest = config;
  const agents = () => configuredAgents(latest);
  const replies = new PendingReplies();
  if (serves(OPENAI_CHANNEL)) {
    await app.register(openaiPlugin, { ingest: options.ingest, hub, token, replies, agents });
    senders.set(
      OPENAI_CHANNEL,
      agents().map((a) => replies.sender(a.id)),
    );
  }

  // The platforms' accounts (Telegram, Slack, Discord): built from the config, restarted one by
  // one when switchyard.yaml or the secrets file changes them (`apply`).
  const ctx: AccountContext = {
    app,
    db,
    hub,
    status,
    ingest,
    ...(options.attachments ? { attachments: options.attachments } : {}),
  };
  const running = new Map<string, { connector: AccountConnector; fingerprint: string }>();
  /** Accounts whose HTTP route was registered at start, by key; fastify takes no routes later. */
  const routed = new Map<string, boolean>();
  const keyOf = (channel: string, accountId: string) => `${channel}/${accountId}`;
  const sendersOf = (channel: string) => {
    let list = senders.get(channel);
    if (!list) {
      list = [];
      senders.set(channel, list);
    }
    return list;
  };
  const putSender = (sender: ChannelSender) => {
    const list = sendersOf(sender.channel);
    const at = list.findIndex((s) => s.accountId === sender.accountId);
    if (at >= 0) list[at] = sender;
    else list.push(sender);
  };
  const dropSender = (channel: string, accountId: string) => {
    const list = sendersOf(channel);
    const at = list.findIndex((s) => s.accountId === accountId);
    if (at >= 0) list.splice(at, 1);
  };

  let started = false;
  const servedAccounts = (wanted: WantedAccount[]) => wanted.filter((w) => serves(w.channel));
  const configured = resolvePlatformAccounts(config, secretSourcesOf(config, env));
  for (const channel of new Set(configured.filter((w) => !serves(w.channel)).map((w) => w.channel))) {
    notServed(channel);
  }
  for (const wanted of servedAccounts(configured)) {
    const connector = await createAccount(wanted, ctx);
    const key = keyOf(wanted.channel, wanted.accountId);
    running.set(key, { connector, fingerprint: wanted.fingerprint });
    if (connector.route) {
      await connector.route.register(app, () => running.get(key)?.connector);
      routed.set(key, connector.route.rebindable);
    }
    putSender(connector.sender);
  }
  for (const platform of PLATFORMS) reportDisabled(status, config, platform);
  app.addHook('onReady', async () => {
    started = true;
    await Promise.all([...running.values()].map(({ connector }) => connector.start()));
  });
  closers.push(async () => {
    await Promise.all([...running.values()].map(({ connector }) => connector.stop()));
  });

  // WhatsApp accounts hold a linked device session and a login page: started once, here; a
  // change to channels.whatsapp is applied when the gateway restarts (apply() says so).
  const whatsapp = await startWhatsAppAccounts({
    app,
    config: serves('whatsapp') ? config : withoutWhatsApp(config),
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

  /**
   * Brings the running accounts in line with a changed config: an account whose settings or
   * access policy changed is stopped and started again, a new one starts, a removed or disabled
   * one stops. What cannot change without a restart (a webhook route fastify took at start) is
   * said in the log. A config whose credentials cannot be read changes nothing.
   */
  const needsRoute = (w: WantedAccount) =>
    (w.channel === 'telegram' && w.settings.mode === 'webhook') ||
    (w.channel === 'slack' && w.settings.mode === 'http');
  const applyNow = async (next: Config): Promise<void> => {
    if (
      serves('whatsapp') &&
      JSON.stringify(next.routing.channels?.whatsapp) !== JSON.stringify(latest.routing.channels?.whatsapp)
    ) {
      app.log.warn('channels: channels.whatsapp changed in switchyard.yaml; restart the gateway to apply it');
    }
    latest = next;
    for (const agent of serves(OPENAI_CHANNEL) ? agents() : []) {
      if (!sendersOf(OPENAI_CHANNEL).some((s) => s.accountId === agent.id))
        putSender(replies.sender(agent.id));
    }
    let wanted: WantedAccount[];
    try {
      wanted = servedAccounts(resolvePlatformAccounts(next, secretSourcesOf(next, env)));
    } catch (err) {
      app.log.error(
        `channels: ${(err as Error).message}; the running connectors are kept (fix switchyard.yaml or the secrets file)`,
      );
      return;
    }
    const wantedKeys = new Set(wanted.map((w) => keyOf(w.channel, w.accountId)));
    for (const [key, { connector }] of [...running]) {
      if (wantedKeys.has(key)) continue;
      running.delete(key);
      dropSender(connector.channel, connector.accountId);
      await connector.stop();
      status.forget(connector.channel, connector.accountId);
      app.log.info(`channels: ${key} stopped (no longer in switchyard.yaml)`);
    }
    for (const w of wanted) {
      const key = keyOf(w.channel, w.accountId);
      const old = running.get(key);
      if (old?.fingerprint === w.fingerprint) continue;
      if (needsRoute(w) && routed.get(key) !== true) {
        app.log.warn(
          `channels: ${key} changed in switchyard.yaml, but its webhook route can only be set up when the gateway starts; restart the gateway to apply it`,
        );
        continue;
      }
      if (old) {
        await old.connector.stop();
        status.forget(w.channel, w.accountId);
      }
      const connector = await createAccount(w, ctx);
      running.set(key, { connector, fingerprint: w.fingerprint });
      putSender(connector.sender);
      ensureWorker(w.channel);
      if (started) await connector.start();
      app.log.info(`channels: ${key} ${old ? 'restarted' : 'started'} (switchyard.yaml changed)`);
    }
    for (const platform of PLATFORMS) reportDisabled(status, next, platform);
  };
  // One change at a time, in the order they came.
  let applying = Promise.resolve();
  const apply = (next: Config) => {
    applying = applying
      .then(() => applyNow(next))
      .catch((err) => app.log.error({ err }, 'channels: applying the changed config failed'));
    return applying;
  };

  for (const sender of options.extraSenders ?? []) {
    if (serves(sender.channel)) senders.set(sender.channel, [sender]);
  }

  const outbox = new Outbox(db, { runId: randomUUID() });
  const workers: RunningChannelWorker[] = [];
  const served = new Set<string>();
  let connection: NativeConnection | undefined;
  let closed = false;
  /** One send worker per channel queue; a channel that appears with a config change gets its own. */
  const serve = async (channel: string) => {
    if (!connection || closed || served.has(channel)) return;
    served.add(channel);
    workers.push(
      await startChannelWorker({
        connection,
        namespace: config.temporal.namespace,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        taskQueue: channelTaskQueue(config.temporal.taskQueue, channel),
        activities: createChannelSendActivities({ outbox, senders: sendersOf(channel) }),
      }),
    );
  };
  const ensureWorker = (channel: string) => {
    serve(channel).catch((err) => app.log.error({ err, channel }, 'channel send worker failed to start'));
  };
  const workersReady = (async () => {
    connection = await connectWithRetry(options.temporal, () => closed, app);
    if (!connection) return;
    const open = connection;
    closers.push(async () => {
      await Promise.all(workers.map((w) => w.shutdown()));
      await open.close();
    });
    for (const channel of senders.keys()) await serve(channel);
  })();
  workersReady.catch((err) => app.log.error({ err }, 'channel send workers failed to start'));

  return {
    get ids() {
      return [...senders.keys()];
    },
    workersReady,
    apply,
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

/** The config with no WhatsApp accounts: for a gateway that leaves WhatsApp to another host. */
function withoutWhatsApp(config: Config): Config {
  const { whatsapp: _unused, ...others } = config.routing.channels ?? {};
  return { ...config, routing: { ...config.routing, channels: others } };
}
