/** Steps that run other blocks: `switch`, `parallel`, `foreach`, `try`. */

import { CancellationScope, isCancellation } from '@temporalio/workflow';
import { evaluate, resolveTemplate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import type { ForeachStep, ParallelStep, Step, SwitchStep, TryStep } from '../../engine/ir.js';
import type { Approved } from './pipeline-approval.js';
import { errorInfo, stepFailure } from './pipeline-errors.js';
import {
  branchScope,
  contextOf,
  lastOutput,
  nestedScope,
  ReturnSignal,
  type Scope,
} from './pipeline-scope.js';

/** `approved`: what the owner approved (`approval: required`): a foreach's items, not evaluated again. */
export function runControl(step: Step, scope: Scope, approved?: Approved): Promise<unknown> {
  switch (step.kind) {
    case 'switch':
      return runSwitch(step, scope);
    case 'parallel':
      return runParallel(step, scope);
    case 'foreach':
      return runForeach(step, scope, approved);
    case 'try':
      return runTry(step, scope);
    default:
      throw new Error(`not a control step: ${step.kind}`);
  }
}

async function runSwitch(step: SwitchStep, scope: Scope): Promise<unknown> {
  const ctx = contextOf(scope);
  const chosen = step.cases.find((c) => evaluate(c.when, ctx) === true);
  const branch = chosen
    ? { name: chosen.name, steps: chosen.steps }
    : step.default && { name: 'default', steps: step.default };
  if (!branch) return { case: null, output: null };
  const inner = nestedScope(scope);
  await scope.run.runBlock(branch.steps, inner);
  return { case: branch.name, output: lastOutput(branch.steps, inner) };
}

type Settled = { name: string; ok: true; output: unknown } | { name: string; ok: false; error: unknown };

/** Branches race in their own cancellation scopes; the join decides when to stop waiting. */
async function runParallel(step: ParallelStep, scope: Scope): Promise<unknown> {
  const cancel = new CancellationScope();
  const running = new Map<string, Promise<Settled>>();
  for (const branch of step.branches) {
    const own = branchScope(scope);
    const settled = cancel
      .run(() => scope.run.runBlock(branch.steps, own))
      .then(
        (): Settled => ({ name: branch.name, ok: true, output: lastOutput(branch.steps, own) }),
        (error: unknown): Settled => ({ name: branch.name, ok: false, error }),
      );
    running.set(branch.name, settled);
  }
  const outputs: Record<string, unknown> = {};
  const errors: unknown[] = [];
  let decided: { error: unknown } | 'done' | undefined;
  while (running.size > 0 && !decided) {
    const next = await Promise.race(running.values());
    running.delete(next.name);
    if (next.ok) {
      outputs[next.name] = next.output;
      if (step.join !== 'all') decided = 'done';
    } else {
      errors.push(next.error);
      if (step.join !== 'first-successful') decided = { error: next.error };
    }
  }
  if (running.size > 0) {
    cancel.cancel();
    await Promise.all(running.values()); // settled promises: never reject
  }
  if (decided && decided !== 'done') throw decided.error;
  if (step.join === 'first-successful' && Object.keys(outputs).length === 0) {
    const last = errorInfo(errors[errors.length - 1]);
    const all = errors.map((e) => errorInfo(e)).map((e) => `${e.name}: ${e.message}`);
    throw stepFailure(last.name, `every branch failed (${all.join('; ')})`, step.id);
  }
  return outputs;
}

/** At most `concurrency` iterations at a time, each with its own vars; output in item order. */
async function runForeach(step: ForeachStep, scope: Scope, approved?: Approved): Promise<unknown> {
  const items = approved ? approved.value : resolveTemplate(step.items, contextOf(scope));
  if (!Array.isArray(items)) {
    const got = items === null ? 'null' : typeof items;
    throw stepFailure(Failures.InvalidItems, `foreach items must be a list, got ${got}`, step.id);
  }
  const outputs: unknown[] = new Array(items.length).fill(null);
  const cancel = new CancellationScope();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      const own = branchScope(scope, { [step.as]: items[index], index });
      try {
        await cancel.run(() => scope.run.runBlock(step.steps, own));
        outputs[index] = lastOutput(step.steps, own);
      } catch (error) {
        if (!failure) {
          failure = { error };
          cancel.cancel();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(step.concurrency, 1), items.length) }, lane));
  if (failure) throw failure.error;
  return outputs;
}

/** `finally` runs even when the run is cancelled or returns early; `return:` is never caught. */
async function runTry(step: TryStep, scope: Scope): Promise<unknown> {
  const inner = nestedScope(scope);
  try {
    await scope.run.runBlock(step.steps, inner);
    return lastOutput(step.steps, inner);
  } catch (error) {
    if (error instanceof ReturnSignal || isCancellation(error) || !step.catch) throw error;
    const info = errorInfo(error);
    if (step.catch.errors.length > 0 && !step.catch.errors.includes(info.name)) throw error;
    const handler = nestedScope(scope, { error: info });
    await scope.run.runBlock(step.catch.steps, handler);
    return lastOutput(step.catch.steps, handler);
  } finally {
    if (step.finally) {
      const fin = step.finally;
      await CancellationScope.nonCancellable(() => scope.run.runBlock(fin, nestedScope(scope)));
    }
  }
}
