/**
 * compilePipeline: YAML source -> validated, type-checked, content-hashed IR.
 * Never throws on bad input: every problem found is returned, with file:line:column.
 */

import { defaultMessageSchema, type TypeSpec, typeFromSchema } from './cel-types.js';
import { compileBlock } from './compile-block.js';
import {
  type CompileContext,
  childBlocks,
  pathKey,
  type RawStep,
  type RetryInput,
  STEP_KINDS,
  type StepInfo,
  stepKind,
} from './compile-context.js';
import { formatErrors, type PipelineError, sortErrors } from './errors.js';
import { ExpressionChecker, type Scope } from './expr-check.js';
import { contentHash } from './hash.js';
import {
  type CompiledPipeline,
  IR_VERSION,
  type JsonSchemaObject,
  type JsonValue,
  type OutputIR,
  type PipelineIR,
} from './ir.js';
import { hasPipelineTools, pipelineToolTargets } from './pipeline-tools.js';
import { isRecord } from './records.js';
import { checkSchema } from './schema-check.js';
import { type FieldPath, type PipelineSource, parsePipeline } from './source.js';
import { builtInStepTypes, type StepTypeRegistry } from './step-types.js';
import { turnPlacement } from './turn-placement.js';
import { compileValue } from './values.js';

export interface PipelineFile {
  source: string;
  file: string;
}

export interface CompileOptions {
  /** Step types `uses:` may name. Default: `builtInStepTypes`. */
  stepTypes?: StepTypeRegistry;
  /** Finds the pipeline named by a `call:` step. Without it, every `call:` is an error. */
  resolvePipeline?: (name: string) => PipelineFile | undefined;
  /** JSON Schema of `message` (the inbound envelope). Default: `defaultMessageSchema`. */
  messageSchema?: Record<string, JsonValue>;
}

export type CompileResult =
  | { ok: true; pipeline: CompiledPipeline; errors: [] }
  | { ok: false; pipeline?: undefined; errors: PipelineError[] };

interface Session {
  options: CompileOptions;
  stack: string[];
  memo: Map<string, CompileResult>;
}

export function compilePipeline(source: string, file: string, options: CompileOptions = {}): CompileResult {
  return compileIn(source, file, { options, stack: [], memo: new Map() });
}

function compileIn(text: string, file: string, session: Session): CompileResult {
  const src = parsePipeline(text, file);
  if (src.errors.length) return fail(src.errors);
  if (!src.data || typeof src.data !== 'object' || Array.isArray(src.data)) {
    return fail([
      src.error([], 'a pipeline file must be a mapping with at least name: and steps:', src.data),
    ]);
  }
  const errors = checkSchema(src);
  const doc = src.data as Record<string, unknown>;
  const name = typeof doc.name === 'string' ? doc.name : '';
  try {
    return finish(src, doc, name, errors, { ...session, stack: [...session.stack, name] });
  } catch (e) {
    // A compiler bug must still come back as an error, never as a crash of the caller.
    errors.push(
      src.error([], `internal compiler error: ${(e as Error).message}; please report this pipeline`),
    );
    return fail(errors);
  }
}

function finish(
  src: PipelineSource,
  doc: Record<string, unknown>,
  name: string,
  errors: PipelineError[],
  session: Session,
): CompileResult {
  const stepTypes = session.options.stepTypes ?? builtInStepTypes;
  const rawInputs = isRecord(doc.inputs) ? doc.inputs : {};
  const inputs = inputsSchema(rawInputs);
  const outputNames = isRecord(doc.outputs) ? Object.keys(doc.outputs) : [];
  const env = Array.isArray(doc.env) ? doc.env.filter((e): e is string => typeof e === 'string') : undefined;
  const steps = Array.isArray(doc.steps) ? doc.steps : [];
  if (Array.isArray(doc.steps) && steps.length === 0)
    errors.push(src.error(['steps'], 'steps: must list at least one step'));

  // Pass 1: ids, kinds, output types, called pipelines.
  const infos = new Map<string, StepInfo>();
  const calls: Record<string, CompiledPipeline> = {};
  collect(src, errors, steps, ['steps'], '', infos, stepTypes, session, calls);

  const inputFields: Record<string, TypeSpec> = {};
  for (const [k, v] of Object.entries(rawInputs)) inputFields[k] = typeFromSchema(v);
  const checker = new ExpressionChecker({
    inputs: { fields: inputFields },
    message: typeFromSchema(session.options.messageSchema ?? defaultMessageSchema),
    env,
    stepOutputs: new Map([...infos.values()].map((i) => [i.id, i.output])),
  });
  const defaults = isRecord(doc.defaults) ? (doc.defaults as { retry?: RetryInput; timeout?: string }) : {};
  const ctx: CompileContext = { src, errors, checker, stepTypes, infos, defaults, outputNames };

  // Pass 2: steps in their scopes, then the declared outputs at the end of the pipeline.
  const top = compileBlock(
    ctx,
    steps,
    ['steps'],
    { steps: [], vars: new Map(), locals: new Map() },
    { inConcurrent: false },
  );
  const endScope: Scope = {
    steps: top.block.map((s) => s.id),
    vars: top.varsSet,
    locals: new Map(),
  };
  const outputs: Record<string, OutputIR> = {};
  for (const [k, spec] of Object.entries(isRecord(doc.outputs) ? doc.outputs : {})) {
    const o: OutputIR = {};
    if (isRecord(spec) && typeof spec.description === 'string') o.description = spec.description;
    if (isRecord(spec) && 'value' in spec)
      o.value = compileValue(ctx, spec.value, ['outputs', k, 'value'], endScope).template;
    outputs[k] = o;
  }

  if (errors.length) return fail(errors);
  const ir: PipelineIR = {
    irVersion: IR_VERSION,
    name,
    ...(typeof doc.description === 'string' ? { description: doc.description } : {}),
    ...(doc.version !== undefined ? { version: String(doc.version) } : {}),
    inputs,
    outputs,
    env: env ?? [],
    steps: top.block,
    calls: Object.fromEntries(Object.entries(calls).map(([n, c]) => [n, c.ir])),
  };
  if (turnPlacement(ir).inline) ir.inline = true;
  return { ok: true, pipeline: { name, file: src.file, hash: contentHash(ir), ir }, errors: [] };
}

function collect(
  src: PipelineSource,
  errors: PipelineError[],
  steps: unknown[],
  path: FieldPath,
  prefix: string,
  infos: Map<string, StepInfo>,
  stepTypes: StepTypeRegistry,
  session: Session,
  calls: Record<string, CompiledPipeline>,
) {
  steps.forEach((raw, i) => {
    const p = [...path, i];
    if (!isRecord(raw)) return; // the schema reports it
    const kinds = STEP_KINDS.filter((a) => a in raw);
    if (kinds.length === 0) {
      errors.push(src.error(p, `a step must do one thing: add one of ${STEP_KINDS.join(', ')}`, raw));
    } else if (kinds.length > 1) {
      errors.push(
        src.error(
          [...p, kinds[1] ?? ''],
          `a step does exactly one thing, but this one has ${kinds.join(' and ')}; split it into separate steps`,
          kinds,
          { key: true },
        ),
      );
    }
    const kind = stepKind(raw);
    structureChecks(src, errors, raw, p, kind);
    const explicitId =
      typeof raw.id === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.id) ? raw.id : undefined;
    const id = explicitId ?? `_${prefix}${i + 1}`;
    const dup = [...infos.values()].find((s) => s.id === id);
    if (dup) {
      errors.push(
        src.error([...p, 'id'], `duplicate step id '${id}': ids must be unique in the whole pipeline`, id),
      );
    }
    const info: StepInfo = { id: dup ? `${id}__dup${i}` : id, kind, output: 'dyn' };
    if (kind === 'uses' && typeof raw.uses === 'string') {
      const out = stepTypes[raw.uses]?.output;
      if (out) info.output = typeFromSchema(out);
      if (hasPipelineTools(raw)) {
        // Each tool is a `call:` the model decides on: resolved, embedded and cycle-checked alike.
        info.pipelineTools = pipelineToolTargets(raw, p).map((target) => {
          const child = target && resolveCall(src, errors, target.name, target.path, session);
          if (child) embed(calls, child);
          return child;
        });
      }
    } else if (kind === 'call' && typeof raw.call === 'string') {
      const child = resolveCall(src, errors, raw.call, [...p, 'call'], session);
      if (child) {
        info.child = child;
        embed(calls, child);
        const fields: Record<string, TypeSpec> = {};
        for (const [k, o] of Object.entries(child.ir.outputs)) {
          fields[k] = o.value?.kind === 'expr' ? o.value.expr.type : 'dyn';
        }
        info.output = Object.keys(fields).length ? { fields } : 'map<string, dyn>';
      }
    } else if (kind === 'wait_for') {
      info.output = { fields: { timedOut: 'bool', payload: 'dyn' } };
    } else if (kind === 'switch') {
      info.output = { fields: { case: 'string', output: 'dyn' } };
    } else if (kind === 'foreach') {
      info.output = 'list<dyn>';
    } else if (kind === 'parallel') {
      const branches =
        isRecord(raw.parallel) && isRecord(raw.parallel.branches) ? Object.keys(raw.parallel.branches) : [];
      if (branches.length) info.output = { fields: Object.fromEntries(branches.map((b) => [b, 'dyn'])) };
    }
    infos.set(pathKey(p), info);
    const childPrefix = `${info.id.replace(/^_+/, '')}_`;
    for (const child of childBlocks(raw, p)) {
      collect(
        src,
        errors,
        child.steps,
        child.path,
        `${childPrefix}${child.label}_`,
        infos,
        stepTypes,
        session,
        calls,
      );
    }
  });
}

/** A called pipeline and every pipeline it calls in turn, by name. */
function embed(calls: Record<string, CompiledPipeline>, child: CompiledPipeline) {
  calls[child.name] = child;
  for (const [n, c] of Object.entries(child.ir.calls))
    calls[n] ??= { name: n, file: '', hash: contentHash(c), ir: c };
}

function structureChecks(
  src: PipelineSource,
  errors: PipelineError[],
  raw: RawStep,
  p: FieldPath,
  kind: string | undefined,
) {
  const misplaced = (field: string, hint: string) =>
    errors.push(src.error([...p, field], hint, field, { key: true }));
  if ('with' in raw && kind !== 'uses' && kind !== 'call')
    misplaced('with', 'with: belongs to a uses: or call: step');
  if ('retry' in raw && kind !== 'uses' && kind !== 'call') {
    misplaced('retry', 'retry: applies to uses: and call: steps only');
  }
  if (kind !== 'try') {
    if ('catch' in raw) misplaced('catch', 'catch: belongs to a try: step');
    if ('finally' in raw) misplaced('finally', 'finally: belongs to a try: step');
  }
}

function resolveCall(
  src: PipelineSource,
  errors: PipelineError[],
  name: string,
  path: FieldPath,
  session: Session,
): CompiledPipeline | undefined {
  if (session.stack.includes(name)) {
    const cycle = [...session.stack.slice(session.stack.indexOf(name)), name];
    errors.push(
      src.error(
        path,
        `call cycle: ${cycle.join(' -> ')}; a pipeline cannot call itself, directly or not`,
        name,
      ),
    );
    return undefined;
  }
  let result = session.memo.get(name);
  if (!result) {
    const found = session.options.resolvePipeline?.(name);
    if (!found) {
      errors.push(src.error(path, `unknown pipeline '${name}': no pipeline with that name was found`, name));
      return undefined;
    }
    result = compileIn(found.source, found.file, session);
    session.memo.set(name, result);
  }
  if (!result.ok) {
    const first = formatErrors(sortErrors(result.errors).slice(0, 3));
    errors.push(src.error(path, `called pipeline '${name}' does not compile:\n${first}`, name));
    return undefined;
  }
  return result.pipeline;
}

/** The IR's JSON Schema for inputs: required unless a default is given or `required: false`. */
function inputsSchema(raw: Record<string, unknown>): JsonSchemaObject {
  const properties: Record<string, JsonValue> = {};
  const required: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!isRecord(v)) continue;
    const { required: req, ...schema } = v;
    properties[k] = schema as JsonValue;
    if (req === true || (req === undefined && !('default' in v))) required.push(k);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}
function fail(errors: PipelineError[]): CompileResult {
  return { ok: false, errors: sortErrors(errors) };
}
