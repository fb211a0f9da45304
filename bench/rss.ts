import { performance } from 'node:perf_hooks';
import type { Measurement } from './types.js';
import { rssMiB, sleep } from './util.js';

const IDLE_MS = 5_000;

/** Resident memory of the gateway, the worker and the Temporal dev server after 5 s without traffic. */
export const rss: Measurement = {
  name: 'rss',
  description: 'idle RSS (VmRSS) of gateway, worker and Temporal dev server, 5 s after ready',
  async run(ctx) {
    const stack = await ctx.stack();
    const wait = stack.readyAt + IDLE_MS - performance.now();
    if (wait > 0) await sleep(wait);
    const data = {
      idleMs: IDLE_MS,
      gatewayMiB: rssMiB(stack.gateway.pid),
      workerMiB: rssMiB(stack.worker.pid),
      temporalDevServerMiB: rssMiB(ctx.temporal.pid),
    };
    const show = (v: number | null) => (v === null ? 'n/a' : `${v} MiB`);
    return {
      data,
      rows: [
        ['idle RSS gateway', show(data.gatewayMiB)],
        ['idle RSS worker', show(data.workerMiB)],
        ['idle RSS Temporal dev server', show(data.temporalDevServerMiB)],
      ],
    };
  },
};
