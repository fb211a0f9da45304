/**
 * Pipeline figures for `npm run bench`: compile time of the shipped default pipeline, and the
 * interpreter's per-step overhead (20 no-op steps vs 1, run as real workflows on a worker).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { projectRoot } from '../config/home.js';
import { loadConfig } from '../config/load.js';
import { type CompiledPipeline, compilePipeline, formatErrors } from '../engine/index.js';
import { dataConverterOf } from '../temporal/data-converter.js';
import { startWorker } from '../worker/worker.js';
import type { PipelineRunInput } from '../workflows/pipeline/pipeline-api.js';
import { median, round } from './util.js';

export interface PipelineCompileFigures {
  /** First compile in this process (schema and CEL environments built on first use). */
  firstMs: number;
  /** Median of the following compiles. */
  medianMs: number;
  runs: number;
}

export async function measurePipelineCompile(runs = 20): Promise<PipelineCompileFigures> {
  const file = join(projectRoot(), 'pipelines', 'default.yaml');
  const source = readFileSync(file, 'utf8');
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const result = compilePipeline(source, file);
    times.push(performance.now() - t0);
    if (!result.ok) throw new Error(formatErrors(result.errors));
  }
  return { firstMs: round(times[0] ?? 0, 2), medianMs: round(median(times.slice(1)), 2), runs };
}

export interface StepOverheadFigures {
  /** Per in-workflow step (`noop`): (20-step run − 1-step run) / 19, medians over `runs`. */
  workflowStepMs: number;
  /** Per activity step (the `memory.recall` placeholder): one activity round trip each. */
  activityStepMs: number;
  oneStepRunMs: number;
  twentyNoopRunMs: number;
  twentyActivityRunMs: number;
  runs: number;
}

/** Starts its own worker on a fresh task queue of the Temporal server at `address`. */
export async function measureStepOverhead(address: string, runs = 5): Promise<StepOverheadFigures> {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-bench-pipeline-'));
  const config = loadConfig({ home, env: { TEMPORAL_ADDRESS: address } });
  const taskQueue = `bench-pipeline-${randomUUID().slice(0, 8)}`;
  const worker = await startWorker({ config, taskQueue });
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterOf(config),
  });
  const timeRun = async (p: CompiledPipeline) => {
    const input: PipelineRunInput = { ir: p.ir, hash: p.hash, inputs: {} };
    const t0 = performance.now();
    await client.workflow.execute('pipelineWorkflow', {
      taskQueue,
      workflowId: `bench-${p.name}-${randomUUID()}`,
      args: [input],
    });
    return performance.now() - t0;
  };
  const medianOf = async (p: CompiledPipeline) => {
    await timeRun(p); // warm-up: workflow cache, CEL parse cache
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await timeRun(p));
    return median(times);
  };
  try {
    const one = await medianOf(steps('one', 1, 'uses: noop'));
    const noop = await medianOf(steps('noop20', 20, 'uses: noop'));
    const activity = await medianOf(steps('recall20', 20, 'uses: memory.recall\n    with: { query: q }'));
    return {
      workflowStepMs: round((noop - one) / 19, 3),
      activityStepMs: round((activity - one) / 19, 2),
      oneStepRunMs: round(one, 1),
      twentyNoopRunMs: round(noop, 1),
      twentyActivityRunMs: round(activity, 1),
      runs,
    };
  } finally {
    await connection.close();
    await worker.shutdown();
    rmSync(home, { recursive: true, force: true });
  }
}

function steps(name: string, count: number, step: string): CompiledPipeline {
  const body = Array.from({ length: count }, (_, i) => `  - id: s${i}\n    ${step}\n`).join('');
  const result = compilePipeline(`name: ${name}\nsteps:\n${body}`, `${name}.yaml`);
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}
