import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ActivityDeps } from '../../activities/index.js';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { DELTA_RELAY_PATH } from '../../gateway/stream/relay.js';
import { forwardDeltas, type RunningWorker, startWorker } from '../../worker/worker.js';
import { type FakeTelegram, startFakeTelegram } from '../telegram/helpers.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from './config.js';
import { type FauxAgent, fauxAgent } from './faux-agent.js';

export interface TelegramStack {
  /** crabline speaking the real Bot API. */
  telegram: FakeTelegram;
  gateway: Gateway;
  worker: RunningWorker;
  /** pi-ai's faux model behind agent `main`. */
  agent: FauxAgent;
  config: Config;
  taskQueue: string;
  token: string;
  close(): Promise<void>;
}

export interface TelegramStackOptions {
  /** Names the task queue and the data directory. */
  name: string;
  /** Lines under `channels.telegram` besides botToken and apiRoot (dmPolicy, allowFrom, mode…). */
  telegram: string[];
  /** More top-level lines of switchyard.yaml (bindings, …). */
  yaml?: string[];
  /** The `session:` block; default: a session per chat (SEPARATE_SESSIONS). */
  sessions?: string;
  /** More files of the data directory, by relative path (pipelines/…). */
  files?: Record<string, string>;
  /** The gateway's port; default: any free one. */
  port?: number;
  /** Relay the worker's live output to the gateway, as in production (typing…). Default false. */
  liveOutput?: boolean;
  /** More worker dependencies (tools, schedule), once the gateway is up. */
  deps?(stack: { gateway: Gateway; taskQueue: string }): Omit<ActivityDeps, 'agent'> & {
    agent?: Omit<NonNullable<ActivityDeps['agent']>, 'config' | 'onDelta'>;
  };
}

/**
 * Telegram end to end, real but the platform and the model: crabline, the real gateway with
 * its grammy connector, a real worker with the faux model, on this test run's Temporal server.
 */
export async function startTelegramStack(
  address: string,
  options: TelegramStackOptions,
): Promise<TelegramStack> {
  const telegram = await startFakeTelegram();
  const home = mkdtempSync(join(tmpdir(), `switchyard-e2e-${options.name}-`));
  writeFileSync(
    join(home, 'switchyard.yaml'),
    [
      'channels:',
      '  telegram:',
      `    botToken: "${telegram.botToken}"`,
      `    apiRoot: "${telegram.apiRoot}"`,
      ...options.telegram.map((line) => `    ${line}`),
      ...(options.yaml ?? []),
      options.sessions ?? SEPARATE_SESSIONS,
      '',
    ].join('\n'),
  );
  for (const [path, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(home, path)), { recursive: true });
    writeFileSync(join(home, path), text);
  }
  const taskQueue = uniqueTaskQueue(options.name);
  const config = loadConfig({ home, env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: taskQueue } });
  const token = `${options.name}-token-0123456789`;
  const agent = fauxAgent();
  const gateway = await buildGateway({ config, token, logger: false, watchPipelines: false });
  const base = await gateway.app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  let sink: DeltaSink | undefined;
  if (options.liveOutput) {
    sink = createDeltaSink({ url: `${base.replace(/^http/, 'ws')}${DELTA_RELAY_PATH}`, token });
  }
  const extra = options.deps?.({ gateway, taskQueue }) ?? {};
  const worker = await startWorker({
    config,
    deps: {
      ...extra,
      agent: { ...extra.agent, config: agent.config, ...(sink ? { onDelta: forwardDeltas(sink) } : {}) },
    },
  });
  await gateway.channels.workersReady;
  return {
    telegram,
    gateway,
    worker,
    agent,
    config,
    taskQueue,
    token,
    async close() {
      await worker.shutdown();
      await sink?.close();
      await gateway.close();
      await telegram.close();
      agent.close();
    },
  };
}
