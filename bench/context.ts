import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DevServer } from '../temporal/dev-server.js';
import { benchConfigYaml, startFakeModel } from './fake-model.js';
import { startStack } from './processes.js';
import type { BenchContext, SharedStack } from './types.js';

/**
 * The BenchContext of one run, with the lazily started shared stack. Its processes (like every
 * Switchyard child) are stopped by stopAllProcesses() in run.ts, its fake model server by
 * stopFakeModels().
 */
export function createContext(root: string, tmp: string, temporal: DevServer, token: string) {
  let stack: Promise<SharedStack> | undefined;
  const ctx: BenchContext = {
    root,
    tmp,
    temporal,
    token,
    log: (message) => console.error(`[bench] ${message}`),
    stack() {
      stack ??= (async () => {
        const home = join(tmp, 'shared');
        const model = await startFakeModel();
        mkdirSync(home, { recursive: true });
        writeFileSync(join(home, 'switchyard.yaml'), benchConfigYaml(model));
        const s = await startStack({
          root,
          home,
          temporalAddress: temporal.address,
          token,
          taskQueue: `bench-shared-${process.pid}`,
        });
        ctx.log(
          `shared stack ready: gateway pid ${s.gateway.pid} on ${s.url}, worker pid ${s.worker.pid}, fake model on ${model.url}`,
        );
        return { ...s, model };
      })();
      return stack;
    },
  };
  return ctx;
}
