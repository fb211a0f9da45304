/**
 * What a running block sees: the shared run, the expression data and local names.
 *
 * Values handed to CEL are cached by object identity (engine/expr.ts toCel), so nothing here is
 * mutated in place: every update replaces `steps` / `vars` with a new object.
 */
import type { Block, PipelineIR, StepStatus } from '../../engine/ir.js';
import type { TurnUsage } from '../agent/turn.js';
import type { CollectedReply, PipelineRunInput, PipelineState, UncertainSendRecord } from './pipeline-api.js';

/** Steps' results and variables; shared by sequential nested blocks, copied for branches. */
export interface ScopeData {
  steps: Record<string, { status: StepStatus; output: unknown }>;
  vars: Record<string, unknown>;
}

export interface Run {
  input: PipelineRunInput;
  ir: PipelineIR;
  state: PipelineState;
  signals: Array<{ name: string; payload: unknown }>;
  /** Child workflow counter per call step id, for unique deterministic child ids. */
  childRuns: Map<string, number>;
  /**
   * What names this run in idempotency keys, approval ids and live-output keys: the workflow id
   * of a run of its own; the turn's id (`turn:<session>:<message>`) when it runs inside its
   * session, the same id a child of that turn would have had.
   */
  key: string;
  /** `replyVia: 'answer'`: the replies to the message's own chat, collected instead of sent. */
  answers?: CollectedReply[];
  /** Inside the session: the agent steps' usage adds up here (a run of its own keeps it in its memo). */
  usage?: TurnUsage;
  /**
   * Inside the session: `reply.send`s whose outcome was unknown, kept on the turn's record (a run
   * of its own keeps them in its memo `uncertainSends`; the session's memo is not the turn's).
   */
  uncertainSends?: UncertainSendRecord[];
  runBlock(block: Block, scope: Scope): Promise<unknown>;
}

export interface Scope {
  run: Run;
  data: ScopeData;
  /** `error` in catch, the foreach element and `index`. */
  locals: Record<string, unknown>;
}

/** The context expressions are evaluated against (see ExpressionContext in engine/ir.ts). */
export function contextOf(scope: Scope): Record<string, unknown> {
  const { input } = scope.run;
  return {
    inputs: input.inputs,
    message: input.message ?? null,
    env: input.env ?? {},
    steps: scope.data.steps,
    vars: scope.data.vars,
    ...scope.locals,
  };
}

/** A nested block that runs in sequence with its parent: results and vars flow back. */
export function nestedScope(scope: Scope, locals: Record<string, unknown> = {}): Scope {
  return { run: scope.run, data: scope.data, locals: { ...scope.locals, ...locals } };
}

/** A parallel branch or foreach iteration: its own copy of vars, nothing flows back. */
export function branchScope(scope: Scope, locals: Record<string, unknown> = {}): Scope {
  return {
    run: scope.run,
    data: { steps: scope.data.steps, vars: scope.data.vars },
    locals: { ...scope.locals, ...locals },
  };
}

export function recordStep(scope: Scope, id: string, status: StepStatus, output: unknown): void {
  scope.data.steps = { ...scope.data.steps, [id]: { status, output: output ?? null } };
}

/** The output of a block: its last step's output (null when it did not run). */
export function lastOutput(block: Block, scope: Scope): unknown {
  const last = block[block.length - 1];
  return last ? (scope.data.steps[last.id]?.output ?? null) : null;
}

/** Thrown by `return:` and caught at the top of the run; never caught by `catch:`. */
export class ReturnSignal {
  constructor(readonly outputs: Record<string, unknown>) {}
}
