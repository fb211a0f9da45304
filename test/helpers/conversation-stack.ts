import type { AgentToolDefinition } from '../../activities/agent/index.js';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import type { Config } from '../../config/config.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { DELTA_RELAY_PATH } from '../../gateway/stream/relay.js';
import { forwardDeltas, type RunningWorker, startWorker } from '../../worker/worker.js';
import { type FauxAgent, fauxAgent } from './faux-agent.js';

export interface ConversationStack {
  config: Config;
  gateway: Gateway;
  worker: RunningWorker;
  agent: FauxAgent;
  /** http://127.0.0.1:<port> of the gateway. */
  base: string;
  close(): Promise<void>;
}

/**
 * Everything a conversation needs, real but the model: the gateway listening on loopback, a
 * worker on the config's task queue answering with pi-ai's faux model (`answer(prompt)`), and
 * the worker's live deltas flowing to the gateway's relay. `tools` are the agent's tools.
 */
export async function startConversationStack(
  config: Config,
  token: string,
  answer: (prompt: string) => string,
  options: { tools?: AgentToolDefinition[] } = {},
): Promise<ConversationStack> {
  const agent = fauxAgent();
  agent.answerWith(answer);
  // The worker's model is the faux one, not switchyard.yaml's: no onboarding in the web chat.
  const gateway = await buildGateway({
    config,
    token,
    logger: false,
    watchPipelines: false,
    onboarding: false,
  });
  const base = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  const sink: DeltaSink = createDeltaSink({
    url: `${base.replace(/^http/, 'ws')}${DELTA_RELAY_PATH}`,
    token,
  });
  const worker = await startWorker({
    config,
    deps: {
      agent: {
        config: agent.config,
        onDelta: forwardDeltas(sink),
        ...(options.tools ? { tools: options.tools } : {}),
      },
    },
  });
  await gateway.channels.workersReady;
  return {
    config,
    gateway,
    worker,
    agent,
    base,
    async close() {
      await worker.shutdown();
      await sink.close();
      await gateway.close();
      agent.close();
    },
  };
}
