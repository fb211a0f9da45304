/**
 * Compiling a step list (a block) to IR, the compile-time twin of workflows/pipeline/pipeline-block.ts:
 * each step's `needs:` (the DAG, cycles, an order that puts every step after what it needs),
 * the scope each step sees (the steps before it and the variables they set), the fields every
 * step has, and then the step's own compiler: compile-actions.ts or compile-control.ts.
 */
import { compileAction } from './compile-actions.js';
import {
  asRecord,
  type BlockFlags,
  type CommonFields,
  type CompileContext,
  pathKey,
  type RawStep,
  type StepBody,
  type StepCompilation,
  type StepInfo,
} from './compile-context.js';
import { compileControl, isControlKind } from './compile-control.js';
import { didYouMean } from './errors.js';
import type { Scope } from './expr-check.js';
import type { Block, Step } from './ir.js';
import { positiveDuration } from './policy.js';
import type { FieldPath } from './source.js';
import { compileStepApproval } from './step-approval.js';
import { compileCondition } from './values.js';

export interface BlockResult {
  block: Block;
  /** Variables set anywhere in the block (for scopes after a sequential compound step). */
  varsSet: Map<string, string>;
}

/** Compile a list of steps: dependencies, cycles, and each step in its visible scope. */
export function compileBlock(
  ctx: CompileContext,
  rawSteps: unknown[],
  path: FieldPath,
  outer: Scope,
  flags: BlockFlags,
): BlockResult {
  const entries = rawSteps.map((raw, i) => ({
    raw: asRecord(raw) as RawStep,
    path: [...path, i] as FieldPath,
    info: ctx.infos.get(pathKey([...path, i])),
  }));
  const ids = entries.map((entry) => entry.info?.id ?? '');
  const needs = entries.map((entry, i) => resolveNeeds(ctx, entry.raw, entry.path, ids, i));
  const cyclic = findCycles(ctx, entries, ids, needs);

  const varsSetBy = new Map<number, Map<string, string>>();
  const compiled = new Map<number, Step>();
  for (const i of dependencyOrder(needs, cyclic)) {
    const entry = entries[i];
    if (!entry?.info) continue;
    const before = [...ancestorsOf(i, needs)].sort((a, b) => a - b);
    const scope: Scope = {
      steps: [...outer.steps, ...before.map((a) => ids[a] ?? '')],
      vars: new Map(outer.vars),
      locals: outer.locals,
    };
    for (const a of before) mergeVars(scope.vars, varsSetBy.get(a));
    const result = compileStep(ctx, entry.raw, entry.path, entry.info, scope, flags);
    const after = (needs[i] ?? []).map((d) => ids[d] ?? '');
    if (result) {
      compiled.set(i, { ...result.step, after } as Step);
      varsSetBy.set(i, result.varsSet);
    }
  }
  const varsSet = new Map<string, string>();
  for (const set of varsSetBy.values()) mergeVars(varsSet, set);
  const block = entries.map((_, i) => compiled.get(i)).filter((step): step is Step => step !== undefined);
  return { block, varsSet };
}

/** A variable set with two different types becomes `dyn`. */
function mergeVars(into: Map<string, string>, from: Map<string, string> | undefined) {
  for (const [name, type] of from ?? []) {
    const known = into.get(name);
    into.set(name, known === undefined || known === type ? type : 'dyn');
  }
}

/** The indexes of the steps a step waits for: its `needs:`, or else the step before it. */
function resolveNeeds(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  ids: string[],
  i: number,
): number[] {
  if (!('needs' in raw)) return i > 0 ? [i - 1] : [];
  const list = typeof raw.needs === 'string' ? [raw.needs] : Array.isArray(raw.needs) ? raw.needs : [];
  const found: number[] = [];
  list.forEach((name, k) => {
    if (typeof name !== 'string') return;
    const at = typeof raw.needs === 'string' ? [...path, 'needs'] : [...path, 'needs', k];
    const index = ids.indexOf(name);
    if (index === i) ctx.errors.push(ctx.src.error(at, `step '${name}' cannot need itself`, name));
    else if (index >= 0) found.push(index);
    else {
      const elsewhere = [...ctx.infos.values()].some((info) => info.id === name);
      const known = ids.filter((id) => id && id !== ids[i] && !id.startsWith('_'));
      ctx.errors.push(
        ctx.src.error(
          at,
          elsewhere
            ? `needs '${name}', but that step is in another list; needs may only name steps of the same list (${known.join(', ') || 'none'})`
            : `needs '${name}', but there is no such step${didYouMean(name, known)}; steps in this list: ${known.join(', ') || 'none'}`,
          name,
        ),
      );
    }
  });
  return found;
}

/** Reports each cycle of `needs:` once, at its first step; returns the steps on a cycle. */
function findCycles(
  ctx: CompileContext,
  entries: Array<{ path: FieldPath }>,
  ids: string[],
  needs: number[][],
): Set<number> {
  const NEW = 0;
  const ON_STACK = 1;
  const DONE = 2;
  const state = new Array<number>(needs.length).fill(NEW);
  const inCycle = new Set<number>();
  const stack: number[] = [];
  const visit = (step: number) => {
    state[step] = ON_STACK;
    stack.push(step);
    for (const needed of needs[step] ?? []) {
      if (state[needed] === ON_STACK) {
        const cycle = stack.slice(stack.indexOf(needed));
        const first = Math.min(...cycle);
        if (!cycle.every((c) => inCycle.has(c))) {
          for (const c of cycle) inCycle.add(c);
          const names = [...cycle, cycle[0] ?? 0].reverse().map((c) => ids[c]);
          const at = entries[first]?.path ?? [];
          ctx.errors.push(
            ctx.src.error(
              [...at, 'needs'],
              `steps depend on each other in a cycle: ${names.join(' -> ')}`,
              ids[first],
            ),
          );
        }
      } else if (state[needed] === NEW) visit(needed);
    }
    stack.pop();
    state[step] = DONE;
  };
  for (let i = 0; i < needs.length; i++) if (state[i] === NEW) visit(i);
  return inCycle;
}

/** Every step after the steps it needs (edges inside a reported cycle are ignored). */
function dependencyOrder(needs: number[][], cyclic: Set<number>): number[] {
  const done = new Set<number>();
  const order: number[] = [];
  const visit = (step: number, seen: Set<number>) => {
    if (done.has(step) || seen.has(step)) return;
    seen.add(step);
    for (const needed of needs[step] ?? []) {
      if (!cyclic.has(needed) || !cyclic.has(step)) visit(needed, seen);
    }
    done.add(step);
    order.push(step);
  };
  for (let i = 0; i < needs.length; i++) visit(i, new Set());
  return order;
}

/** The steps that finish before step `i` starts, directly or through others. */
function ancestorsOf(i: number, needs: number[][]): Set<number> {
  const found = new Set<number>();
  const todo = [...(needs[i] ?? [])];
  while (todo.length) {
    const step = todo.pop() as number;
    if (step === i || found.has(step)) continue;
    found.add(step);
    todo.push(...(needs[step] ?? []));
  }
  return found;
}

function compileStep(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  info: StepInfo,
  scope: Scope,
  flags: BlockFlags,
): { step: StepBody; varsSet: Map<string, string> } | undefined {
  const kind = info.kind;
  if (!kind) return undefined;
  const position = ctx.src.locate(path);
  const common: CommonFields = {
    id: info.id,
    kind,
    line: position.line,
    column: position.column,
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...('if' in raw ? { if: compileCondition(ctx, raw.if, [...path, 'if'], scope) } : {}),
  };
  const timeout =
    raw.timeout === undefined
      ? undefined
      : positiveDuration(ctx, raw.timeout, [...path, 'timeout'], 'timeout');
  if (timeout !== undefined) Object.assign(common, { timeout });
  Object.assign(common, compileStepApproval(ctx, raw, path, kind));
  const varsSet = new Map<string, string>();
  const step: StepCompilation = {
    ctx,
    raw,
    path,
    info,
    scope,
    flags,
    common,
    timeout,
    varsSet,
    block(steps, at, blockScope = scope, ownVars = false) {
      if (!Array.isArray(steps)) return [];
      const result = compileBlock(ctx, steps, at, blockScope, ownVars ? { inConcurrent: true } : flags);
      if (!ownVars) mergeVars(varsSet, result.varsSet);
      return result.block;
    },
  };
  return { step: isControlKind(kind) ? compileControl(step) : compileAction(step), varsSet };
}
