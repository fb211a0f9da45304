import websocket from '@fastify/websocket';
import { Client, Connection } from '@temporalio/client';
import type { Database } from 'better-sqlite3';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { defaultAgentId } from '../channels/routing.js';
import { buildMainSessionKey } from '../channels/session-key.js';
import { ConnectorStatusBoard } from '../channels/status.js';
import { defaultPipelineDirs, loadPipelineLibrary, type PipelineLibrary } from '../client/pipelines.js';
import { reconcileDeclared, reconcileInBackground } from '../client/schedules.js';
import { type Config, servesChannel } from '../config/config.js';
import { homePaths } from '../config/home.js';
import { describeRefusedEdit, type LiveConfig, liveConfig } from '../config/live.js';
import { BlobStore } from '../media/blob-store.js';
import { uiOrigins } from '../temporal/codec-endpoint.js';
import { connectionOptions, temporalUiUrl, workflowUiLink } from '../temporal/connection.js';
import { dataConverterOf } from '../temporal/data-converter.js';
import { CRON_CHANNEL } from '../workflows/channel/channel-api.js';
import { type Channels, type ChannelsOptions, configuredAgents, startChannels } from './channels/channels.js';
import { createRouter, type Router } from './channels/router.js';
import { codecPlugin } from './codec.js';
import { echoPlugin } from './echo.js';
import { type HealthOptions, healthPlugin } from './health.js';
import { createDetachedChannel, HOOK_CHANNEL, hooksPlugin } from './hooks.js';
import { scheduleMediaRetention } from './media-retention.js';
import { createOpenclawApprovals } from './openclaw/approvals.js';
import { createOpenclawChat, OPENCLAW_CHANNEL } from './openclaw/chat.js';
import { createOpenclawConfig } from './openclaw/config.js';
import { createOpenclawCron } from './openclaw/cron.js';
import { createProtocolServices } from './openclaw/health.js';
import { openclawProtocol } from './openclaw/protocol/plugin.js';
import { createOpenclawSessions } from './openclaw/sessions.js';
import { openDb } from './store/db.js';
import { Outbox } from './store/outbox.js';
import { createDeltaHub } from './stream/hub.js';
import { deltaRelayPlugin } from './stream/relay.js';
import { SWITCHYARD_VERSION } from './version.js';

export interface GatewayOptions {
  config: Config;
  token: string;
  /** Overrides config.temporal.address. */
  address?: string;
  taskQueue?: string;
  /** A logger of the caller's (the `gateway` command's, writing to logs/gateway.log); else `logger`. */
  loggerInstance?: FastifyBaseLogger;
  logger?: boolean | { level: string };
  /** The gateway's SQLite; defaults to <data dir>/gateway.db. */
  db?: Database;
  /** Pipeline folders (default: the shipped pipelines/ and <data dir>/pipelines/). */
  pipelineDirs?: string[];
  /** Recompile pipelines when their files change (default true). */
  watchPipelines?: boolean;
  /** What onboarding may offer beyond the cloud providers, its test call (tests), or `false`: none. */
  onboarding?: ChannelsOptions['onboarding'];
  /** Watch switchyard.yaml and the secrets file (default true); reads are exact without it. */
  watchConfig?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The blob store connectors download attachments into; defaults to <data dir>/media. */
  media?: BlobStore;
}

export interface Gateway {
  app: FastifyInstance;
  /** switchyard.yaml as it is now (re-read when it changes). */
  config: LiveConfig;
  client: Client;
  db: Database;
  pipelines: PipelineLibrary;
  channels: Channels;
  /** The connector accounts' live states. */
  status: ConnectorStatusBoard;
  /** The one entry into conversations (what every connector hands accepted messages to). */
  router: Router;
  /** Attachments and the files derived from them. */
  media: BlobStore;
  /** Settles once switchyard.yaml's schedules match Temporal's (retries while Temporal is down). */
  schedulesReconciled: Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Builds the gateway without listening. The Temporal connection is lazy: the gateway starts
 * (and reports "not ready") while Temporal is down, and recovers when it comes up.
 */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const temporalOptions = connectionOptions(config, options.address);
  const connection = Connection.lazy(temporalOptions);
  const dataConverter = dataConverterOf(config);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });
  const db = options.db ?? openDb(homePaths(config.home).gatewayDb);
  const app = Fastify({
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? { level: config.log.level } }),
    logController: new LogController({ disableRequestLogging: true }),
    // The OpenAI body schema lists several types for `content`. No type coercion: a number or an
    // object where text is expected is refused with 400, not turned into a message (found by
    // test/fuzz/doors.test.ts: `{"text": 5}` started a turn through /hooks/wake).
    ajv: { customOptions: { allowUnionTypes: true, coerceTypes: false } },
    bodyLimit: 25 * 1024 * 1024,
  });
  // Each connector account reports its real state here; a change is pushed to OpenClaw clients.
  const status = new ConnectorStatusBoard({
    onChange: (s) => {
      app.log.info({ channel: s.channel, accountId: s.accountId, state: s.state }, 'connector state changed');
      void app.openclaw?.broadcastHealth().catch(() => undefined);
    },
  });
  const health: HealthOptions = {
    connection,
    address: temporalOptions.address,
    namespace: config.temporal.namespace,
    taskQueue,
    startedAt: Date.now(),
    connectors: () => status.list(),
    uncertainSends: () => new Outbox(db, { runId: 'status' }).uncertainCounts(),
  };
  await app.register(healthPlugin, health);
  await app.register(echoPlugin, { client, taskQueue, token: options.token });
  // Temporal's remote codec: the Web UI and `temporal workflow show` read encrypted conversations.
  await app.register(codecPlugin, {
    codec: dataConverter.payloadCodecs![0]!,
    token: options.token,
    origins: uiOrigins(temporalUiUrl(config)),
  });
  // OpenClaw's gateway protocol on the same port, at `/`: its apps, CLI and clients connect here.
  await app.register(websocket, { options: { maxPayload: 25 * 1024 * 1024 } });

  const pipelines = loadPipelineLibrary({
    dirs: options.pipelineDirs ?? defaultPipelineDirs(config),
    watch: options.watchPipelines ?? true,
    onError: (message) => app.log.error(message),
  });
  // switchyard.yaml as it is now: routing, agents, channels and schedules follow its edits.
  const live = liveConfig(config, {
    watch: options.watchConfig ?? true,
    onInvalid: (error, file) => app.log.error(describeRefusedEdit(error, file)),
  });
  const current = () => live.current();
  const router = createRouter({ client, config: current, pipelines, taskQueue });
  const media = options.media ?? new BlobStore({ dir: config.media.dir, maxBytes: config.media.maxBytes });
  scheduleMediaRetention(app, media, config.media);
  // Live token deltas from workers (outside Temporal history) to the chats that show them.
  const hub = createDeltaHub({ onListenerError: (err) => app.log.warn({ err }, 'delta listener failed') });
  await app.register(deltaRelayPlugin, { hub, token: options.token });
  // OpenClaw's apps and CLI talk to sessions they name; their answers come back on `openclaw`.
  const openclawChat = createOpenclawChat({ client, hub, ingestToSession: router.ingestToSession });
  const mainSessionKey = () =>
    buildMainSessionKey(defaultAgentId(current().routing), current().routing.session?.mainKey);
  const hooks = createDetachedChannel(HOOK_CHANNEL);
  // Scheduled system events reach the main session on the `cron` pseudo-channel.
  const cronEvents = createDetachedChannel(CRON_CHANNEL);
  // `gateway.channels` leaves some channels to another gateway host: then their routes are not here.
  const serves = (channel: string) => servesChannel(config, channel);
  if (serves(HOOK_CHANNEL)) {
    await app.register(hooksPlugin, {
      token: options.token,
      ingestToSession: router.ingestToSession,
      mainSessionKey,
      answers: hooks.answers,
    });
  }
  const channels = await startChannels({
    app,
    config,
    db,
    token: options.token,
    ingest: router.ingest,
    hub,
    temporal: temporalOptions,
    dataConverter,
    env: options.env,
    attachments: media,
    extraSenders: [openclawChat.sender, hooks.sender, cronEvents.sender],
    status,
    current,
    ...(options.onboarding !== undefined ? { onboarding: options.onboarding } : {}),
  });
  if (serves(OPENCLAW_CHANNEL)) {
    await app.register(openclawProtocol, {
      auth: { mode: 'token', token: options.token },
      db,
      services: {
        ...createProtocolServices(health),
        ...openclawChat.services,
        ...createOpenclawSessions({
          client,
          db,
          mainSessionKey: mainSessionKey(),
          taskQueue: config.temporal.taskQueue,
          sessionsChanged: (payload) =>
            app.openclaw.broadcast('sessions.changed', payload, { scope: 'operator.read' }),
          onAborted: openclawChat.abortedInSession,
        }).services,
        ...createOpenclawConfig({
          config: current,
          token: options.token,
          env: options.env,
          agents: () => ({
            defaultId: defaultAgentId(current().routing),
            agents: configuredAgents(current()),
          }),
        }).services,
        ...createOpenclawApprovals({ client, taskQueue }).services,
        ...createOpenclawCron({ client, taskQueue, uiLink: (w, r) => workflowUiLink(config, w, r) }).services,
      },
      serverVersion: SWITCHYARD_VERSION,
      log: app.log,
    });
  }
  let closing = false;
  // One gateway keeps switchyard.yaml's schedules in Temporal: the one that serves `cron`.
  const schedulesReconciled = serves(CRON_CHANNEL)
    ? reconcileInBackground({ client, config, taskQueue, log: app.log, cancelled: () => closing })
    : Promise.resolve(undefined);
  live.onChange(({ config: next, changed, needsRestart }) => {
    app.log.info(`switchyard.yaml reloaded (${changed.join(', ')} changed)`);
    if (needsRestart.length > 0) {
      app.log.warn(
        `switchyard.yaml: ${needsRestart.join(', ')} changed; the gateway uses the new value when it restarts`,
      );
    }
    if (changed.some((k) => k === 'channels' || k === 'secrets' || k === 'agents')) void channels.apply(next);
    if (changed.includes('cron') && serves(CRON_CHANNEL)) {
      reconcileDeclared(client, next, taskQueue).then(
        (r) =>
          app.log.info(
            `schedules reconciled: ${r.created.length} created, ${r.updated.length} updated, ${r.deleted.length} deleted`,
          ),
        (err: unknown) => app.log.error(`schedules not reconciled: ${(err as Error).message}`),
      );
    }
  });
  app.addHook('onClose', async () => {
    closing = true;
    live.close();
    await schedulesReconciled;
    await channels.close();
    pipelines.close();
    await connection.close();
    if (!options.db) db.close();
  });
  return {
    app,
    config: live,
    client,
    db,
    pipelines,
    channels,
    status,
    router,
    media,
    schedulesReconciled,
    close: () => app.close(),
  };
}
