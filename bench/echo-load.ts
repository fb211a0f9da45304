import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Measurement, Row } from './types.js';
import { http, mean, percentile, round } from './util.js';

const WARMUP = 20;
const REQUESTS = 200;
const CONCURRENCY = [1, 8];

interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  throughputRps: number;
  wallMs: number;
}

/**
 * POST /v1/echo round trips (gateway → Temporal → worker → back) over loopback with keep-alive,
 * `concurrency` requests in flight at a time; latency per request, throughput over the batch.
 */
async function runBatch(url: string, token: string, total: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        const res = await http(`${url}/v1/echo`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: JSON.stringify({ text: `bench ${i}` }),
          agent,
        });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return { latencies, errors, firstError, wallMs: performance.now() - started };
}

export const echoLoad: Measurement = {
  name: 'echo',
  description: `POST /v1/echo round trip: ${REQUESTS} requests after ${WARMUP} warm-up, at concurrency ${CONCURRENCY.join(' and ')}`,
  async run(ctx) {
    const stack = await ctx.stack();
    const levels: LevelResult[] = [];
    for (const concurrency of CONCURRENCY) {
      const warm = await runBatch(stack.url, ctx.token, WARMUP, concurrency);
      if (warm.errors === WARMUP) throw new Error(`every warm-up echo failed: ${warm.firstError}`);
      const b = await runBatch(stack.url, ctx.token, REQUESTS, concurrency);
      if (b.latencies.length === 0) throw new Error(`every echo failed: ${b.firstError}`);
      if (b.errors > 0) ctx.log(`echo c=${concurrency}: ${b.errors} errors, first: ${b.firstError}`);
      levels.push({
        concurrency,
        requests: REQUESTS,
        errors: b.errors,
        p50Ms: round(percentile(b.latencies, 50), 1),
        p99Ms: round(percentile(b.latencies, 99), 1),
        meanMs: round(mean(b.latencies), 1),
        maxMs: round(Math.max(...b.latencies), 1),
        throughputRps: round((b.latencies.length / b.wallMs) * 1000, 1),
        wallMs: round(b.wallMs, 0),
      });
      ctx.log(`echo c=${concurrency}: done in ${round(b.wallMs / 1000, 1)} s`);
    }
    const rows: Row[] = levels.flatMap((l): Row[] => [
      [`echo c=${l.concurrency} p50 / p99 / mean`, `${l.p50Ms} / ${l.p99Ms} / ${l.meanMs} ms`],
      [
        `echo c=${l.concurrency} throughput`,
        `${l.throughputRps} req/s${l.errors ? ` (${l.errors} errors)` : ''}`,
      ],
    ]);
    return { data: { warmup: WARMUP, levels }, rows };
  },
};
