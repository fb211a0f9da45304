import { join } from 'node:path';
import { startStack } from './processes.js';
import type { Measurement } from './types.js';
import { coldStartResult, round } from './util.js';

const RUNS = 5;

/**
 * Cold start: `switchyard gateway` and `switchyard worker` spawned at the same moment (fresh
 * data dir, Temporal already up) until the first `/readyz` that answers 200 with workers >= 1.
 */
export const startup: Measurement = {
  name: 'startup',
  description: `cold start of gateway + worker to first ready /readyz (${RUNS} runs, polled every 20 ms)`,
  async run(ctx) {
    const runsMs: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const stack = await startStack({
        root: ctx.root,
        home: join(ctx.tmp, `startup-${i}`),
        temporalAddress: ctx.temporal.address,
        token: ctx.token,
        taskQueue: `bench-startup-${process.pid}-${i}`,
        pollMs: 20,
      });
      try {
        runsMs.push(round(stack.readyAt - stack.spawnedAt, 1));
      } finally {
        await stack.stop();
      }
      ctx.log(`startup run ${i}/${RUNS}: ${runsMs.at(-1)} ms`);
    }
    return coldStartResult(runsMs, 20, 'cold start');
  },
};
