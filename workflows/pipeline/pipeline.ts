/**
 * The message workflow: interprets one compiled pipeline (engine/ir.ts) durably. The IR is
 * the input, so a run never depends on a file; edits to the YAML only affect new runs.
 */
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { resolveTemplate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import { IR_VERSION } from '../../engine/ir.js';
import {
  type PipelineOutputs,
  type PipelineRunInput,
  type PipelineState,
  pipelineSignal,
  pipelineStateQuery,
} from './pipeline-api.js';
import { runBlock } from './pipeline-block.js';
import { prepareInputs } from './pipeline-inputs.js';
import { contextOf, ReturnSignal, type Run, type Scope } from './pipeline-scope.js';

export async function pipelineWorkflow(input: PipelineRunInput): Promise<PipelineOutputs> {
  const { ir } = input;
  if (ir.irVersion !== IR_VERSION) {
    throw ApplicationFailure.nonRetryable(
      `pipeline '${ir.name}' was compiled to IR version ${ir.irVersion}; this worker runs version ${IR_VERSION}`,
      Failures.UnsupportedIR,
    );
  }
  const state: PipelineState = {
    pipeline: ir.name,
    hash: input.hash,
    status: 'running',
    steps: {},
    waitingFor: [],
    bufferedSignals: [],
  };
  const run: Run = { input, ir, state, signals: [], childRuns: new Map(), runBlock };
  setHandler(pipelineStateQuery, () => state);
  setHandler(pipelineSignal, ({ name, payload }) => {
    run.signals.push({ name, payload: payload ?? null });
    state.bufferedSignals = run.signals.map((s) => s.name);
  });

  const inputs = prepareInputs(ir.inputs, input.inputs ?? {});
  run.input = { ...input, inputs };
  const scope: Scope = { run, data: { steps: {}, vars: {} }, locals: {} };
  try {
    await runBlock(ir.steps, scope);
    const outputs = declaredOutputs(scope);
    state.status = 'completed';
    return outputs;
  } catch (error) {
    if (error instanceof ReturnSignal) {
      state.status = 'completed';
      return declaredOutputs(scope, error.outputs);
    }
    state.status = 'failed';
    throw error;
  }
}

/**
 * Declared outputs evaluated at the end. After `return:`, the returned values win and the
 * others are evaluated leniently (a step they name may never have run): null when they fail.
 */
function declaredOutputs(scope: Scope, returned?: Record<string, unknown>): PipelineOutputs {
  const early = returned !== undefined;
  const outputs: PipelineOutputs = {};
  for (const [name, output] of Object.entries(scope.run.ir.outputs)) {
    if (returned && name in returned) continue;
    if (!output.value) {
      outputs[name] = null;
      continue;
    }
    try {
      outputs[name] = resolveTemplate(output.value, contextOf(scope));
    } catch (error) {
      if (!early) {
        throw ApplicationFailure.nonRetryable(
          `output '${name}': ${(error as Error).message}`,
          Failures.ExpressionError,
        );
      }
      outputs[name] = null;
    }
  }
  return { ...outputs, ...returned };
}
