/** Steps that act: `uses`, `raise`, `wait`, `wait_for`, `call`, `set`, `return`. */

import {
  condition,
  executeChild,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { StepCall } from '../../activities/pipeline-steps.js';
import { parseDuration } from '../../engine/duration.js';
import { resolveTemplate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import type {
  CallStep,
  RaiseStep,
  ReturnStep,
  SetStep,
  Step,
  UsesStep,
  WaitForStep,
  WaitStep,
} from '../../engine/ir.js';
import { enrichMedia } from '../media/enrich.js';
import type { MediaEnrichArgs } from '../media/media-api.js';
import { runMediaStep } from '../media/steps.js';
import type { PipelineOutputs, PipelineRunInput } from './pipeline-api.js';
import type { Approved } from './pipeline-approval.js';
import { runAgentStep, runReplySend } from './pipeline-builtins.js';
import { stepFailure } from './pipeline-errors.js';
import { temporalRetry } from './pipeline-retry.js';
import { contextOf, ReturnSignal, type Scope } from './pipeline-scope.js';

type StepActivity = (args: unknown, call: StepCall) => Promise<unknown>;

/** Used when neither the step, the pipeline defaults nor the step type set a timeout. */
const DEFAULT_ACTIVITY_TIMEOUT_MS = 10 * 60_000;
/** A local activity holds its workflow task open: keep it short even when the step allows more. */
const LOCAL_ACTIVITY_TIMEOUT_MS = 60_000;
// Steps of local step types (`UsesStep.local`) run as local activities; runs recorded before did not.
const LOCAL_STEPS_PATCH = 'sy-local-steps';

/** `approved`: the values the owner approved (`approval: required`), used instead of evaluating again. */
export function runAction(step: Step, scope: Scope, approved?: Approved): Promise<unknown> {
  switch (step.kind) {
    case 'uses':
      return runUses(step, scope, approved);
    case 'raise':
      return runRaise(step, scope);
    case 'wait':
      return runWait(step, scope);
    case 'wait_for':
      return runWaitFor(step, scope);
    case 'call':
      return runCall(step, scope, approved);
    case 'set':
      return runSet(step, scope);
    case 'return':
      return runReturn(step, scope);
    default:
      throw new Error(`not an action step: ${step.kind}`);
  }
}

async function runUses(step: UsesStep, scope: Scope, approved?: Approved): Promise<unknown> {
  const args = (approved ? approved.value : resolveTemplate(step.with, contextOf(scope))) as Record<
    string,
    unknown
  >;
  if (step.execution === 'workflow') return runBuiltIn(step, args, scope);
  if (!step.activity)
    throw stepFailure(Failures.InvalidPipeline, `step type '${step.type}' names no activity`, step.id);
  const activities =
    step.local && patched(LOCAL_STEPS_PATCH)
      ? proxyLocalActivities<Record<string, StepActivity>>({
          startToCloseTimeout: Math.min(step.timeout ?? LOCAL_ACTIVITY_TIMEOUT_MS, LOCAL_ACTIVITY_TIMEOUT_MS),
          retry: temporalRetry(step.retry),
          summary: step.name ?? step.id,
        })
      : proxyActivities<Record<string, StepActivity>>({
          startToCloseTimeout: step.timeout ?? DEFAULT_ACTIVITY_TIMEOUT_MS,
          retry: temporalRetry(step.retry),
          summary: step.name ?? step.id,
        });
  const activity = activities[step.activity] as StepActivity;
  return await activity(args, { pipeline: scope.run.ir.name, step: step.id });
}

/** Step types with `execution: workflow`: deterministic, no activity round trip. */
function runBuiltIn(step: UsesStep, args: Record<string, unknown>, scope: Scope): Promise<unknown> {
  switch (step.type) {
    case 'agent.turn':
      return runAgentStep(step, args, scope);
    case 'reply.send':
      return runReplySend(step, args, scope);
    case 'media.enrich':
      return enrichMedia(args as unknown as MediaEnrichArgs);
    case 'media.image':
    case 'media.transcribe':
    case 'media.pdf':
      return runMediaStep(step, args);
    case 'noop':
      return Promise.resolve(null);
    case 'echo':
      return Promise.resolve(args.value ?? null);
    case 'log': {
      const level = (args.level as 'debug' | 'info' | 'warn' | 'error' | undefined) ?? 'info';
      log[level](String(args.message), { pipeline: scope.run.ir.name, step: step.id });
      return Promise.resolve(null);
    }
    default:
      throw stepFailure(
        Failures.UnknownStepType,
        `no built-in step type '${step.type}' in this worker`,
        step.id,
      );
  }
}

function runRaise(step: RaiseStep, scope: Scope): Promise<unknown> {
  const message = resolveTemplate(step.message, contextOf(scope));
  throw stepFailure(step.error, typeof message === 'string' ? message : JSON.stringify(message), step.id);
}

async function runWait(step: WaitStep, scope: Scope): Promise<unknown> {
  let ms = step.duration;
  if (step.durationFrom) {
    const value = resolveTemplate(step.durationFrom, contextOf(scope));
    ms = parseDuration(value);
    if (ms === undefined) {
      throw stepFailure(
        Failures.InvalidDuration,
        `wait: ${JSON.stringify(value)} is not a duration`,
        step.id,
      );
    }
  } else if (step.until) {
    const value = resolveTemplate(step.until, contextOf(scope));
    const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) {
      throw stepFailure(
        Failures.InvalidTimestamp,
        `wait until: ${JSON.stringify(value)} is not a timestamp`,
        step.id,
      );
    }
    ms = at - Date.now(); // workflow time: deterministic on replay
  }
  if (ms !== undefined && ms > 0) await sleep(ms);
  return null;
}

/** Consumes the oldest buffered signal of that name, or waits for one (signals may arrive early). */
async function runWaitFor(step: WaitForStep, scope: Scope): Promise<unknown> {
  const { run } = scope;
  const has = () => run.signals.some((s) => s.name === step.signal);
  run.state.waitingFor.push(step.signal);
  let arrived = true;
  try {
    if (step.timeout === undefined) await condition(has);
    else arrived = await condition(has, step.timeout);
  } finally {
    run.state.waitingFor.splice(run.state.waitingFor.indexOf(step.signal), 1);
  }
  if (arrived) {
    const index = run.signals.findIndex((s) => s.name === step.signal);
    const [signal] = run.signals.splice(index, 1);
    run.state.bufferedSignals = run.signals.map((s) => s.name);
    return { timedOut: false, payload: signal?.payload ?? null };
  }
  if (!step.onTimeout) {
    throw stepFailure(Failures.Timeout, `no '${step.signal}' signal within ${step.timeout}ms`, step.id);
  }
  await run.runBlock(step.onTimeout, scope);
  return { timedOut: true, payload: null };
}

/** A child pipelineWorkflow with the called IR embedded in ours: no file is read, ever. */
async function runCall(step: CallStep, scope: Scope, approved?: Approved): Promise<unknown> {
  const { run } = scope;
  const ir = run.ir.calls[step.pipeline];
  if (!ir)
    throw stepFailure(Failures.InvalidPipeline, `the IR carries no pipeline '${step.pipeline}'`, step.id);
  const inputs = (approved ? approved.value : resolveTemplate(step.inputs, contextOf(scope))) as Record<
    string,
    unknown
  >;
  const n = (run.childRuns.get(step.id) ?? 0) + 1;
  run.childRuns.set(step.id, n);
  const env: Record<string, string> = {};
  for (const name of ir.env) {
    const value = run.input.env?.[name];
    if (value !== undefined) env[name] = value;
  }
  const child: PipelineRunInput = { ir, hash: step.hash, inputs, message: run.input.message, env };
  // By name, not by function: keeps this file free of an import cycle with pipeline.ts.
  return (await executeChild('pipelineWorkflow', {
    args: [child],
    // From the first run id, not the workflow id: replayers may run a history under another id.
    workflowId: `${step.pipeline}-${workflowInfo().firstExecutionRunId}-${step.id}${n > 1 ? `-${n}` : ''}`,
    memo: { pipeline: step.pipeline, hash: step.hash },
    ...(step.retry ? { retry: temporalRetry(step.retry) } : {}),
    staticSummary: `call ${step.pipeline}`,
  })) as PipelineOutputs;
}

async function runSet(step: SetStep, scope: Scope): Promise<unknown> {
  const ctx = contextOf(scope);
  const values: Record<string, unknown> = {};
  for (const [name, template] of Object.entries(step.values)) values[name] = resolveTemplate(template, ctx);
  scope.data.vars = { ...scope.data.vars, ...values };
  return values;
}

function runReturn(step: ReturnStep, scope: Scope): Promise<unknown> {
  const ctx = contextOf(scope);
  const outputs: Record<string, unknown> = {};
  for (const [name, template] of Object.entries(step.outputs)) outputs[name] = resolveTemplate(template, ctx);
  throw new ReturnSignal(outputs);
}
