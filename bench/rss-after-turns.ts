import { performance } from 'node:perf_hooks';
import { runTurns, summarize } from './turn-load.js';
import type { Measurement } from './types.js';
import { rssMiB } from './util.js';

const TURNS = 1_000;
const CONCURRENCY = 8;
const CAP_MS = 12 * 60_000;

/**
 * 1,000 turns through the HTTP API on the shared stack (concurrency 8, no new turn after 6 min),
 * then VmRSS of gateway, worker and Temporal dev server, next to their RSS just before.
 */
export const rssAfterTurns: Measurement = {
  name: 'rss-after-turns',
  description: `RSS (VmRSS) of gateway, worker and Temporal dev server after ${TURNS} turns (concurrency ${CONCURRENCY}, capped at ${CAP_MS / 60_000} min)`,
  async run(ctx) {
    const stack = await ctx.stack();
    const pids = { gateway: stack.gateway.pid, worker: stack.worker.pid, temporal: ctx.temporal.pid };
    const snapshot = () => ({
      gatewayMiB: rssMiB(pids.gateway),
      workerMiB: rssMiB(pids.worker),
      temporalDevServerMiB: rssMiB(pids.temporal),
    });
    const before = snapshot();
    const modelCallsBefore = stack.model.calls();
    const b = await runTurns(stack.url, ctx.token, TURNS, CONCURRENCY, 'rss', performance.now() + CAP_MS);
    const after = snapshot();
    if (b.latencies.length === 0) throw new Error(`every turn failed: ${b.firstError}`);
    if (b.capped) ctx.log(`rss-after-turns: time cap hit, ${b.latencies.length} of ${TURNS} turns completed`);
    if (b.errors > 0) ctx.log(`rss-after-turns: ${b.errors} errors, first: ${b.firstError}`);
    const s = summarize(b);
    const data = {
      turnsRequested: TURNS,
      turnsCompleted: b.latencies.length,
      errors: b.errors,
      ...(b.firstError ? { firstError: b.firstError } : {}),
      concurrency: CONCURRENCY,
      capMs: CAP_MS,
      capped: b.capped,
      ...s,
      /** Model calls the shared stack had served before this batch (turns of earlier measurements). */
      modelCallsBefore,
      modelCallsTotal: stack.model.calls(),
      before,
      after,
    };
    const show = (v: number | null) => (v === null ? 'n/a' : `${v} MiB`);
    const done = `${b.latencies.length}${b.capped ? ` of ${TURNS} turns (time cap hit)` : ' turns'}`;
    return {
      data,
      rows: [
        ['turns completed', `${done}${b.errors ? `, ${b.errors} errors` : ''}`],
        ['turns/s (c=8)', `${s.turnsPerSecond}`],
        ['RSS gateway before → after', `${show(before.gatewayMiB)} → ${show(after.gatewayMiB)}`],
        ['RSS worker before → after', `${show(before.workerMiB)} → ${show(after.workerMiB)}`],
        [
          'RSS Temporal dev server before → after',
          `${show(before.temporalDevServerMiB)} → ${show(after.temporalDevServerMiB)}`,
        ],
      ],
    };
  },
};
