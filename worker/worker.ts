import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import {
  createCronTool,
  createMemoryAppendTool,
  createMemoryGetTool,
  createMemorySearchTool,
  createMessageTool,
  createSessionsHistoryTool,
  createWebFetchTool,
  type ReminderOrigin,
} from '../activities/agent/builtin-tools/index.js';
import {
  type AgentActivityDeps,
  type AgentModelsConfig,
  type AgentToolDefinition,
  LocalModels,
  loadAgentModelsConfig,
} from '../activities/agent/index.js';
import type { OutgoingFile } from '../activities/channel-send.js';
import { type ActivityDeps, createActivities } from '../activities/index.js';
import type { MediaActivityDeps } from '../activities/media/index.js';
import { createDeltaSink, type DeltaSink } from '../activities/stream/sink.js';
import { parseDeltaRunKey } from '../channels/run-key.js';
import { ingestMessage } from '../client/ingest.js';
import { defaultPipelineDirs, loadPipelineLibrary } from '../client/pipelines.js';
import { sessionHistory } from '../client/sessions.js';
import type { Config } from '../config/config.js';
import { describeRefusedEdit, liveConfig } from '../config/live.js';
import { secretSourcesOf } from '../config/secrets.js';
import { gatewayToken } from '../config/token.js';
import { BlobStore } from '../media/blob-store.js';
import { sniff } from '../media/sniff.js';
import { LocalWhisper } from '../media/stt/local.js';
import type { MemoryLog } from '../memory/agent-memory.js';
import { MemoryError } from '../memory/errors.js';
import { createMemoryService, type MemoryService } from '../memory/service.js';
import { connectionOptions, workflowUiLink } from '../temporal/connection.js';
import { dataConverterOf } from '../temporal/data-converter.js';
import { agentExtras } from './agent-extras.js';
import { loadWorkflowBundle } from './bundle.js';

/** Where a production worker says what it did with an edit of switchyard.yaml; pino fits. */
export interface WorkerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface StartWorkerOptions {
  config: Config;
  /** Reloads of switchyard.yaml (applied, refused, needing a restart). Default: the console. */
  log?: WorkerLog;
  /** Overrides config.temporal.address (e.g. the dev server `switchyard up` just started). */
  address?: string;
  taskQueue?: string;
  deps?: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
  /**
   * Temporal refuses the connection (not up yet, or restarting): keep trying, calling this once,
   * instead of failing the start. `switchyard worker` sets it: under `switchyard up` a worker
   * restarted while the dev server restarts too would otherwise exit at once, again and again,
   * and the supervisor's restart delay would grow (a chaos run: 5 such exits, delays up to 16 s,
   * the worker back ~40 s after its kill). Other errors (TLS, a bad address) still fail the start.
   */
  waitForTemporal?: (message: string) => void;
}

export interface RunningWorker {
  worker: Worker;
  taskQueue: string;
  /** Settles when the worker stops (shutdown, fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config } = options;
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const sink = options.deps ? undefined : createStreamSink(config);
  const production = options.deps
    ? undefined
    : productionDeps(config, sink, options.address, taskQueue, options.log ?? consoleLog);
  const deps = options.deps ?? production!.deps;
  const connection = await connectWhenReachable(
    connectionOptions(config, options.address),
    options.waitForTemporal,
  );
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    dataConverter: dataConverterOf(config),
    workflowBundle: options.workflowBundle ?? (await loadWorkflowBundle()),
    activities: createActivities(deps),
    // Each open conversation is a session workflow; bound how many stay cached in memory (an
    // evicted one is replayed from history on its next message). ~1-2 MiB each.
    maxCachedWorkflows: Number(process.env.SWITCHYARD_WORKER_CACHE ?? 250),
    // A workflow's next task goes to the queue of the worker that has it cached; when that worker
    // was killed, the task waits there this long before any worker may take it (and replay the
    // history). Temporal's default of 10 s held every session of a killed worker for 10 s (chaos
    // runs: 15 sessions at once); a live worker keeps polling its sticky queue, so 3 s is ample.
    stickyQueueScheduleToStartTimeout: '3s',
  });
  const done = worker.run().finally(async () => {
    await sink?.close();
    await production?.close();
    await connection.close();
  });
  return {
    worker,
    taskQueue,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

type ConnectOptions = Parameters<typeof NativeConnection.connect>[0];

/** NativeConnection.connect, retried every 0.25-2 s while the server refuses connections (when `waiting` is given). */
async function connectWhenReachable(
  options: ConnectOptions,
  waiting: ((message: string) => void) | undefined,
): Promise<NativeConnection> {
  let delay = 250;
  for (let said = false; ; ) {
    try {
      return await NativeConnection.connect(options);
    } catch (error) {
      if (!waiting || !refused(error)) throw error;
      if (!said)
        waiting(`Temporal not reachable at ${options?.address ?? 'its address'} yet; waiting for it`);
      said = true;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** Nothing listens there (yet): the core's "tcp connect error … Connection refused". */
function refused(error: unknown): boolean {
  return (
    error instanceof Error && /tcp connect error|Connection refused|ConnectionRefused/.test(error.message)
  );
}

/**
 * What reaches the gateway's relay of an agent's live output: text as it forms and tool calls
 * starting and ending (thinking stays in the worker); the final answer comes through the workflow.
 */
export function forwardDeltas(sink: DeltaSink): NonNullable<AgentActivityDeps['onDelta']> {
  return (runKey, delta) => {
    if (delta.type === 'text') sink.push(runKey, delta.delta);
    else if (delta.type === 'tool') {
      const { phase, name, toolCallId, isError } = delta;
      sink.tool(runKey, { phase, name, toolCallId, ...(isError ? { isError } : {}) });
    }
  };
}

const consoleLog: WorkerLog = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

/**
 * What a production worker gets: the agent's providers and models from switchyard.yaml as it is
 * when each activity runs (checked now, so a bad config stops the worker with a clear message
 * rather than failing every turn; a bad edit later is refused and reported, the previous config
 * stays), live deltas sent to the gateway's relay, the pipeline library and a client for
 * scheduled tasks, and the agent's `cron` tool for reminders.
 */
function productionDeps(
  initial: Config,
  sink: DeltaSink | undefined,
  address: string | undefined,
  taskQueue: string,
  log: WorkerLog,
) {
  const models = new WeakMap<Config, AgentModelsConfig>();
  const modelsOf = (c: Config): AgentModelsConfig => {
    let loaded = models.get(c);
    if (!loaded) {
      loaded = loadAgentModelsConfig(c.models, { home: c.home });
      models.set(c, loaded);
    }
    return loaded;
  };
  modelsOf(initial);
  const live = liveConfig(initial, {
    check: (c) => void modelsOf(c),
    onInvalid: (error, file) => log.error(describeRefusedEdit(error, file)),
  });
  live.onChange(({ changed, needsRestart }) => {
    log.info(`switchyard.yaml reloaded (${changed.join(', ')} changed); new activities use it`);
    if (needsRestart.length > 0) {
      log.warn(
        `switchyard.yaml: ${needsRestart.join(', ')} changed; the worker uses the new value when it restarts`,
      );
    }
  });
  const config = initial;
  const media = productionMedia(
    () => live.current(),
    () => modelsOf(live.current()),
    (line) => Runtime.instance().logger.debug(`stt: ${line}`),
  );
  // Memory settings are read at start; which workspace an agent has follows the live config.
  const memory = productionMemory(config, () => modelsOf(live.current()));
  const pipelines = loadPipelineLibrary({ dirs: defaultPipelineDirs(config), watch: true });
  const connection = Connection.lazy(connectionOptions(config, address));
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterOf(config),
  });
  const cron = {
    client,
    target: { taskQueue },
    uiLink: (w: string, r?: string) => workflowUiLink(config, w, r),
  };
  // browser, exec and the skills (with `read`); each turn sees whether they are on.
  const extras = agentExtras(() => live.current(), { warn: (m) => log.warn(m) });
  // GGUF models of llama-cpp providers: each loaded on its first call, freed when the worker stops.
  const local = new LocalModels({ log: (level, message) => log[level](message) });
  const deps: ActivityDeps = {
    agent: {
      // Read when each activity runs: a reset turn calls the provider as it is configured now.
      config: () => modelsOf(live.current()),
      // Text and tool calls stream to people; the final answer always arrives through the workflow.
      ...(sink ? { onDelta: forwardDeltas(sink) } : {}),
      readBlob: media.readBlob,
      imageDescriber: media.imageDescriber,
      local,
      tools: [
        createCronTool(cron, reminderOrigin),
        createWebFetchTool({ policy: () => live.current().tools.webFetch }),
        createMessageTool({
          send: (input) =>
            client.workflow.execute('channelMessageWorkflow', {
              taskQueue,
              workflowId: `message:${input.idempotencyKey}`,
              args: [input],
              workflowIdConflictPolicy: 'USE_EXISTING',
            }),
          allowedChats: () => ownerChats(live.current()),
          storedFile: media.storedFile,
        }),
        createSessionsHistoryTool({
          history: (key) => sessionHistory(client, key),
          currentSession: (_runKey, ctx) => ctx.session ?? sessionOfTurn(ctx.idempotencyKey),
        }),
        ...memoryTools(memory),
        ...extras.tools,
      ],
      skills: extras.skills,
    },
    pipelineSteps: { memory },
    media: media.activities,
    schedule: {
      getPipeline: (name) => pipelines.get(name),
      ingest: (r) =>
        ingestMessage(client, {
          message: r.message,
          route: { agentId: r.agentId, pipeline: r.pipeline, sessionKey: r.sessionKey },
          ir: r.ir,
          hash: r.hash,
          taskQueue,
          ...(r.env ? { env: r.env } : {}),
        }),
    },
  };
  return {
    deps,
    async close() {
      live.close();
      await local.close();
      await extras.close();
      pipelines.close();
      await media.close();
      await memory.close();
      await connection.close();
    },
  };
}

/**
 * The media stage's dependencies: the blob store of the data directory, the media settings and
 * each agent's (agents[].media) as switchyard.yaml says when each activity runs, and the local
 * speech engine — one Python child per worker, started on the first voice note and stopped by
 * `close()` (the worker's shutdown).
 */
export function productionMedia(
  current: () => Config,
  models: () => AgentModelsConfig,
  log?: (line: string) => void,
) {
  const store = new BlobStore({ dir: current().media.dir, maxBytes: current().media.maxBytes });
  const local = new LocalWhisper({ ...(log ? { onLog: log } : {}) });
  const agentMedia = (agent: string) =>
    current().routing.agents?.find((a) => a.id.toLowerCase() === agent.toLowerCase())?.media;
  const activities: MediaActivityDeps = {
    store,
    settings: () => current().media,
    agentMedia,
    models,
    local,
  };
  return {
    activities,
    store,
    local,
    readBlob: (sha256: string) => store.read(sha256),
    /** A stored file as a reply carries it, its type read from its bytes (the message tool's files). */
    async storedFile(sha256: string): Promise<OutgoingFile | undefined> {
      if (!(await store.stat(sha256))) return undefined;
      const found = await sniff(await store.head(sha256));
      return { sha256, mime: found?.mime ?? 'application/octet-stream', kind: found?.kind ?? 'file' };
    },
    imageDescriber: (agent: string) => agentMedia(agent)?.vision ?? current().media.vision,
    close: () => local.close(),
  };
}

/**
 * The agents' memory (memory: in switchyard.yaml), checked now so a bad memory setting stops the
 * worker with its message; nothing is opened or loaded before the first recall or memory tool.
 */
export function productionMemory(
  config: Config,
  agents: () => { agents: Array<{ id: string; workspace: string }> },
  log: MemoryLog = (level, message, fields) => Runtime.instance().logger[level](message, fields),
): MemoryService {
  return createMemoryService(config.memory, {
    workspaceOf: (agentId) => {
      const current = agents().agents;
      const agent = current.find((a) => a.id.toLowerCase() === agentId.toLowerCase());
      if (!agent) {
        throw new MemoryError(
          'config',
          `no agent '${agentId}' in the config (agents: ${current.map((a) => a.id).join(', ') || 'none'})`,
        );
      }
      return agent.workspace;
    },
    secrets: secretSourcesOf(config),
    log,
  });
}

/** memory_search, memory_get and memory_append, reading and writing the notes of the turn's agent. */
export function memoryTools(memory: MemoryService): AgentToolDefinition[] {
  if (!memory.enabled) return [];
  const agentOf = (ctx: { idempotencyKey: string; session?: string }) =>
    agentOfSession(ctx.session ?? sessionOfTurn(ctx.idempotencyKey));
  return [
    createMemorySearchTool({ memory, agentOf }),
    createMemoryGetTool({ memory, agentOf }),
    createMemoryAppendTool({ memory, agentOf }),
  ];
}

/** `agent:<id>:…` session keys name their agent. */
function agentOfSession(sessionKey: string | undefined): string | undefined {
  return sessionKey?.startsWith('agent:') ? sessionKey.split(':')[1] : undefined;
}

/** Chats the owner controls: the senders allowed by name in each channel's `allowFrom`. */
function ownerChats(config: Config): Array<{ channel: string; chat: string }> {
  return Object.entries(config.routing.channels ?? {}).flatMap(([channel, policy]) =>
    (policy.allowFrom ?? []).filter((id) => id !== '*').map((id) => ({ channel, chat: String(id) })),
  );
}

/** Calls scheduled before tools were told their session: `<workflow id>/<activity id>`, the workflow `turn:<session key>:<message id>`. */
function sessionOfTurn(key: string): string | undefined {
  const workflowId = key.slice(0, key.lastIndexOf('/'));
  return workflowId.startsWith('turn:') ? workflowId.slice(5, workflowId.lastIndexOf(':')) : undefined;
}

/** A reminder goes back where the conversation is: the run key is `<channel>:<chat>:<message id>`. */
export function reminderOrigin(runKey: string): ReminderOrigin {
  const { channel, chatId } = parseDeltaRunKey(runKey);
  return { channel, to: chatId };
}

/** Worker → gateway live-delta connection (best effort; see gateway/stream). */
function createStreamSink(config: Config): DeltaSink | undefined {
  const token = gatewayToken(config, { create: false });
  if (!token) return undefined;
  const host = config.gateway.host === '0.0.0.0' ? '127.0.0.1' : config.gateway.host;
  const url = process.env.SWITCHYARD_STREAM_URL ?? `ws://${host}:${config.gateway.port}/internal/stream`;
  return createDeltaSink({ url, token });
}
