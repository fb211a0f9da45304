import { measurePipelineCompile, measureStepOverhead } from './pipeline.js';
import type { Measurement } from './types.js';

/** Compile time of pipelines/default.yaml: the first compile in a process, then the median. */
export const pipelineCompile: Measurement = {
  name: 'pipeline-compile',
  description: 'compile time of the default pipeline (first in a process, then median of 20)',
  async run() {
    const f = await measurePipelineCompile();
    return {
      data: { ...f },
      rows: [
        ['default pipeline compile (first)', `${f.firstMs.toFixed(1)} ms`],
        ['default pipeline compile (median)', `${f.medianMs.toFixed(1)} ms`],
      ],
    };
  },
};

/** Interpreter overhead per step: 20 no-op steps vs 1, and 20 activity steps, on the real server. */
export const stepOverhead: Measurement = {
  name: 'step-overhead',
  description: 'per-step interpreter overhead (20-step pipelines of no-op and of activity steps)',
  async run(ctx) {
    const f = await measureStepOverhead(ctx.temporal.address);
    return {
      data: { ...f },
      rows: [
        ['per in-workflow step (noop)', `${f.workflowStepMs.toFixed(2)} ms`],
        ['per activity step', `${f.activityStepMs.toFixed(1)} ms`],
      ],
    };
  },
};
