/**
 * The local model (llama-cpp provider) on this machine, with the bundled GGUF (SmolLM2 135M
 * Instruct Q4_1, installed by `npm run setup`; SWITCHYARD_BENCH_GGUF names another file):
 * - in the bench process, as the worker runs it (LocalModels): cold load (runtime + file), then
 *   RUNS completions of up to MAX_TOKENS tokens: first-token latency (call → first text delta,
 *   prompt evaluation included) and generation speed (tokens after the first / time after the
 *   first), at the default thread count and at 2 threads;
 * - a real gateway + `switchyard worker` whose agent `main` uses the local model (memory off, so
 *   nothing else is loaded): worker RSS when ready, then after one turn (model loaded), and the
 *   time of a cold and a warm turn through `POST /v1/chat/completions`.
 * Skipped, and said so, when the model file is missing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Api, Model } from '@mariozechner/pi-ai';
import { bundledLocalModelPath, defaultLocalThreads, LocalModels } from '../activities/agent/local-model.js';
import { startStack } from './processes.js';
import type { Measurement, Row } from './types.js';
import { http, median, round, rssMiB, sleep } from './util.js';

const RUNS = 5;
const MAX_TOKENS = 64;
const PROMPT = 'Write three sentences about the sea.';

export const localModel: Measurement = {
  name: 'local-model',
  description: `local GGUF model (llama-cpp provider): load time, first-token latency and tokens/s over ${RUNS} answers of ≤ ${MAX_TOKENS} tokens, worker RSS with the model loaded`,
  async run(ctx) {
    const file = process.env.SWITCHYARD_BENCH_GGUF ?? bundledLocalModelPath();
    if (!existsSync(file)) {
      return {
        data: { skipped: `${file} is missing (npm run setup installs it)` },
        rows: [['local model', `not run: ${file} is missing (npm run setup installs it)`]],
      };
    }
    const rows: Row[] = [];
    const inProcess: Record<string, unknown>[] = [];
    for (const threads of [defaultLocalThreads(), 2].filter((t, i, all) => all.indexOf(t) === i)) {
      const figures = await generation(file, threads);
      inProcess.push(figures);
      rows.push(
        [`threads=${threads}: cold load (runtime + model)`, `${figures.loadMs} ms`],
        [
          `threads=${threads}: first token p50 (max)`,
          `${figures.firstTokenP50Ms} (${figures.firstTokenMaxMs}) ms`,
        ],
        [`threads=${threads}: generation p50`, `${figures.tokensPerSecondP50} tokens/s`],
      );
      ctx.log(`local-model threads=${threads}: ${JSON.stringify(figures)}`);
    }
    const worker = await workerFigures(ctx, file);
    rows.push(
      ['worker RSS ready / with the model loaded', `${worker.rssReadyMiB} / ${worker.rssLoadedMiB} MiB`],
      ['turn through the gateway: cold / warm', `${worker.coldTurnMs} / ${worker.warmTurnMs} ms`],
    );
    return { data: { file, runs: RUNS, maxTokens: MAX_TOKENS, inProcess, worker }, rows };
  },
};

async function generation(file: string, threads: number) {
  const local = new LocalModels();
  const spec = { file, contextSize: 2048, threads };
  const model = {
    id: 'bench',
    api: 'llama-cpp',
    provider: 'local',
    maxTokens: MAX_TOKENS,
  } as unknown as Model<Api>;
  try {
    const started = performance.now();
    await local.load(spec);
    const loadMs = round(performance.now() - started, 0);
    const first: number[] = [];
    const speed: number[] = [];
    let outputTokens = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      let t1 = 0;
      const message = await local.complete(
        model,
        spec,
        { messages: [{ role: 'user', content: PROMPT, timestamp: Date.now() }] },
        {
          maxTokens: MAX_TOKENS,
          onText: () => {
            t1 ||= performance.now();
          },
        },
      );
      const t2 = performance.now();
      if (message.stopReason === 'error') throw new Error(`local model failed: ${message.errorMessage}`);
      first.push(t1 - t0);
      outputTokens += message.usage.output;
      if (message.usage.output > 1) speed.push(((message.usage.output - 1) / (t2 - t1)) * 1000);
    }
    return {
      threads,
      loadMs,
      firstTokenP50Ms: round(median(first), 0),
      firstTokenMaxMs: round(Math.max(...first), 0),
      tokensPerSecondP50: round(median(speed), 1),
      meanOutputTokens: round(outputTokens / RUNS, 1),
    };
  } finally {
    await local.close();
  }
}

async function workerFigures(ctx: Parameters<Measurement['run']>[0], file: string) {
  const home = join(ctx.tmp, 'local-model');
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'switchyard.yaml'),
    [
      'providers:',
      '  local:',
      '    type: llama-cpp',
      `    model: ${JSON.stringify(file)}`,
      'agents:',
      '  - id: main',
      `    model: { primary: local/smollm2, maxTokens: ${MAX_TOKENS} }`,
      'memory:',
      '  enabled: false',
      '',
    ].join('\n'),
  );
  const stack = await startStack({
    root: ctx.root,
    home,
    temporalAddress: ctx.temporal.address,
    token: ctx.token,
    taskQueue: `bench-local-${process.pid}`,
  });
  try {
    await sleep(2_000);
    const rssReadyMiB = rssMiB(stack.worker.pid);
    const turn = async (i: number) => {
      const t0 = performance.now();
      const res = await http(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ctx.token}` },
        body: JSON.stringify({
          model: 'main',
          user: `bench-local-${i}`,
          messages: [{ role: 'user', content: PROMPT }],
        }),
        timeoutMs: 180_000,
      });
      if (res.status !== 200)
        throw new Error(`local model turn: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      return round(performance.now() - t0, 0);
    };
    const coldTurnMs = await turn(1);
    const rssLoadedMiB = rssMiB(stack.worker.pid);
    const warmTurnMs = await turn(2);
    return { rssReadyMiB, rssLoadedMiB, coldTurnMs, warmTurnMs };
  } finally {
    await stack.stop();
  }
}
