/**
 * Runs a block: steps start as soon as every id in their `after` has finished, so independent
 * steps run side by side. The first failure (or `return:`) cancels the steps still running in
 * the block, waits for them to settle, and propagates.
 */
import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { evaluate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import type { Block, Step } from '../../engine/ir.js';
import { runAction } from './pipeline-actions.js';
import { type Approved, approveStep } from './pipeline-approval.js';
import { runControl } from './pipeline-control.js';
import { asStepFailure, errorInfo, stepFailure } from './pipeline-errors.js';
import { contextOf, ReturnSignal, recordStep, type Scope } from './pipeline-scope.js';

export async function runBlock(block: Block, scope: Scope): Promise<unknown> {
  const cancel = new CancellationScope();
  const done = new Set<string>();
  const running = new Map<string, Promise<{ id: string; error?: unknown }>>();
  let pending = [...block];
  let failure: { error: unknown } | undefined;

  while (pending.length > 0 || running.size > 0) {
    if (!failure) {
      const ready = pending.filter((s) => s.after.every((id) => done.has(id)));
      pending = pending.filter((s) => !ready.includes(s));
      for (const step of ready) {
        const settled = cancel
          .run(() => runStep(step, scope))
          .then(
            () => ({ id: step.id }),
            (error: unknown) => ({ id: step.id, error: error ?? new Error('step failed') }),
          );
        running.set(step.id, settled);
      }
      if (running.size === 0) {
        // The compiler rejects cycles and unknown ids; this only guards a hand-made IR.
        throw stepFailure(
          Failures.InvalidPipeline,
          `steps ${pending.map((s) => s.id).join(', ')} can never start`,
          '',
        );
      }
    } else if (running.size === 0) {
      break;
    }
    const next = await Promise.race(running.values());
    running.delete(next.id);
    if (next.error === undefined) done.add(next.id);
    else if (!failure) {
      failure = { error: next.error };
      pending = [];
      cancel.cancel();
    }
  }
  if (failure) throw failure.error;
  return null;
}

/** One step: its `if`, its status in the state query and in `steps.<id>`, its failure name. */
async function runStep(step: Step, scope: Scope): Promise<void> {
  const { state } = scope.run;
  const entry = state.steps[step.id] ?? { status: 'running', runs: 0 };
  state.steps[step.id] = { status: 'running', runs: entry.runs + 1 };
  try {
    if (step.if && evaluate(step.if, contextOf(scope)) !== true) {
      recordStep(scope, step.id, 'skipped', null);
      state.steps[step.id] = { status: 'skipped', runs: entry.runs + 1 };
      return;
    }
    // Asked before the deadline starts: the owner's time is not the step's.
    const approved = step.approval ? await approveStep(step, scope) : undefined;
    const output = await withDeadline(step, () => runKind(step, scope, approved));
    recordStep(scope, step.id, 'succeeded', output);
    state.steps[step.id] = { status: 'succeeded', runs: entry.runs + 1 };
  } catch (error) {
    if (error instanceof ReturnSignal) {
      state.steps[step.id] = { status: 'succeeded', runs: entry.runs + 1 };
      throw error;
    }
    const failure = asStepFailure(error, step.id);
    recordStep(scope, step.id, 'failed', null);
    state.steps[step.id] = {
      status: 'failed',
      runs: entry.runs + 1,
      error: isCancellation(failure) ? 'Cancelled' : errorInfo(failure).name,
    };
    throw failure;
  }
}

function runKind(step: Step, scope: Scope, approved: Approved | undefined): Promise<unknown> {
  switch (step.kind) {
    case 'switch':
    case 'parallel':
    case 'foreach':
    case 'try':
      return runControl(step, scope, approved);
    default:
      return runAction(step, scope, approved);
  }
}

/**
 * `timeout:` on steps other than `uses:` (an activity's own startToCloseTimeout) and
 * `wait_for:` (its own timeout branch): cancel the step and fail it with `Timeout`.
 */
async function withDeadline(step: Step, fn: () => Promise<unknown>): Promise<unknown> {
  if (step.timeout === undefined || step.kind === 'uses' || step.kind === 'wait_for') return fn();
  const outer = CancellationScope.current();
  const deadline = new CancellationScope({ cancellable: true, timeout: step.timeout });
  try {
    return await deadline.run(fn);
  } catch (error) {
    if (isCancellation(error) && !outer.consideredCancelled) {
      throw stepFailure(
        Failures.Timeout,
        `step '${step.id}' did not finish within ${step.timeout}ms`,
        step.id,
      );
    }
    throw error;
  }
}
