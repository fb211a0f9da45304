// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
/**
 * Steps that act, the compile-time twin of workflows/pipeline/pipeline-actions.ts: `uses`,
 * `raise`, `wait`, `wait_for`, `call`, `set`, `return`.
 */
import { asRecord, type RetryInput, type StepBody, type StepCompilation } from './compile-context.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { didYouMean } from './errors.js';
import type {
  CallStep,
  RaiseStep,
  ReturnStep,
  SetStep,
  Template,
  UsesStep,
  WaitForStep,
  WaitStep,
} from './ir.js';
import { compilePipelineTools, PIPELINE_TOOLS_ARG } from './pipeline-tools.js';
import { resolveRetry } from './policy.js';
import type { FieldPath } from './source.js';
import { compileToolOptions, hasToolOptions, TOOL_OPTIONS_ARG } from './tool-options.js';
import { compileValue } from './values.js';

type Body<S> = Omit<S, 'after'>;

export function compileAction(step: StepCompilation): StepBody {
  switch (step.common.kind) {
    case 'uses':
      return compileUses(step);
    case 'raise':
      return compileRaise(step);
    case 'wait':
      return compileWait(step);
    case 'wait_for':
      return compileWaitFor(step);
    case 'call':
      return compileCall(step);
    case 'set':
      return compileSet(step);
    case 'return':
      return compileReturn(step);
    default:
      throw new Error(`not an action step: ${step.common.kind}`);
  }
}

/** A value that may hold `${{ }}`, checked against what the step sees. */
function template(step: StepCompilation, value: unknown, path: FieldPath): Template {
  return compileValue(step.ctx, value, path, step.scope).template;
}

function compileUses(step: StepCompilation): Body<UsesStep> {
  const { ctx, raw, path, info } = step;
  const type = String(raw.uses);
  const definition = ctx.stepTypes[type];
  if (!definition) {
    const known = Object.keys(ctx.stepTypes);
    ctx.errors.push(
      ctx.src.error(
        [...path, 'uses'],
        `unknown step type '${type}'${didYouMean(type, known)}; known types: ${known.join(', ')}`,
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
        tools.map((tool) => tool.name),
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
    step.scope,
    definition?.with as Record<string, unknown>,
  );
  const retry = resolveRetry(ctx, raw.retry as RetryInput | undefined, definition?.defaults?.retry, [
    ...path,
    'retry',
  ]);
  const timeout =
    step.timeout ?? parseDuration(ctx.defaults.timeout) ?? parseDuration(definition?.defaults?.timeout);
  return {
    ...step.common,
    kind: 'uses',
    type,
    execution: definition?.execution ?? 'activity',
    ...(definition?.activity ? { activity: definition.activity } : {}),
    ...(definition?.local && definition.execution === 'activity' ? { local: true as const } : {}),
    with: args.template,
    retry,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(tools.length > 0 ? { pipelineTools: tools } : {}),
    ...(toolOptions ? { toolOptions } : {}),
  };
}

function compileRaise(step: StepCompilation): Body<RaiseStep> {
  const raise = step.raw.raise;
  const error =
    typeof raise === 'string' ? raise : String((raise as { error?: unknown } | null)?.error ?? 'Error');
  const rawMessage =
    raise && typeof raise === 'object' ? (raise as { message?: unknown }).message : undefined;
  const message =
    rawMessage === undefined
      ? { kind: 'literal' as const, value: error }
      : template(step, rawMessage, [...step.path, 'raise', 'message']);
  return { ...step.common, kind: 'raise', error, message };
}

function compileWait(step: StepCompilation): Body<WaitStep> {
  const { ctx, raw } = step;
  const wait = raw.wait;
  const at: FieldPath = [...step.path, 'wait'];
  const forValue = typeof wait === 'string' ? wait : (wait as { for?: unknown } | null)?.for;
  const forPath = typeof wait === 'string' ? at : [...at, 'for'];
  const until = wait && typeof wait === 'object' ? (wait as { until?: unknown }).until : undefined;
  if (forValue !== undefined && until !== undefined) {
    ctx.errors.push(ctx.src.error(at, "wait: takes either 'for' or 'until', not both"));
  } else if (forValue === undefined && until === undefined) {
    ctx.errors.push(ctx.src.error(at, `wait: needs ${DURATION_HINT}, or { until: <timestamp> }`));
  }
  if (until !== undefined) {
    const compiled = compileValue(ctx, until, [...at, 'until'], step.scope);
    if (compiled.template.kind === 'literal' && Number.isNaN(Date.parse(String(until)))) {
      ctx.errors.push(
        ctx.src.error(
          [...at, 'until'],
          `until must be an ISO-8601 timestamp such as 2030-01-01T09:00:00Z, got ${JSON.stringify(until)}`,
          until,
        ),
      );
    }
    return { ...step.common, kind: 'wait', until: compiled.template };
  }
  if (typeof forValue === 'string' && forValue.includes('${{')) {
    return { ...step.common, kind: 'wait', durationFrom: template(step, forValue, forPath) };
  }
  const ms = parseDuration(forValue);
  if (forValue !== undefined && ms === undefined) {
    ctx.errors.push(
      ctx.src.error(forPath, `wait expects ${DURATION_HINT}, got ${JSON.stringify(forValue)}`, forValue),
    );
  }
  return { ...step.common, kind: 'wait', duration: ms ?? 0 };
}

function compileWaitFor(step: StepCompilation): Body<WaitForStep> {
  const { ctx, raw, path } = step;
  const waitFor = asRecord(raw.wait_for) as { signal?: unknown; timeout?: unknown; on_timeout?: unknown };
  const timeout = parseDuration(waitFor.timeout);
  if (waitFor.on_timeout !== undefined && waitFor.timeout === undefined) {
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
    waitFor.on_timeout !== undefined
      ? { onTimeout: step.block(waitFor.on_timeout, [...path, 'wait_for', 'on_timeout']) }
      : {};
  // A step-level `timeout:` was reported above; the wait's own deadline is wait_for.timeout.
  const { timeout: _stepTimeout, ...common } = step.common;
  return {
    ...common,
    kind: 'wait_for',
    signal: String(waitFor.signal ?? ''),
    ...(timeout !== undefined ? { timeout } : {}),
    ...onTimeout,
  };
}

function compileCall(step: StepCompilation): Body<CallStep> {
  const { ctx, raw, path } = step;
  const child = step.info.child;
  const inputs = compileValue(
    ctx,
    raw.with ?? {},
    [...path, 'with'],
    step.scope,
    child?.ir.inputs as unknown as Record<string, unknown>,
  );
  const retry =
    raw.retry !== undefined
      ? { retry: resolveRetry(ctx, raw.retry as RetryInput, undefined, [...path, 'retry']) }
      : {};
  return {
    ...step.common,
    kind: 'call',
    pipeline: String(raw.call),
    hash: child?.hash ?? '',
    inputs: inputs.template,
    ...retry,
  };
}

function compileSet(step: StepCompilation): Body<SetStep> {
  const values: Record<string, Template> = {};
  for (const [name, value] of Object.entries(asRecord(step.raw.set))) {
    const compiled = compileValue(step.ctx, value, [...step.path, 'set', name], step.scope);
    values[name] = compiled.template;
    step.varsSet.set(name, compiled.type);
  }
  return { ...step.common, kind: 'set', values };
}

function compileReturn(step: StepCompilation): Body<ReturnStep> {
  const { ctx } = step;
  const outputs: Record<string, Template> = {};
  for (const [name, value] of Object.entries(asRecord(step.raw.return))) {
    if (!ctx.outputNames.includes(name)) {
      ctx.errors.push(
        ctx.src.error(
          [...step.path, 'return', name],
          `'${name}' is not a declared output${didYouMean(name, ctx.outputNames)}; declare it under outputs: (declared: ${ctx.outputNames.join(', ') || 'none'})`,
          name,
          { key: true },
        ),
      );
    }
    outputs[name] = template(step, value, [...step.path, 'return', name]);
  }
  return { ...step.common, kind: 'return', outputs };
}

function withoutKey(value: unknown, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = asRecord(value);
  return rest;
}
