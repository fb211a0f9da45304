// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * `tool_options:` in the `with:` of an `agent.turn` step: per registered tool (by name), its
 * timeout, retry policy and approval in this step, over what the tool declares itself. The
 * shape (fields, durations, retry spellings) is checked by the schema like a step's own
 * `retry:`/`timeout:`; here the names and the values are checked and `UsesStep.toolOptions`
 * is built. Whether the worker registers a tool is only known when the turn is prepared.
 */

import type { CompileContext, RawStep, RetryInput } from './compile-context.js';
import type { ToolOptionsIR } from './ir.js';
import { PIPELINE_TOOLS_ARG, PIPELINE_TOOLS_STEP_TYPE } from './pipeline-tools.js';
import { checkIntervals, positiveDuration, retryFields } from './policy.js';
import { isRecord } from './records.js';
import type { FieldPath } from './source.js';

export const TOOL_OPTIONS_ARG = 'tool_options';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** True when the step is an `agent.turn` step whose `with:` has `tool_options`. */
export function hasToolOptions(raw: RawStep): boolean {
  const w = raw.with;
  return raw.uses === PIPELINE_TOOLS_STEP_TYPE && isRecord(w) && TOOL_OPTIONS_ARG in w;
}

/**
 * The options of one `agent.turn` step; `pipelineTools` are the names its `pipeline_tools`
 * offer (they take their options in their own entries). Undefined when none is set.
 */
export function compileToolOptions(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  pipelineTools: readonly string[],
): Record<string, ToolOptionsIR> | undefined {
  const at: FieldPath = [...path, 'with', TOOL_OPTIONS_ARG];
  const options = (raw.with as Record<string, unknown>)[TOOL_OPTIONS_ARG];
  if (!isRecord(options)) return undefined; // the schema says what it must be
  const offered = offeredTools(raw);
  const out: Record<string, ToolOptionsIR> = {};
  for (const [name, entry] of Object.entries(options)) {
    const p: FieldPath = [...at, name];
    if (!checkName(ctx, name, p, pipelineTools, offered) || !isRecord(entry)) continue;
    out[name] = compileEntry(ctx, entry, p);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function checkName(
  ctx: CompileContext,
  name: string,
  p: FieldPath,
  pipelineTools: readonly string[],
  offered: string[] | undefined,
): boolean {
  const fail = (message: string) => {
    ctx.errors.push(ctx.src.error(p, message, name, { key: true }));
    return false;
  };
  if (!TOOL_NAME.test(name)) {
    return fail(`'${name}' is not a tool name (letters, digits, _ and -, at most 64 characters)`);
  }
  if (pipelineTools.includes(name)) {
    return fail(
      `'${name}' is a pipeline tool of this step; set its timeout and approval in its ${PIPELINE_TOOLS_ARG} entry, not in ${TOOL_OPTIONS_ARG}`,
    );
  }
  if (offered && !offered.includes(name)) {
    return fail(
      `'${name}' is not offered in this step: tools: lists only ${offered.join(', ') || 'nothing'}; add it there or remove its options`,
    );
  }
  return true;
}

function compileEntry(ctx: CompileContext, entry: Record<string, unknown>, p: FieldPath): ToolOptionsIR {
  const out: ToolOptionsIR = {};
  if ('timeout' in entry) {
    const ms = positiveDuration(ctx, entry.timeout, [...p, 'timeout'], 'timeout');
    if (ms !== undefined) out.timeout = ms;
  }
  if (isRecord(entry.retry)) {
    const { nonRetryableErrorTypes: _none, ...retry } = retryFields(entry.retry as RetryInput);
    checkIntervals(ctx, retry, entry.retry as RetryInput, [...p, 'retry']);
    if (Object.keys(retry).length > 0) out.retry = retry;
  }
  if (entry.approval === 'required') out.approval = 'required';
  if ('approval_timeout' in entry) {
    const field = 'approval_timeout';
    const ms = positiveDuration(ctx, entry.approval_timeout, [...p, field], field);
    if (entry.approval !== 'required') {
      ctx.errors.push(
        ctx.src.error([...p, field], `${field} needs approval: required next to it`, field, { key: true }),
      );
    } else if (ms !== undefined) out.approvalTimeout = ms;
  }
  return out;
}

/** The literal `tools:` list of the step, if it has one (an expression is only known at run time). */
function offeredTools(raw: RawStep): string[] | undefined {
  const listed = (raw.with as Record<string, unknown>).tools;
  if (!Array.isArray(listed) || !listed.every((t) => typeof t === 'string' && !t.includes('${{')))
    return undefined;
  return listed as string[];
}
