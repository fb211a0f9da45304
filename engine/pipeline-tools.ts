// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * `pipeline_tools:` in the `with:` of an `agent.turn` step: other pipelines offered to the model
 * as tools, `call:` under the hood. Pass 1 (compile.ts) resolves each named pipeline exactly like
 * a `call:` target (embedded in `PipelineIR.calls`, cycles refused); pass 2 (here) checks the
 * entries and builds `UsesStep.pipelineTools`: name, description, argument schema (the called
 * pipeline's inputs), approval and timeout. Everything is fixed at compile time.
 */

import type { CompileContext, RawStep } from './compile-context.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { didYouMean } from './errors.js';
import type { CompiledPipeline, PipelineToolIR } from './ir.js';
import { isRecord } from './records.js';
import type { FieldPath } from './source.js';

/** The step type that offers pipeline tools, and its argument that lists them. */
export const PIPELINE_TOOLS_STEP_TYPE = 'agent.turn';
export const PIPELINE_TOOLS_ARG = 'pipeline_tools';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_NAME_HINT = 'letters, digits, _ and -, at most 64 characters';
const FIELDS = ['pipeline', 'name', 'description', 'approval', 'approval_timeout', 'timeout'];
const SHAPE = `a pipeline name, or { ${FIELDS.join(', ')} }`;

/** A pipeline an entry names, and where that name is written (for pass 1 errors). */
export interface PipelineToolTarget {
  name: string;
  path: FieldPath;
}

/** The `pipeline_tools` list of a step, when it is an `agent.turn` step that has one. */
function entriesOf(raw: RawStep): unknown[] | undefined {
  if (raw.uses !== PIPELINE_TOOLS_STEP_TYPE) return undefined;
  const w = raw.with;
  if (!w || typeof w !== 'object' || Array.isArray(w) || !(PIPELINE_TOOLS_ARG in w)) return undefined;
  const list = (w as Record<string, unknown>)[PIPELINE_TOOLS_ARG];
  return Array.isArray(list) ? list : [];
}

export function hasPipelineTools(raw: RawStep): boolean {
  return entriesOf(raw) !== undefined;
}

/** Pass 1: the pipeline each entry names (undefined where the entry names none; pass 2 says why). */
export function pipelineToolTargets(raw: RawStep, path: FieldPath): Array<PipelineToolTarget | undefined> {
  const at: FieldPath = [...path, 'with', PIPELINE_TOOLS_ARG];
  return (entriesOf(raw) ?? []).map((entry, i) => {
    if (typeof entry === 'string') return { name: entry, path: [...at, i] };
    const pipeline = isRecord(entry) ? entry.pipeline : undefined;
    return typeof pipeline === 'string' ? { name: pipeline, path: [...at, i, 'pipeline'] } : undefined;
  });
}

/**
 * Pass 2: the tools of one `agent.turn` step. `children[i]` is the compiled pipeline entry `i`
 * names (undefined when pass 1 already reported it unknown, cyclic or broken).
 */
export function compilePipelineTools(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  children: ReadonlyArray<CompiledPipeline | undefined>,
): PipelineToolIR[] {
  const at: FieldPath = [...path, 'with', PIPELINE_TOOLS_ARG];
  const list = (raw.with as Record<string, unknown>)[PIPELINE_TOOLS_ARG];
  if (!Array.isArray(list)) {
    ctx.errors.push(ctx.src.error(at, `pipeline_tools must be a list; each entry ${SHAPE}`, list));
    return [];
  }
  const tools: PipelineToolIR[] = [];
  const named = new Map<string, number>();
  list.forEach((entry, i) => {
    const tool = compileEntry(ctx, entry, [...at, i], children[i]);
    if (!tool) return;
    const first = named.get(tool.name);
    if (first !== undefined) {
      const p =
        typeof entry === 'string'
          ? [...at, i]
          : [...at, i, isRecord(entry) && 'name' in entry ? 'name' : 'pipeline'];
      ctx.errors.push(
        ctx.src.error(
          p,
          `duplicate tool name '${tool.name}': pipeline_tools[${first}] already offers a tool by that name; give one of them another name:`,
          tool.name,
        ),
      );
      return;
    }
    named.set(tool.name, i);
    tools.push(tool);
  });
  checkToolsArg(ctx, raw, path, named);
  return tools;
}

function compileEntry(
  ctx: CompileContext,
  entry: unknown,
  p: FieldPath,
  child: CompiledPipeline | undefined,
): PipelineToolIR | undefined {
  if (typeof entry === 'string') return child ? toolOf(ctx, child, {}, p) : undefined;
  if (!isRecord(entry)) {
    ctx.errors.push(ctx.src.error(p, `a pipeline tool is ${SHAPE}`, entry));
    return undefined;
  }
  let ok = true;
  const fail = (field: string, message: string, opts?: { key: true }) => {
    ctx.errors.push(ctx.src.error([...p, field], message, opts ? field : entry[field], opts));
    ok = false;
  };
  for (const key of Object.keys(entry)) {
    if (!FIELDS.includes(key)) {
      fail(
        key,
        `unknown field '${key}' in a pipeline tool${didYouMean(key, FIELDS)}; known: ${FIELDS.join(', ')}`,
        {
          key: true,
        },
      );
    } else if (typeof entry[key] === 'string' && (entry[key] as string).includes('${{')) {
      fail(key, `${key}: is fixed when the pipeline compiles; expressions are not allowed in pipeline_tools`);
    }
  }
  if (typeof entry.pipeline !== 'string') {
    ctx.errors.push(ctx.src.error(p, 'a pipeline tool needs pipeline: <name of the pipeline to run>', entry));
    return undefined;
  }
  for (const key of ['name', 'description'] as const) {
    if (key in entry && typeof entry[key] !== 'string') fail(key, `${key} must be a string`);
  }
  if ('approval' in entry && entry.approval !== 'required') {
    fail('approval', "approval must be 'required' (or left out: no approval)");
  }
  const approvalTimeout = durationField(entry, 'approval_timeout', fail);
  if ('approval_timeout' in entry && entry.approval !== 'required') {
    fail('approval_timeout', 'approval_timeout needs approval: required next to it');
  }
  const timeout = durationField(entry, 'timeout', fail);
  if (!ok || !child) return undefined;
  return toolOf(
    ctx,
    child,
    {
      ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      ...(entry.approval === 'required' ? { approval: 'required' as const } : {}),
      ...(approvalTimeout !== undefined ? { approvalTimeout } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    },
    'name' in entry ? [...p, 'name'] : [...p, 'pipeline'],
  );
}

function toolOf(
  ctx: CompileContext,
  child: CompiledPipeline,
  own: Partial<Pick<PipelineToolIR, 'name' | 'description' | 'approval' | 'approvalTimeout' | 'timeout'>>,
  namePath: FieldPath,
): PipelineToolIR | undefined {
  const name = own.name ?? child.name;
  if (!TOOL_NAME.test(name)) {
    ctx.errors.push(
      ctx.src.error(
        namePath,
        own.name !== undefined
          ? `tool name '${name}' must match ^[a-zA-Z0-9_-]{1,64}$ (${TOOL_NAME_HINT})`
          : `pipeline '${name}' is not a valid tool name (${TOOL_NAME_HINT}); give the tool one with name:`,
        name,
      ),
    );
    return undefined;
  }
  return {
    name,
    description: own.description ?? child.ir.description ?? `Runs the pipeline '${child.name}'.`,
    pipeline: child.name,
    hash: child.hash,
    parameters: child.ir.inputs,
    ...(own.approval ? { approval: own.approval } : {}),
    ...(own.approvalTimeout !== undefined ? { approvalTimeout: own.approvalTimeout } : {}),
    ...(own.timeout !== undefined ? { timeout: own.timeout } : {}),
  };
}

function durationField(
  entry: Record<string, unknown>,
  field: string,
  fail: (field: string, message: string) => void,
): number | undefined {
  if (!(field in entry)) return undefined;
  const ms = parseDuration(entry[field]);
  if (ms === undefined || ms <= 0) {
    fail(field, `${field} expects ${DURATION_HINT} (greater than 0), got ${JSON.stringify(entry[field])}`);
    return undefined;
  }
  return ms;
}

/** `tools:` picks registered tools by name: a pipeline tool of the same name would be ambiguous. */
function checkToolsArg(ctx: CompileContext, raw: RawStep, path: FieldPath, named: Map<string, number>) {
  const listed = (raw.with as Record<string, unknown>).tools;
  if (!Array.isArray(listed)) return;
  listed.forEach((name, k) => {
    if (typeof name !== 'string' || !named.has(name)) return;
    ctx.errors.push(
      ctx.src.error(
        [...path, 'with', 'tools', k],
        `'${name}' is both in tools: and a pipeline tool (pipeline_tools[${named.get(name)}]); tools: names registered tools only, and the two cannot share a name`,
        name,
      ),
    );
  });
}
