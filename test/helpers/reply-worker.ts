// What the gateway-SIGKILL tests run beside the gateway processes they kill: an in-process worker
// whose faux model answers "Reply to: <prompt>", and a Temporal client that reads conversations
// through the install's codec (to find the turn in the session's history).
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../config/load.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { startWorker } from '../../worker/worker.js';
import { fauxAgent } from './faux-agent.js';

export interface ReplyWorker {
  client: Client;
  /** Shuts the worker down, closes the client's connection and the faux model. */
  stop(): Promise<void>;
}

/** Starts it for the install at `home` (switchyard.yaml already written) with `env`'s overrides. */
export async function startReplyWorker(options: {
  home: string;
  env: NodeJS.ProcessEnv;
  address: string;
}): Promise<ReplyWorker> {
  const agent = fauxAgent();
  agent.answerWith((prompt) => `Reply to: ${prompt}`);
  const config = loadConfig({ home: options.home, env: options.env });
  const worker = await startWorker({ config, deps: { agent: { config: agent.config } } });
  const client = new Client({
    connection: await Connection.connect({ address: options.address }),
    dataConverter: dataConverterOf(config),
  });
  return {
    client,
    async stop() {
      await worker.shutdown();
      await client.connection.close();
      agent.close();
    },
  };
}
