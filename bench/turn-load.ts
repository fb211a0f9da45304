import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { FAKE_ANSWER } from './fake-model.js';
import { http, mean, percentile, round } from './util.js';

/** The gateway's reply timeout is 120 s; give a turn a little longer before calling it failed. */
export const TURN_TIMEOUT_MS = 130_000;

export interface TurnBatch {
  latencies: number[];
  /** Requests started (all of them unless the deadline stopped the batch early). */
  started: number;
  errors: number;
  firstError?: string;
  wallMs: number;
  /** The deadline stopped the batch before every request was started. */
  capped: boolean;
}

let batchSeq = 0;

/** A label unique to one batch of this bench process, for conversation ids and session keys. */
export function batchId(label: string): string {
  return `${process.pid}-${++batchSeq}-${label}`;
}

/**
 * The load loop shared by every turn benchmark: `total` turns, `concurrency` lanes each running
 * one turn at a time, a lane taking the next turn number as soon as its previous turn ends. Each
 * lane is opened first (`open(lane)`: a connection, a session…; not timed) and closed at the end.
 * `turn` throws when a turn fails; its time from call to settle is the turn's latency. With
 * `deadline` (a performance.now() value) no new turn starts after it; those in flight finish.
 */
export async function runLanes<Lane>(options: {
  total: number;
  concurrency: number;
  deadline?: number;
  open: (lane: number) => Promise<Lane>;
  close?: (lane: Lane) => void | Promise<void>;
  turn: (lane: Lane, i: number) => Promise<void>;
}): Promise<TurnBatch> {
  const { total, concurrency } = options;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const opened = await Promise.allSettled(Array.from({ length: concurrency }, (_, i) => options.open(i)));
  const lanes = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const refused = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
    const latencies: number[] = [];
    let errors = 0;
    let firstError: string | undefined;
    let next = 0;
    let capped = false;
    const started = performance.now();
    const lane = async (state: Lane) => {
      while (next < total) {
        if (performance.now() >= deadline) {
          capped = true;
          return;
        }
        const i = next++;
        const t0 = performance.now();
        try {
          await options.turn(state, i);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(lanes.map(lane));
    return { latencies, started: next, errors, firstError, wallMs: performance.now() - started, capped };
  } finally {
    await Promise.all(lanes.map((l) => options.close?.(l)));
  }
}

/**
 * `total` non-stream `POST /v1/chat/completions` turns, `concurrency` in flight at a time, each
 * with its own `user` (its own conversation, so nothing is batched into one turn). A turn counts
 * when it answers 200 with the fake model's answer. With `deadline` (a performance.now() value)
 * no new request starts after it; those in flight are awaited.
 */
export async function runTurns(
  url: string,
  token: string,
  total: number,
  concurrency: number,
  label: string,
  deadline = Number.POSITIVE_INFINITY,
): Promise<TurnBatch> {
  const batch = batchId(label);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await runLanes({
      total,
      concurrency,
      deadline,
      open: async () => agent,
      async turn(keepAlive, i) {
        const res = await http(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: JSON.stringify({
            model: 'main',
            user: `bench-${batch}-${i}`,
            messages: [{ role: 'user', content: `bench turn ${i}` }],
          }),
          agent: keepAlive,
          timeoutMs: TURN_TIMEOUT_MS,
        });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
        const body = JSON.parse(res.body) as { choices?: Array<{ message?: { content?: string } }> };
        const content = body.choices?.[0]?.message?.content;
        if (content !== FAKE_ANSWER) throw new Error(`unexpected answer: ${JSON.stringify(content)}`);
      },
    });
  } finally {
    agent.destroy();
  }
}

/** p50 / p99 / mean / max (ms) and throughput (successful turns per second of wall time). */
export function summarize(b: TurnBatch) {
  return {
    p50Ms: round(percentile(b.latencies, 50), 1),
    p99Ms: round(percentile(b.latencies, 99), 1),
    meanMs: round(mean(b.latencies), 1),
    maxMs: round(Math.max(...b.latencies), 1),
    turnsPerSecond: round((b.latencies.length / b.wallMs) * 1000, 2),
    wallMs: round(b.wallMs, 0),
  };
}
