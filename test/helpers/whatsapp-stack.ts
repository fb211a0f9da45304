import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { DELTA_RELAY_PATH } from '../../gateway/stream/relay.js';
import { forwardDeltas, type RunningWorker, startWorker } from '../../worker/worker.js';
import { type FakeWhatsApp, linkedAuthDir, startFakeWhatsApp } from '../whatsapp/helpers.js';
import { SEPARATE_SESSIONS, uniqueTaskQueue } from './config.js';
import { type FauxAgent, fauxAgent } from './faux-agent.js';

export interface WhatsAppStack {
  /** crabline speaking WhatsApp Web's protocol to the real baileys. */
  whatsapp: FakeWhatsApp;
  gateway: Gateway;
  worker: RunningWorker;
  agent: FauxAgent;
  config: Config;
  home: string;
  base: string;
  /** The gateway token (OpenClaw clients connect with it). */
  token: string;
  close(): Promise<void>;
}

export interface WhatsAppStackOptions {
  name: string;
  /** Lines under `channels.whatsapp` besides wsUrl (dmPolicy, allowFrom, …). */
  whatsapp: string[];
  /** Link the default account before the gateway starts (default true). */
  linked?: boolean;
  liveOutput?: boolean;
}

/**
 * WhatsApp end to end, real but the platform and the model: crabline, the real gateway with its
 * baileys connector (account linked the way the QR flow leaves it), a real worker with the faux
 * model, on this test run's Temporal server.
 */
export async function startWhatsAppStack(
  address: string,
  options: WhatsAppStackOptions,
): Promise<WhatsAppStack> {
  const whatsapp = await startFakeWhatsApp();
  const home = mkdtempSync(join(tmpdir(), `switchyard-e2e-${options.name}-`));
  if (options.linked !== false) {
    mkdirSync(join(home, 'whatsapp'), { recursive: true });
    await linkedAuthDir(whatsapp.selfJid, join(home, 'whatsapp', 'default'));
  }
  writeFileSync(
    join(home, 'switchyard.yaml'),
    [
      'channels:',
      '  whatsapp:',
      `    wsUrl: "${whatsapp.wsUrl}"`,
      ...options.whatsapp.map((line) => `    ${line}`),
      SEPARATE_SESSIONS,
      '',
    ].join('\n'),
  );
  const taskQueue = uniqueTaskQueue(options.name);
  const config = loadConfig({ home, env: { TEMPORAL_ADDRESS: address, SWITCHYARD_TASK_QUEUE: taskQueue } });
  const token = `${options.name}-token-0123456789`;
  const agent = fauxAgent();
  const gateway = await buildGateway({ config, token, logger: false, watchPipelines: false });
  const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
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
    whatsapp,
    gateway,
    worker,
    agent,
    config,
    home,
    base,
    token,
    async close() {
      await worker.shutdown();
      await sink?.close();
      await gateway.close();
      await whatsapp.close();
      agent.close();
    },
  };
}
