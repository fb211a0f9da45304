/**
 * What the step compilers share: the raw YAML shapes, what pass 1 learned about each step, the
 * compile context, and the one-step input every step-family compiler (compile-actions.ts,
 * compile-control.ts) receives from compile-block.ts. Imports only types, so every compiler
 * can import it and nothing imports back.
 */

import type { TypeSpec } from './cel-types.js';
import type { Scope } from './expr-check.js';
import type { Block, CompiledPipeline, Step, StepKind } from './ir.js';
import { isRecord } from './records.js';
import type { FieldPath } from './source.js';
import type { StepTypeRegistry } from './step-types.js';
import type { ValueContext } from './values.js';

/** The keys that say what a step does; a step has exactly one. */
export const STEP_KINDS = [
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

/** Top-level names of the expression context; a `foreach: as:` may not take one. */
export const RESERVED_NAMES = ['inputs', 'steps', 'vars', 'message', 'env', 'error', 'index'];

/** A step as written in YAML (after the schema check, so shapes are mostly right but not trusted). */
export type RawStep = Record<string, unknown>;

/** `retry:` as pipelines write it (the step's, the pipeline's `defaults:`, a step type's). */
export interface RetryInput {
  max_attempts?: number;
  initial_interval?: string;
  backoff_coefficient?: number;
  max_interval?: string;
  non_retryable?: string[];
}

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

export interface BlockFlags {
  /** Inside a parallel branch or a foreach iteration, where `return:` is not allowed. */
  inConcurrent: boolean;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A compiled step before its block gives it `after`. */
export type StepBody = DistributiveOmit<Step, 'after'>;

/** The fields every kind of step has: id, kind, position, name, if, timeout, approval. */
export type CommonFields = Pick<
  Step,
  'id' | 'kind' | 'line' | 'column' | 'name' | 'if' | 'timeout' | 'approval' | 'approvalTimeout'
>;

/** One step being compiled: what a step-family compiler gets from compile-block.ts. */
export interface StepCompilation {
  ctx: CompileContext;
  raw: RawStep;
  path: FieldPath;
  info: StepInfo;
  /** What the step's expressions may see. */
  scope: Scope;
  flags: BlockFlags;
  /** The fields compiled for every kind (the step's own fields follow them in the IR). */
  common: CommonFields;
  /** The step's own `timeout:` in ms, when it has one. */
  timeout: number | undefined;
  /** Variables the step sets, including those set in its nested sequential blocks. */
  varsSet: Map<string, string>;
  /**
   * Compile a step list nested in this step. `ownVars`: a parallel branch or foreach iteration,
   * whose variables stay inside it (and where `return:` is not allowed).
   */
  block(steps: unknown, path: FieldPath, scope?: Scope, ownVars?: boolean): Block;
}

export const pathKey = (path: FieldPath) => path.join('/');

/** The value as a record, or an empty one when it is not a mapping. */
export function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

export function stepKind(raw: RawStep): StepKind | undefined {
  return STEP_KINDS.find((kind) => kind in raw);
}

export interface NestedBlock {
  steps: unknown[];
  path: FieldPath;
  /** Part of the generated ids of the block's steps (`<step>_<label>_<n>`). */
  label: string;
}

/** The step lists nested in a step, with their paths (used by both passes). */
export function childBlocks(raw: RawStep, path: FieldPath): NestedBlock[] {
  const found: NestedBlock[] = [];
  const add = (value: unknown, at: FieldPath, label: string) => {
    if (Array.isArray(value)) found.push({ steps: value, path: at, label });
  };
  const switchStep = raw.switch as { cases?: unknown; default?: unknown } | undefined;
  if (switchStep && typeof switchStep === 'object') {
    if (Array.isArray(switchStep.cases)) {
      switchStep.cases.forEach((rawCase, i) => {
        const theCase = rawCase as { steps?: unknown; name?: unknown } | null;
        const label =
          typeof theCase?.name === 'string' && /^\w+$/.test(theCase.name) ? theCase.name : `case${i + 1}`;
        add(theCase?.steps, [...path, 'switch', 'cases', i, 'steps'], label);
      });
    }
    add(switchStep.default, [...path, 'switch', 'default'], 'default');
  }
  const parallel = raw.parallel as { branches?: unknown } | undefined;
  if (
    parallel &&
    typeof parallel === 'object' &&
    parallel.branches &&
    typeof parallel.branches === 'object'
  ) {
    for (const [name, steps] of Object.entries(parallel.branches)) {
      add(steps, [...path, 'parallel', 'branches', name], name);
    }
  }
  const foreach = raw.foreach as { steps?: unknown } | undefined;
  if (foreach && typeof foreach === 'object') add(foreach.steps, [...path, 'foreach', 'steps'], 'foreach');
  add(raw.try, [...path, 'try'], 'try');
  if (Array.isArray(raw.catch)) add(raw.catch, [...path, 'catch'], 'catch');
  else if (raw.catch && typeof raw.catch === 'object') {
    add((raw.catch as { steps?: unknown }).steps, [...path, 'catch', 'steps'], 'catch');
  }
  add(raw.finally, [...path, 'finally'], 'finally');
  const waitFor = raw.wait_for as { on_timeout?: unknown } | undefined;
  if (waitFor && typeof waitFor === 'object') {
    add(waitFor.on_timeout, [...path, 'wait_for', 'on_timeout'], 'on_timeout');
  }
  return found;
}
