/**
 * The message workflow: interprets one compiled pipeline (engine/ir.ts) durably. The IR is
 * the input, so a run never depends on a file; edits to the YAML only affect new runs.
 * `runPipeline` is the interpreter itself: a session runs inline turns with it (no child).
 */
import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { resolveTemplate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import { IR_VERSION } from '../../engine/ir.js';
import { describeFailure } from '../failure-text.js';
import { sessionTurnRerunSignal, type TurnRerun } from '../session/session-api.js';
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

// Children of turns that failed inside their session fail at once (histories before: no such input).
const FAILED_TURN_PATCH = 'sy-failed-turn-record';
// A reset run of a turn tells its session how it ended (runs recorded before did not).
const REJOIN_PATCH = 'sy-turn-rejoins-session';

export async function pipelineWorkflow(input: PipelineRunInput): Promise<PipelineOutputs> {
  const rerun = isResetRun();
  if (input.failedInline && !rerun && patched(FAILED_TURN_PATCH)) {
    const { type, message } = input.failedInline;
    throw ApplicationFailure.nonRetryable(message, type);
  }
  const run = newRun(input, workflowInfo().workflowId);
  setHandler(pipelineStateQuery, () => run.state);
  setHandler(pipelineSignal, ({ name, payload }) => {
    run.signals.push({ name, payload: payload ?? null });
    run.state.bufferedSignals = run.signals.map((s) => s.name);
  });
  if (!rerun) return runPipeline(run);
  try {
    const outputs = await runPipeline(run);
    await reportToSession({ turnId: run.key, status: 'completed', outputs });
    return outputs;
  } catch (error) {
    if (!isCancellation(error)) {
      await reportToSession({ turnId: run.key, status: 'failed', error: describeFailure(error) });
    }
    throw error;
  }
}

/** A run of the interpreter; `key` names it in idempotency keys (see Run.key). */
export function newRun(input: PipelineRunInput, key: string, extra: Partial<Run> = {}): Run {
  const state: PipelineState = {
    pipeline: input.ir.name,
    hash: input.hash,
    status: 'running',
    steps: {},
    waitingFor: [],
    bufferedSignals: [],
  };
  return { input, ir: input.ir, state, signals: [], childRuns: new Map(), runBlock, key, ...extra };
}

export async function runPipeline(run: Run): Promise<PipelineOutputs> {
  const { ir, input, state } = run;
  if (ir.irVersion !== IR_VERSION) {
    throw ApplicationFailure.nonRetryable(
      `pipeline '${ir.name}' was compiled to IR version ${ir.irVersion}; this worker runs version ${IR_VERSION}`,
      Failures.UnsupportedIR,
    );
  }
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
 * This run was made by a reset (Reset in the Temporal UI, `temporal workflow reset`,
 * `switchyard sessions retry`): a reset keeps the original run id on the start event.
 */
function isResetRun(): boolean {
  const info = workflowInfo();
  return info.runId !== info.originalExecutionRunId;
}

/**
 * A turn re-run after its session had recorded it as failed: the session records the outcome
 * and the answer in their place in the conversation. Nothing to tell when the turn is not a
 * session's (a `call:` child, a `pipelines run`), or the session has gone.
 */
async function reportToSession(outcome: TurnRerun): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent?.workflowId.startsWith('session:') || !patched(REJOIN_PATCH)) return;
  try {
    // By workflow id only: the session may have continued as new since it started this turn.
    await getExternalWorkflowHandle(parent.workflowId).signal(sessionTurnRerunSignal, outcome);
  } catch (error) {
    log.warn('the re-run turn could not tell its session', {
      session: parent.workflowId,
      turn: outcome.turnId,
      error: describeFailure(error),
    });
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
