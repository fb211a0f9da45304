/**
 * Turns over OpenClaw's gateway protocol, as its apps and CLI run them: `chat.send` (ack, then
 * the answer as `chat` events) and `agent` (two `res` frames on one request id: accepted, then
 * the result), on WebSocket connections to the shared stack's gateway.
 */
import { performance } from 'node:perf_hooks';
import { FAKE_ANSWER } from './fake-model.js';
import { connectOperator, type Frame, request, until } from './openclaw-client.js';
import { cpuPerTurn, historyPerTurn, sampleCpu } from './turn-breakdown.js';
import { batchId, runLanes, summarize, TURN_TIMEOUT_MS, type TurnBatch } from './turn-load.js';
import type { Measurement, Row } from './types.js';
import { mean, percentile, round } from './util.js';
import type { WsClient } from './ws-client.js';

const WARMUP = 10;
const TURNS = 100;
const CONCURRENCY = [1, 8];
const METHODS = ['chat.send', 'agent'] as const;
type Method = (typeof METHODS)[number];

/** One client: its own connection and its own session, in which its turns run one after another. */
interface WsLane {
  ws: WsClient;
  sessionKey: string;
  /** Send → first `res` (the ack), per turn, ms. */
  acks: number[];
}

function text(payload: unknown): string | undefined {
  const p = payload as {
    message?: { content?: Array<{ text?: string }> };
    result?: { payloads?: Array<{ text?: string }> };
  };
  return p?.message?.content?.[0]?.text ?? p?.result?.payloads?.[0]?.text;
}

/** `chat.send`: from the request to the `chat` event with state final of this run. */
async function chatSendTurn(lane: WsLane, key: string, message: string): Promise<void> {
  const t0 = performance.now();
  const ack = await request(lane.ws, key, 'chat.send', {
    sessionKey: lane.sessionKey,
    message,
    idempotencyKey: key,
  });
  lane.acks.push(performance.now() - t0);
  const runId = (ack.payload as { runId?: string } | undefined)?.runId;
  const isEnd = (f: Frame) => {
    const p = f.payload as { runId?: string; state?: string } | undefined;
    return f.event === 'chat' && p?.runId === runId && p?.state !== 'delta';
  };
  const end = await until(lane.ws, isEnd, TURN_TIMEOUT_MS);
  const state = (end.payload as { state?: string }).state;
  if (state !== 'final') throw new Error(`chat ended ${state}: ${JSON.stringify(end.payload).slice(0, 200)}`);
  if (text(end.payload) !== FAKE_ANSWER)
    throw new Error(`unexpected answer: ${JSON.stringify(text(end.payload))}`);
}

/** `agent`: from the request to its second `res` (the result). */
async function agentTurn(lane: WsLane, key: string, message: string): Promise<void> {
  const t0 = performance.now();
  await request(lane.ws, key, 'agent', { sessionKey: lane.sessionKey, message, idempotencyKey: key });
  lane.acks.push(performance.now() - t0);
  const done = await until(lane.ws, (f) => f.type === 'res' && f.id === key, TURN_TIMEOUT_MS);
  const status = (done.payload as { status?: string } | undefined)?.status;
  if (!done.ok || status !== 'ok')
    throw new Error(
      `agent ended ${status ?? 'with an error'}: ${JSON.stringify(done.error ?? done.payload).slice(0, 200)}`,
    );
  if (text(done.payload) !== FAKE_ANSWER)
    throw new Error(`unexpected answer: ${JSON.stringify(text(done.payload))}`);
}

/** `total` turns of `method`, one client (connection + session key) per concurrent lane. */
async function runWsTurns(
  wsUrl: string,
  token: string,
  method: Method,
  total: number,
  concurrency: number,
  label: string,
): Promise<TurnBatch & { acks: number[]; sessionKeys: string[] }> {
  const batch = batchId(label);
  const lanes: WsLane[] = [];
  const turn = method === 'chat.send' ? chatSendTurn : agentTurn;
  const result = await runLanes<WsLane>({
    total,
    concurrency,
    async open(i) {
      const ws = await connectOperator(wsUrl, token, ['operator.read', 'operator.write']);
      const lane = { ws, sessionKey: `agent:main:bench-ws-${batch}-${i}`, acks: [] };
      lanes.push(lane);
      return lane;
    },
    close: (lane) => lane.ws.close(),
    turn: (lane, i) => turn(lane, `bench-${batch}-${i}`, `bench turn ${i}`),
  });
  return { ...result, acks: lanes.flatMap((l) => l.acks), sessionKeys: lanes.map((l) => l.sessionKey) };
}

/**
 * Turn latency and throughput over the WebSocket with a model of ~0 latency: the same turn as
 * `turns` (session workflow → pipeline → agent turn with one model call → exactly-once reply),
 * asked for by `chat.send` and by `agent`, at concurrency 1 and 8.
 */
export const wsTurns: Measurement = {
  name: 'ws-turns',
  description:
    `OpenClaw-protocol turns over the WebSocket (chat.send, agent; fake model, ~0 latency): ${TURNS} turns after ` +
    `${WARMUP} warm-up per method, at concurrency ${CONCURRENCY.join(' and ')}; one client = one connection and ` +
    'one session key, whose turns run one after another (a session serialises its turns)',
  async run(ctx) {
    const stack = await ctx.stack();
    const wsUrl = `${stack.url.replace(/^http/, 'ws')}/`;
    const levels = [];
    for (const method of METHODS) {
      for (const concurrency of CONCURRENCY) {
        const tag = `${method === 'agent' ? 'agent' : 'chat'}${concurrency}`;
        const warm = await runWsTurns(wsUrl, ctx.token, method, WARMUP, concurrency, `warm-${tag}`);
        if (warm.latencies.length === 0)
          throw new Error(`every ${method} warm-up turn failed: ${warm.firstError}`);
        const callsBefore = stack.model.calls();
        const pids = { gateway: stack.gateway.pid, worker: stack.worker.pid, temporal: ctx.temporal.pid };
        const cpuBefore = sampleCpu(pids);
        const b = await runWsTurns(wsUrl, ctx.token, method, TURNS, concurrency, tag);
        const cpuMsPerTurn = cpuPerTurn(cpuBefore, sampleCpu(pids), TURNS);
        const perTurn = await historyPerTurn(ctx.temporal.address, b.sessionKeys, TURNS).catch(
          (error: unknown) => {
            ctx.log(`ws-turns ${method} c=${concurrency}: no history breakdown: ${(error as Error).message}`);
            return undefined;
          },
        );
        if (b.latencies.length === 0) throw new Error(`every ${method} turn failed: ${b.firstError}`);
        if (b.errors > 0)
          ctx.log(`ws-turns ${method} c=${concurrency}: ${b.errors} errors, first: ${b.firstError}`);
        const s = summarize(b);
        levels.push({
          method,
          concurrency,
          sessions: concurrency,
          turns: TURNS,
          ok: b.latencies.length,
          errors: b.errors,
          ...(b.firstError ? { firstError: b.firstError } : {}),
          ...s,
          /** Request → first `res` (chat.send's `started`, agent's `accepted`). */
          ackP50Ms: round(percentile(b.acks, 50), 1),
          ackMeanMs: round(mean(b.acks), 1),
          modelCallsPerTurn: Math.round(((stack.model.calls() - callsBefore) / TURNS) * 100) / 100,
          /** CPU ms per turn of each process (and their sum) while the batch ran. */
          cpuMsPerTurn,
          /** Per turn, from the sessions' histories (all runs) and their children's. */
          ...(perTurn ? { perTurn } : {}),
        });
        ctx.log(`ws-turns ${method} c=${concurrency}: done in ${Math.round(s.wallMs / 100) / 10} s`);
      }
    }
    const rows: Row[] = [
      ['sessions', 'one per client (c=8: 8 sessions); turns of a session run one after another'],
      ...levels.flatMap((l): Row[] => [
        [`${l.method} c=${l.concurrency} p50 / p99 / mean`, `${l.p50Ms} / ${l.p99Ms} / ${l.meanMs} ms`],
        [
          `${l.method} c=${l.concurrency} throughput`,
          `${l.turnsPerSecond} turns/s${l.errors ? ` (${l.errors} errors)` : ''}`,
        ],
        [
          `${l.method} c=${l.concurrency} CPU per turn`,
          `${l.cpuMsPerTurn.total} ms (gateway ${l.cpuMsPerTurn.gateway}, worker ${l.cpuMsPerTurn.worker}, Temporal ${l.cpuMsPerTurn.temporal})`,
        ],
        ...(l.perTurn
          ? [
              [
                `${l.method} c=${l.concurrency} per turn in Temporal`,
                `${l.perTurn.workflowTasks} workflow tasks, ${l.perTurn.activities} activities + ${l.perTurn.localActivities} local, ${l.perTurn.childWorkflows} child workflows, ${l.perTurn.events} events, ${l.perTurn.bytes} history bytes`,
              ] as Row,
            ]
          : []),
      ]),
    ];
    return { data: { warmup: WARMUP, levels }, rows };
  },
};
