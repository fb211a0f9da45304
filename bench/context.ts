import { join } from 'node:path';
import type { DevServer } from '../temporal/dev-server.js';
import { type Stack, startStack } from './processes.js';
import type { BenchContext } from './types.js';

/**
 * The BenchContext of one run, with the lazily started shared stack. Its processes (like every
 * Switchyard child) are stopped by stopAllProcesses() in run.ts.
 */
export function createContext(root: string, tmp: string, temporal: DevServer, token: string) {
  let stack: Promise<Stack> | undefined;
  const ctx: BenchContext = {
    root,
    tmp,
    temporal,
    token,
    log: (message) => console.error(`[bench] ${message}`),
    stack() {
      stack ??= startStack({
        root,
        home: join(tmp, 'shared'),
        temporalAddress: temporal.address,
        token,
        taskQueue: `bench-shared-${process.pid}`,
      }).then((s) => {
        ctx.log(`shared stack ready: gateway pid ${s.gateway.pid} on ${s.url}, worker pid ${s.worker.pid}`);
        return s;
      });
      return stack;
    },
  };
  return ctx;
}
