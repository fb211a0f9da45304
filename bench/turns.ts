import { runTurns, summarize } from './turn-load.js';
import type { Measurement, Row } from './types.js';

const WARMUP = 10;
const TURNS = 100;
const CONCURRENCY = [1, 8];

/**
 * Turn overhead with a model of ~0 latency: `POST /v1/chat/completions` (non-stream) through
 * gateway → session workflow → pipeline → agent turn (one model-call activity against the bench's
 * fake OpenAI-compatible server) → reply, timed by the client from send to last byte.
 */
export const turns: Measurement = {
  name: 'turns',
  description: `POST /v1/chat/completions turn (fake model, ~0 latency): ${TURNS} turns after ${WARMUP} warm-up, at concurrency ${CONCURRENCY.join(' and ')}`,
  async run(ctx) {
    const stack = await ctx.stack();
    const levels = [];
    for (const concurrency of CONCURRENCY) {
      const warm = await runTurns(stack.url, ctx.token, WARMUP, concurrency, `warm${concurrency}`);
      if (warm.latencies.length === 0) throw new Error(`every warm-up turn failed: ${warm.firstError}`);
      const callsBefore = stack.model.calls();
      const b = await runTurns(stack.url, ctx.token, TURNS, concurrency, `c${concurrency}`);
      if (b.latencies.length === 0) throw new Error(`every turn failed: ${b.firstError}`);
      if (b.errors > 0) ctx.log(`turns c=${concurrency}: ${b.errors} errors, first: ${b.firstError}`);
      const s = summarize(b);
      levels.push({
        concurrency,
        turns: TURNS,
        ok: b.latencies.length,
        errors: b.errors,
        ...(b.firstError ? { firstError: b.firstError } : {}),
        ...s,
        // Normally 1: the agent makes one model call per turn here (no tools).
        modelCallsPerTurn: Math.round(((stack.model.calls() - callsBefore) / TURNS) * 100) / 100,
      });
      ctx.log(`turns c=${concurrency}: done in ${Math.round(s.wallMs / 100) / 10} s`);
    }
    const rows: Row[] = levels.flatMap((l): Row[] => [
      [`turn c=${l.concurrency} p50 / p99 / mean`, `${l.p50Ms} / ${l.p99Ms} / ${l.meanMs} ms`],
      [
        `turn c=${l.concurrency} throughput`,
        `${l.turnsPerSecond} turns/s${l.errors ? ` (${l.errors} errors)` : ''}`,
      ],
    ]);
    return { data: { warmup: WARMUP, levels }, rows };
  },
};
