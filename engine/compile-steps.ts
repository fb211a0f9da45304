// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/** Compiling step lists (blocks) to IR: ids, needs/DAG order, visibility scopes, each step kind. */
import type { TypeSpec } from './cel-types.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { didYouMean } from './errors.js';
import type { Scope } from './expr-check.js';
import type { Block, CompiledPipeline, Expr, JoinMode, Step, StepKind, Template } from './ir.js';
import { compilePipelineTools, PIPELINE_TOOLS_ARG } from './pipeline-tools.js';
import { positiveDuration, type RetryInput, resolveRetry } from './policy.js';
import type { FieldPath } from './source.js';
import { compileStepApproval } from './step-approval.js';
import type { StepTypeRegistry } from './step-types.js';
import { compileToolOptions, hasToolOptions, TOOL_OPTIONS_ARG } from './tool-options.js';
import { compileCondition, compileValue, type ValueContext } from './values.js';

export const ACTIONS = [
  'uses',
  'switch',
  'parallel',
  'foreach',
  'try',
  'raise',
  'wait',
  'wait_for',
  'call',
  'set',
  'return',
] as const satisfies readonly StepKind[];

export const RESERVED_NAMES = ['inputs', 'steps', 'vars', 'message', 'env', 'error', 'index'];

export type RawStep = Record<string, unknown>;

/** What pass 1 learned about a step, keyed by its path. */
export interface StepInfo {
  id: string;
  kind: StepKind | undefined;
  output: TypeSpec;
  child?: CompiledPipeline;
  /** `agent.turn` with `pipeline_tools`: the pipeline each entry names (undefined: not resolved). */
  pipelineTools?: Array<CompiledPipeline | undefined>;
}

export interface CompileContext extends ValueContext {
  stepTypes: StepTypeRegistry;
  infos: Map<string, StepInfo>;
  defaults: { retry?: RetryInput; timeout?: string };
  outputNames: string[];
}

export const pathKey = (path: FieldPath) => path.join('/');

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function stepKind(raw: RawStep): StepKind | undefined {
  return ACTIONS.find((a) => a in raw);
}

/** The step lists nested in a step, with their paths (used by both passes). */
export function childBlocks(
  raw: RawStep,
  path: FieldPath,
): Array<{ steps: unknown[]; path: FieldPath; label: string }> {
  const out: Array<{ steps: unknown[]; path: FieldPath; label: string }> = [];
  const add = (v: unknown, p: FieldPath, label: string) => {
    if (Array.isArray(v)) out.push({ steps: v, path: p, label });
  };
  const sw = raw.switch as { cases?: unknown; default?: unknown } | undefined;
  if (sw && typeof sw === 'object') {
    if (Array.isArray(sw.cases)) {
      sw.cases.forEach((c, i) => {
        const cc = c as { steps?: unknown; name?: unknown } | null;
        const label = typeof cc?.name === 'string' && /^\w+$/.test(cc.name) ? cc.name : `case${i + 1}`;
        add(cc?.steps, [...path, 'switch', 'cases', i, 'steps'], label);
      });
    }
    add(sw.default, [...path, 'switch', 'default'], 'default');
  }
  const par = raw.parallel as { branches?: unknown } | undefined;
  if (par && typeof par === 'object' && par.branches && typeof par.branches === 'object') {
    for (const [name, steps] of Object.entries(par.branches))
      add(steps, [...path, 'parallel', 'branches', name], name);
  }
  const fe = raw.foreach as { steps?: unknown } | undefined;
  if (fe && typeof fe === 'object') add(fe.steps, [...path, 'foreach', 'steps'], 'foreach');
  add(raw.try, [...path, 'try'], 'try');
  if (Array.isArray(raw.catch)) add(raw.catch, [...path, 'catch'], 'catch');
  else if (raw.catch && typeof raw.catch === 'object')
    add((raw.catch as { steps?: unknown }).steps, [...path, 'catch', 'steps'], 'catch');
  add(raw.finally, [...path, 'finally'], 'finally');
  const wf = raw.wait_for as { on_timeout?: unknown } | undefined;
  if (wf && typeof wf === 'object') add(wf.on_timeout, [...path, 'wait_for', 'on_timeout'], 'on_timeout');
  return out;
}

export interface BlockResult {
  block: Block;
  /** Variables set anywhere in the block (for scopes after a sequential compound step). */
  varsSet: Map<string, string>;
}

interface Flags {
  inConcurrent: boolean;
}

/** Compile a list of steps: dependencies, cycles, and each step in its visible scope. */
export function compileBlock(
  ctx: CompileContext,
  rawSteps: unknown[],
  path: FieldPath,
  outer: Scope,
  flags: Flags,
): BlockResult {
  const entries = rawSteps.map((raw, i) => ({
    raw: (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as RawStep,
    path: [...path, i] as FieldPath,
    info: ctx.infos.get(pathKey([...path, i])),
  }));
  const ids = entries.map((e) => e.info?.id ?? '');
  const deps = entries.map((e, i) => resolveNeeds(ctx, e.raw, e.path, ids, i));
  const cyclic = findCycles(ctx, entries, ids, deps);

  const varsSetBy = new Map<number, Map<string, string>>();
  const compiled = new Map<number, Step>();
  const order = topoOrder(deps, cyclic);
  for (const i of order) {
    const e = entries[i];
    if (!e?.info) continue;
    const ancestors = ancestorsOf(i, deps);
    const scope: Scope = {
      steps: [...outer.steps, ...[...ancestors].sort((a, b) => a - b).map((a) => ids[a] ?? '')],
      vars: new Map(outer.vars),
      locals: outer.locals,
    };
    for (const a of [...ancestors].sort((x, y) => x - y)) mergeVars(scope.vars, varsSetBy.get(a));
    const result = compileStep(ctx, e.raw, e.path, e.info, scope, flags);
    const after = (deps[i] ?? []).map((d) => ids[d] ?? '');
    if (result) {
      compiled.set(i, { ...result.step, after } as Step);
      varsSetBy.set(i, result.varsSet);
    }
  }
  const varsSet = new Map<string, string>();
  for (const v of varsSetBy.values()) mergeVars(varsSet, v);
  const block = entries.map((_, i) => compiled.get(i)).filter((s): s is Step => s !== undefined);
  return { block, varsSet };
}

function mergeVars(into: Map<string, string>, from: Map<string, string> | undefined) {
  for (const [k, t] of from ?? []) {
    const prev = into.get(k);
    into.set(k, prev === undefined || prev === t ? t : 'dyn');
  }
}

function resolveNeeds(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  ids: string[],
  i: number,
): number[] {
  if (!('needs' in raw)) return i > 0 ? [i - 1] : [];
  const list = typeof raw.needs === 'string' ? [raw.needs] : Array.isArray(raw.needs) ? raw.needs : [];
  const out: number[] = [];
  list.forEach((name, k) => {
    if (typeof name !== 'string') return;
    const at = typeof raw.needs === 'string' ? [...path, 'needs'] : [...path, 'needs', k];
    const idx = ids.indexOf(name);
    if (idx === i) ctx.errors.push(ctx.src.error(at, `step '${name}' cannot need itself`, name));
    else if (idx >= 0) out.push(idx);
    else {
      const elsewhere = [...ctx.infos.values()].some((s) => s.id === name);
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
  return out;
}

function findCycles(
  ctx: CompileContext,
  entries: Array<{ path: FieldPath }>,
  ids: string[],
  deps: number[][],
): Set<number> {
  const state = new Array<number>(deps.length).fill(0); // 0 new, 1 on stack, 2 done
  const inCycle = new Set<number>();
  const stack: number[] = [];
  const visit = (n: number) => {
    state[n] = 1;
    stack.push(n);
    for (const d of deps[n] ?? []) {
      if (state[d] === 1) {
        const cycle = stack.slice(stack.indexOf(d));
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
      } else if (state[d] === 0) visit(d);
    }
    stack.pop();
    state[n] = 2;
  };
  for (let i = 0; i < deps.length; i++) if (state[i] === 0) visit(i);
  return inCycle;
}

function topoOrder(deps: number[][], cyclic: Set<number>): number[] {
  const done = new Set<number>();
  const order: number[] = [];
  const visit = (n: number, seen: Set<number>) => {
    if (done.has(n) || seen.has(n)) return;
    seen.add(n);
    for (const d of deps[n] ?? []) if (!cyclic.has(d) || !cyclic.has(n)) visit(d, seen);
    done.add(n);
    order.push(n);
  };
  for (let i = 0; i < deps.length; i++) visit(i, new Set());
  return order;
}

function ancestorsOf(i: number, deps: number[][]): Set<number> {
  const out = new Set<number>();
  const todo = [...(deps[i] ?? [])];
  while (todo.length) {
    const n = todo.pop() as number;
    if (n === i || out.has(n)) continue;
    out.add(n);
    todo.push(...(deps[n] ?? []));
  }
  return out;
}

type StepBody = DistributiveOmit<Step, 'after'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function compileStep(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  info: StepInfo,
  scope: Scope,
  flags: Flags,
): { step: StepBody; varsSet: Map<string, string> } | undefined {
  const kind = info.kind;
  if (!kind) return undefined;
  const loc = ctx.src.locate(path);
  const base = {
    id: info.id,
    kind,
    line: loc.line,
    column: loc.column,
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...('if' in raw ? { if: compileCondition(ctx, raw.if, [...path, 'if'], scope) } : {}),
  };
  const timeout = stepTimeout(ctx, raw, path);
  if (timeout !== undefined) Object.assign(base, { timeout });
  Object.assign(base, compileStepApproval(ctx, raw, path, kind));
  const varsSet = new Map<string, string>();
  const block = (steps: unknown, p: FieldPath, s: Scope = scope, branchLocal = false): Block => {
    if (!Array.isArray(steps)) return [];
    const r = compileBlock(ctx, steps, p, s, branchLocal ? { inConcurrent: true } : flags);
    if (!branchLocal) mergeVars(varsSet, r.varsSet); // branches and iterations keep their own vars
    return r.block;
  };
  const tpl = (v: unknown, p: FieldPath, schema?: Record<string, unknown>): Template =>
    compileValue(ctx, v, p, scope, schema).template;

  switch (kind) {
    case 'uses': {
      const type = String(raw.uses);
      const def = ctx.stepTypes[type];
      if (!def) {
        ctx.errors.push(
          ctx.src.error(
            [...path, 'uses'],
            `unknown step type '${type}'${didYouMean(type, Object.keys(ctx.stepTypes))}; known types: ${Object.keys(ctx.stepTypes).join(', ')}`,
            type,
          ),
        );
      }
      const tools = info.pipelineTools ? compilePipelineTools(ctx, raw, path, info.pipelineTools) : [];
      const toolOptions = hasToolOptions(raw)
        ? compileToolOptions(
            ctx,
            raw,
            path,
            tools.map((t) => t.name),
          )
        : undefined;
      // Both are fixed at compile time: they leave `with:` and become `pipelineTools`/`toolOptions`.
      let withValue = raw.with ?? {};
      if (info.pipelineTools) withValue = withoutKey(withValue, PIPELINE_TOOLS_ARG);
      if (hasToolOptions(raw)) withValue = withoutKey(withValue, TOOL_OPTIONS_ARG);
      const args = compileValue(
        ctx,
        withValue,
        [...path, 'with'],
        scope,
        def?.with as Record<string, unknown>,
      );
      const retry = resolveRetry(ctx, raw.retry as RetryInput | undefined, def?.defaults?.retry, [
        ...path,
        'retry',
      ]);
      const t = timeout ?? parseDuration(ctx.defaults.timeout) ?? parseDuration(def?.defaults?.timeout);
      return {
        step: {
          ...base,
          kind,
          type,
          execution: def?.execution ?? 'activity',
          ...(def?.activity ? { activity: def.activity } : {}),
          with: args.template,
          retry,
          ...(t !== undefined ? { timeout: t } : {}),
          ...(tools.length > 0 ? { pipelineTools: tools } : {}),
          ...(toolOptions ? { toolOptions } : {}),
        },
        varsSet,
      };
    }
    case 'switch': {
      const sw = obj(raw.switch) as { cases?: unknown[]; default?: unknown };
      const cases = (Array.isArray(sw.cases) ? sw.cases : []).map((c, i) => {
        const cc = obj(c) as { name?: unknown; when?: unknown; steps?: unknown };
        const p: FieldPath = [...path, 'switch', 'cases', i];
        return {
          name: typeof cc.name === 'string' ? cc.name : `case${i + 1}`,
          when: compileCondition(ctx, cc.when, [...p, 'when'], scope),
          steps: block(cc.steps, [...p, 'steps']),
        };
      });
      const def = 'default' in sw ? { default: block(sw.default, [...path, 'switch', 'default']) } : {};
      return { step: { ...base, kind, cases, ...def }, varsSet };
    }
    case 'parallel': {
      const par = obj(raw.parallel) as { join?: unknown; branches?: Record<string, unknown> };
      if (!flags.inConcurrent && containsReturn(par.branches)) {
        ctx.errors.push(
          ctx.src.error([...path, 'parallel'], 'return: is not allowed inside parallel branches'),
        );
      }
      const branches = Object.entries(obj(par.branches)).map(([name, steps]) => ({
        name,
        steps: block(steps, [...path, 'parallel', 'branches', name], scope, true),
      }));
      const join = (typeof par.join === 'string' ? par.join : 'all') as JoinMode;
      return { step: { ...base, kind, join, branches }, varsSet };
    }
    case 'foreach': {
      const fe = obj(raw.foreach) as {
        items?: unknown;
        as?: unknown;
        concurrency?: unknown;
        steps?: unknown;
      };
      const as = typeof fe.as === 'string' ? fe.as : 'item';
      if (RESERVED_NAMES.includes(as)) {
        ctx.errors.push(
          ctx.src.error(
            [...path, 'foreach', 'as'],
            `'${as}' is a reserved name; choose another name for the element`,
            as,
          ),
        );
      }
      const items = compileValue(ctx, fe.items, [...path, 'foreach', 'items'], scope);
      let elem = 'dyn';
      if (items.template.kind === 'expr') {
        const t = items.type;
        if (t.startsWith('list<') && t.endsWith('>')) elem = t.slice(5, -1);
        else if (t !== 'dyn' && t !== 'list') {
          ctx.errors.push(
            ctx.src.error(
              [...path, 'foreach', 'items'],
              `foreach items must be a list, but ${String(fe.items)} is ${t}`,
              fe.items,
            ),
          );
        }
      } else if (items.template.kind !== 'literal' || !Array.isArray(fe.items)) {
        if (items.template.kind !== 'list') {
          ctx.errors.push(
            ctx.src.error(
              [...path, 'foreach', 'items'],
              'foreach items must be a list or one ${{ expression }} giving a list',
              fe.items,
            ),
          );
        }
      }
      const locals = new Map(scope.locals);
      locals.set(as, elem);
      locals.set('index', 'int');
      if (!flags.inConcurrent && containsReturn([fe.steps])) {
        ctx.errors.push(ctx.src.error([...path, 'foreach'], 'return: is not allowed inside foreach steps'));
      }
      const steps = block(fe.steps, [...path, 'foreach', 'steps'], { ...scope, locals }, true);
      const concurrency = typeof fe.concurrency === 'number' ? fe.concurrency : 1;
      return { step: { ...base, kind, items: items.template, as, concurrency, steps }, varsSet };
    }
    case 'try': {
      const steps = block(raw.try, [...path, 'try']);
      const c = raw.catch;
      let catchPart: { errors: string[]; steps: Block } | undefined;
      if (c !== undefined) {
        const errorScope: Scope = {
          ...scope,
          vars: new Map([...scope.vars, ...varsSet].map(([k]) => [k, 'dyn'])),
          locals: new Map(scope.locals).set('error', {
            fields: { name: 'string', message: 'string', step: 'string' },
          }),
        };
        if (Array.isArray(c)) catchPart = { errors: [], steps: block(c, [...path, 'catch'], errorScope) };
        else if (c && typeof c === 'object') {
          const co = c as { errors?: unknown; steps?: unknown };
          catchPart = {
            errors: Array.isArray(co.errors) ? co.errors.map(String) : [],
            steps: block(co.steps, [...path, 'catch', 'steps'], errorScope),
          };
        }
      }
      const fin = raw.finally !== undefined ? { finally: block(raw.finally, [...path, 'finally']) } : {};
      if (c === undefined && raw.finally === undefined) {
        ctx.errors.push(ctx.src.error([...path, 'try'], 'try: needs a catch: or a finally: next to it'));
      }
      return { step: { ...base, kind, steps, ...(catchPart ? { catch: catchPart } : {}), ...fin }, varsSet };
    }
    case 'raise': {
      const r = raw.raise;
      const error = typeof r === 'string' ? r : String((r as { error?: unknown } | null)?.error ?? 'Error');
      const msg = r && typeof r === 'object' ? (r as { message?: unknown }).message : undefined;
      const message =
        msg === undefined
          ? { kind: 'literal' as const, value: error }
          : tpl(msg, [...path, 'raise', 'message']);
      return { step: { ...base, kind, error, message }, varsSet };
    }
    case 'wait': {
      const w = raw.wait;
      const p: FieldPath = [...path, 'wait'];
      const forValue = typeof w === 'string' ? w : (w as { for?: unknown } | null)?.for;
      const forPath = typeof w === 'string' ? p : [...p, 'for'];
      const until = w && typeof w === 'object' ? (w as { until?: unknown }).until : undefined;
      if (forValue !== undefined && until !== undefined) {
        ctx.errors.push(ctx.src.error(p, "wait: takes either 'for' or 'until', not both"));
      } else if (forValue === undefined && until === undefined) {
        ctx.errors.push(ctx.src.error(p, `wait: needs ${DURATION_HINT}, or { until: <timestamp> }`));
      }
      if (until !== undefined) {
        const u = compileValue(ctx, until, [...p, 'until'], scope);
        if (u.template.kind === 'literal' && Number.isNaN(Date.parse(String(until)))) {
          ctx.errors.push(
            ctx.src.error(
              [...p, 'until'],
              `until must be an ISO-8601 timestamp such as 2030-01-01T09:00:00Z, got ${JSON.stringify(until)}`,
              until,
            ),
          );
        }
        return { step: { ...base, kind, until: u.template }, varsSet };
      }
      if (typeof forValue === 'string' && forValue.includes('${{')) {
        return { step: { ...base, kind, durationFrom: tpl(forValue, forPath) }, varsSet };
      }
      const ms = parseDuration(forValue);
      if (forValue !== undefined && ms === undefined) {
        ctx.errors.push(
          ctx.src.error(forPath, `wait expects ${DURATION_HINT}, got ${JSON.stringify(forValue)}`, forValue),
        );
      }
      return { step: { ...base, kind, duration: ms ?? 0 }, varsSet };
    }
    case 'wait_for': {
      const wf = obj(raw.wait_for) as { signal?: unknown; timeout?: unknown; on_timeout?: unknown };
      const t = parseDuration(wf.timeout);
      if (wf.on_timeout !== undefined && wf.timeout === undefined) {
        ctx.errors.push(
          ctx.src.error([...path, 'wait_for', 'on_timeout'], 'on_timeout needs a timeout next to it'),
        );
      }
      if ('timeout' in raw) {
        ctx.errors.push(
          ctx.src.error(
            [...path, 'timeout'],
            'wait_for steps take their timeout inside wait_for: (wait_for.timeout)',
            raw.timeout,
            { key: true },
          ),
        );
      }
      const onTimeout =
        wf.on_timeout !== undefined
          ? { onTimeout: block(wf.on_timeout, [...path, 'wait_for', 'on_timeout']) }
          : {};
      const { timeout: _drop, ...rest } = base as typeof base & { timeout?: number };
      return {
        step: {
          ...rest,
          kind,
          signal: String(wf.signal ?? ''),
          ...(t !== undefined ? { timeout: t } : {}),
          ...onTimeout,
        },
        varsSet,
      };
    }
    case 'call': {
      const child = info.child;
      const inputs = compileValue(
        ctx,
        raw.with ?? {},
        [...path, 'with'],
        scope,
        child?.ir.inputs as unknown as Record<string, unknown>,
      );
      const retry =
        raw.retry !== undefined
          ? { retry: resolveRetry(ctx, raw.retry as RetryInput, undefined, [...path, 'retry']) }
          : {};
      return {
        step: {
          ...base,
          kind,
          pipeline: String(raw.call),
          hash: child?.hash ?? '',
          inputs: inputs.template,
          ...retry,
        },
        varsSet,
      };
    }
    case 'set': {
      const values: Record<string, Template> = {};
      for (const [k, v] of Object.entries(obj(raw.set))) {
        const c = compileValue(ctx, v, [...path, 'set', k], scope);
        values[k] = c.template;
        varsSet.set(k, c.type);
      }
      return { step: { ...base, kind, values }, varsSet };
    }
    case 'return': {
      const outputs: Record<string, Template> = {};
      for (const [k, v] of Object.entries(obj(raw.return))) {
        if (!ctx.outputNames.includes(k)) {
          ctx.errors.push(
            ctx.src.error(
              [...path, 'return', k],
              `'${k}' is not a declared output${didYouMean(k, ctx.outputNames)}; declare it under outputs: (declared: ${ctx.outputNames.join(', ') || 'none'})`,
              k,
              { key: true },
            ),
          );
        }
        outputs[k] = tpl(v, [...path, 'return', k]);
      }
      return { step: { ...base, kind, outputs }, varsSet };
    }
  }
}

function withoutKey(value: unknown, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = obj(value);
  return rest;
}

function containsReturn(blocks: unknown): boolean {
  const lists = Array.isArray(blocks)
    ? blocks
    : blocks && typeof blocks === 'object'
      ? Object.values(blocks)
      : [];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const s of list) {
      if (!s || typeof s !== 'object') continue;
      if ('return' in s) return true;
      if (containsReturn(childBlocks(s as RawStep, []).map((b) => b.steps))) return true;
    }
  }
  return false;
}

function stepTimeout(ctx: CompileContext, raw: RawStep, path: FieldPath): number | undefined {
  if (raw.timeout === undefined) return undefined;
  return positiveDuration(ctx, raw.timeout, [...path, 'timeout'], 'timeout');
}

export type { Expr, RetryInput };
