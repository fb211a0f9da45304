import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { DELTA_RELAY_PATH } from '../../gateway/stream/relay.js';
import { forwardDeltas, type RunningWorker, startWorker } from '../../worker/worker.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from './config.js';
import { type FauxAgent, fauxAgent } from './faux-agent.js';

export interface GatewayStack {
  gateway: Gateway;
  /** http://127.0.0.1:<port> */
  base: string;
  worker: RunningWorker;
  /** pi-ai's faux model behind agent `main`. */
  agent: FauxAgent;
  config: Config;
  home: string;
  taskQueue: string;
  close(): Promise<void>;
}

export interface GatewayStackOptions {
  /** Names the task queue and the data directory. */
  name: string;
  /** Lines of switchyard.yaml (channels:, bindings, …); sessions are kept apart per chat. */
  yaml: string[];
  /** The gateway's port; default: any free one. */
  port?: number;
  /** Relay the worker's live output to the gateway, as in production (typing…). Default false. */
  liveOutput?: boolean;
}

/**
 * A chat platform end to end, real but the platform and the model: the real gateway (its
 * connectors talk to a test server at the platform's wire protocol), a real worker with the faux
 * model, on this test run's Temporal server.
 */
export async function startGatewayStack(
  address: string,
  options: GatewayStackOptions,
): Promise<GatewayStack> {
  const home = mkdtempSync(join(tmpdir(), `switchyard-e2e-${options.name}-`));
  writeFileSync(join(home, 'switchyard.yaml'), [...options.yaml, SEPARATE_SESSIONS, ''].join('\n'));
  const taskQueue = uniqueTaskQueue(options.name);
  const config = loadConfig({ home, env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: taskQueue } });
  const token = `${options.name}-token-0123456789`;
  const agent = fauxAgent();
  const gateway = await buildGateway({ config, token, logger: false, watchPipelines: false, env: {} });
  const base = await gateway.app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  let sink: DeltaSink | undefined;
  if (options.liveOutput) {
    sink = createDeltaSink({ url: `${base.replace(/^http/, 'ws')}${DELTA_RELAY_PATH}`, token });
  }
  const worker = await startWorker({
    config,
    deps: { agent: { config: agent.config, ...(sink ? { onDelta: forwardDeltas(sink) } : {}) } },
  });
  await gateway.channels.workersReady;
  return {
    gateway,
    base,
    worker,
    agent,
    config,
    home,
    taskQueue,
    async close() {
      await worker.shutdown();
      await sink?.close();
      await gateway.close();
      agent.close();
    },
  };
}

export interface BareGateway {
  gateway: Gateway;
  config: Config;
  base: string;
  close(): Promise<void>;
}

/** Only the gateway (no worker, no model): for what a connector reports before any turn runs. */
export async function startBareGateway(
  address: string,
  options: { name: string; yaml: string[] },
): Promise<BareGateway> {
  const home = mkdtempSync(join(tmpdir(), `switchyard-${options.name}-`));
  writeFileSync(join(home, 'switchyard.yaml'), [...options.yaml, ''].join('\n'));
  const config = loadConfig({
    home,
    env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: uniqueTaskQueue(options.name) },
  });
  const gateway = await buildGateway({
    config,
    token: `${options.name}-token-0123456789`,
    logger: false,
    watchPipelines: false,
    env: {},
  });
  const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    gateway,
    config,
    base,
    async close() {
      await gateway.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
