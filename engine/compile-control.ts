// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * Steps that run other blocks, the compile-time twin of workflows/pipeline/pipeline-control.ts:
 * `switch`, `parallel`, `foreach`, `try`. Nested blocks are compiled through `step.block`.
 */
import {
  asRecord,
  childBlocks,
  type RawStep,
  RESERVED_NAMES,
  type StepBody,
  type StepCompilation,
} from './compile-context.js';
import type { Scope } from './expr-check.js';
import type { Block, ForeachStep, JoinMode, ParallelStep, StepKind, SwitchStep, TryStep } from './ir.js';
import type { FieldPath } from './source.js';
import { compileCondition, compileValue } from './values.js';

type Body<S> = Omit<S, 'after'>;

const CONTROL_KINDS: readonly StepKind[] = ['switch', 'parallel', 'foreach', 'try'];

export function isControlKind(kind: StepKind): boolean {
  return CONTROL_KINDS.includes(kind);
}

export function compileControl(step: StepCompilation): StepBody {
  switch (step.common.kind) {
    case 'switch':
      return compileSwitch(step);
    case 'parallel':
      return compileParallel(step);
    case 'foreach':
      return compileForeach(step);
    case 'try':
      return compileTry(step);
    default:
      throw new Error(`not a control step: ${step.common.kind}`);
  }
}

function compileSwitch(step: StepCompilation): Body<SwitchStep> {
  const { ctx, path } = step;
  const switchStep = asRecord(step.raw.switch) as { cases?: unknown[]; default?: unknown };
  const cases = (Array.isArray(switchStep.cases) ? switchStep.cases : []).map((rawCase, i) => {
    const theCase = asRecord(rawCase) as { name?: unknown; when?: unknown; steps?: unknown };
    const at: FieldPath = [...path, 'switch', 'cases', i];
    return {
      name: typeof theCase.name === 'string' ? theCase.name : `case${i + 1}`,
      when: compileCondition(ctx, theCase.when, [...at, 'when'], step.scope),
      steps: step.block(theCase.steps, [...at, 'steps']),
    };
  });
  const otherwise =
    'default' in switchStep
      ? { default: step.block(switchStep.default, [...path, 'switch', 'default']) }
      : {};
  return { ...step.common, kind: 'switch', cases, ...otherwise };
}

function compileParallel(step: StepCompilation): Body<ParallelStep> {
  const { ctx, path } = step;
  const parallel = asRecord(step.raw.parallel) as { join?: unknown; branches?: Record<string, unknown> };
  if (!step.flags.inConcurrent && containsReturn(parallel.branches)) {
    ctx.errors.push(ctx.src.error([...path, 'parallel'], 'return: is not allowed inside parallel branches'));
  }
  const branches = Object.entries(asRecord(parallel.branches)).map(([name, steps]) => ({
    name,
    steps: step.block(steps, [...path, 'parallel', 'branches', name], step.scope, true),
  }));
  const join = (typeof parallel.join === 'string' ? parallel.join : 'all') as JoinMode;
  return { ...step.common, kind: 'parallel', join, branches };
}

function compileForeach(step: StepCompilation): Body<ForeachStep> {
  const { ctx, path, scope } = step;
  const foreach = asRecord(step.raw.foreach) as {
    items?: unknown;
    as?: unknown;
    concurrency?: unknown;
    steps?: unknown;
  };
  const as = typeof foreach.as === 'string' ? foreach.as : 'item';
  if (RESERVED_NAMES.includes(as)) {
    ctx.errors.push(
      ctx.src.error(
        [...path, 'foreach', 'as'],
        `'${as}' is a reserved name; choose another name for the element`,
        as,
      ),
    );
  }
  const items = compileValue(ctx, foreach.items, [...path, 'foreach', 'items'], scope);
  let elementType = 'dyn';
  if (items.template.kind === 'expr') {
    const listType = items.type;
    if (listType.startsWith('list<') && listType.endsWith('>')) elementType = listType.slice(5, -1);
    else if (listType !== 'dyn' && listType !== 'list') {
      ctx.errors.push(
        ctx.src.error(
          [...path, 'foreach', 'items'],
          `foreach items must be a list, but ${String(foreach.items)} is ${listType}`,
          foreach.items,
        ),
      );
    }
  } else if (items.template.kind !== 'literal' || !Array.isArray(foreach.items)) {
    if (items.template.kind !== 'list') {
      ctx.errors.push(
        ctx.src.error(
          [...path, 'foreach', 'items'],
          'foreach items must be a list or one ${{ expression }} giving a list',
          foreach.items,
        ),
      );
    }
  }
  const locals = new Map(scope.locals);
  locals.set(as, elementType);
  locals.set('index', 'int');
  if (!step.flags.inConcurrent && containsReturn([foreach.steps])) {
    ctx.errors.push(ctx.src.error([...path, 'foreach'], 'return: is not allowed inside foreach steps'));
  }
  const steps = step.block(foreach.steps, [...path, 'foreach', 'steps'], { ...scope, locals }, true);
  const concurrency = typeof foreach.concurrency === 'number' ? foreach.concurrency : 1;
  return { ...step.common, kind: 'foreach', items: items.template, as, concurrency, steps };
}

function compileTry(step: StepCompilation): Body<TryStep> {
  const { ctx, raw, path, scope } = step;
  const steps = step.block(raw.try, [...path, 'try']);
  let catchPart: { errors: string[]; steps: Block } | undefined;
  if (raw.catch !== undefined) {
    // Any variable may or may not have been set when the error struck.
    const errorScope: Scope = {
      ...scope,
      vars: new Map([...scope.vars, ...step.varsSet].map(([name]) => [name, 'dyn'])),
      locals: new Map(scope.locals).set('error', {
        fields: { name: 'string', message: 'string', step: 'string' },
      }),
    };
    if (Array.isArray(raw.catch)) {
      catchPart = { errors: [], steps: step.block(raw.catch, [...path, 'catch'], errorScope) };
    } else if (raw.catch && typeof raw.catch === 'object') {
      const rawCatch = raw.catch as { errors?: unknown; steps?: unknown };
      catchPart = {
        errors: Array.isArray(rawCatch.errors) ? rawCatch.errors.map(String) : [],
        steps: step.block(rawCatch.steps, [...path, 'catch', 'steps'], errorScope),
      };
    }
  }
  const fin = raw.finally !== undefined ? { finally: step.block(raw.finally, [...path, 'finally']) } : {};
  if (raw.catch === undefined && raw.finally === undefined) {
    ctx.errors.push(ctx.src.error([...path, 'try'], 'try: needs a catch: or a finally: next to it'));
  }
  return { ...step.common, kind: 'try', steps, ...(catchPart ? { catch: catchPart } : {}), ...fin };
}

/** Whether any step in these lists, or nested in them, is a `return:`. */
function containsReturn(blocks: unknown): boolean {
  const lists = Array.isArray(blocks)
    ? blocks
    : blocks && typeof blocks === 'object'
      ? Object.values(blocks)
      : [];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      if (!raw || typeof raw !== 'object') continue;
      if ('return' in raw) return true;
      if (containsReturn(childBlocks(raw as RawStep, []).map((nested) => nested.steps))) return true;
    }
  }
  return false;
}
