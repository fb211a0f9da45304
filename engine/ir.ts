/**
 * The compiled pipeline: the contract between the compiler (engine/) and the interpreter
 * (workflows/message). Plain JSON, no functions, no classes, so it can be a workflow input,
 * be hashed, and be stored. Bump IR_VERSION on any incompatible change.
 *
 * Reading guide for interpreter authors:
 * - A `Block` is a list of steps. Each step lists in `after` the ids of sibling steps (same
 *   block) that must have finished (succeeded or been skipped) before it starts. Steps written
 *   one after another without `needs:` get `after: [previous id]`, so a plain list runs in order.
 * - Every step has a unique `id` across the whole pipeline (generated when the YAML has none).
 *   Its result is published as `steps.<id> = { status, output }` in the expression context.
 * - `if` is evaluated just before the step would start; false => status `skipped`, output null.
 * - All values that may contain expressions are `Template`s; resolve them with
 *   `resolveTemplate` from engine/expr.ts (safe inside the workflow sandbox).
 * - Durations are milliseconds. Retry policies use Temporal's field names.
 */

export const IR_VERSION = 1;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A CEL expression, parsed and type-checked at compile time. */
export interface Expr {
  /** CEL source, without the `${{ }}` delimiters. */
  cel: string;
  /** CEL type inferred at compile time (`bool`, `string`, `list<dyn>`, `dyn`, ...). */
  type: string;
}

/** A YAML value that may contain `${{ }}` expressions. */
export type Template =
  /** No expression anywhere below: use as is. */
  | { kind: 'literal'; value: JsonValue }
  /** A string that is exactly one `${{ expr }}`: the typed result of the expression. */
  | { kind: 'expr'; expr: Expr }
  /** A string mixing text and expressions: always a string (results are stringified). */
  | { kind: 'text'; parts: Array<string | Expr> }
  | { kind: 'list'; items: Template[] }
  | { kind: 'object'; fields: Record<string, Template> };

/** Temporal-shaped retry policy, fully resolved (defaults applied). */
export interface RetryPolicy {
  maximumAttempts: number;
  /** Milliseconds. */
  initialInterval: number;
  backoffCoefficient: number;
  /** Milliseconds; absent means Temporal's default (100 x initialInterval). */
  maximumInterval?: number;
  /** Error names (ApplicationFailure types / `raise:` names) that are never retried. */
  nonRetryableErrorTypes: string[];
}

export type StepKind =
  | 'uses'
  | 'switch'
  | 'parallel'
  | 'foreach'
  | 'try'
  | 'raise'
  | 'wait'
  | 'wait_for'
  | 'call'
  | 'set'
  | 'return';

interface StepBase {
  id: string;
  kind: StepKind;
  /** Display name (YAML `name:`), for logs and graphs. */
  name?: string;
  /** Position of the step in its source file (1-based), for run-time error messages. */
  line: number;
  column: number;
  /** Ids of sibling steps that must finish first (see the reading guide above). */
  after: string[];
  /** Run only when true; otherwise the step is `skipped`. */
  if?: Expr;
  /** Deadline for the whole step in ms (for `uses`: the activity's startToCloseTimeout). */
  timeout?: number;
  /**
   * Before the step runs (after its `if`), wait for the owner's approval (the same machinery as
   * tool approvals: workflows/agent/approval.ts). Denied or unanswered: the step fails with
   * `StepNotApproved`. Only on `uses`, `call`, `switch`, `parallel`, `foreach` and `try` steps.
   */
  approval?: 'required';
  /** Milliseconds to wait for that answer; absent: the default (10 minutes). Not part of `timeout`. */
  approvalTimeout?: number;
}

/** Run a registered step type. Output: whatever the step type returns. */
export interface UsesStep extends StepBase {
  kind: 'uses';
  /** Step type name, e.g. `agent.turn`. */
  type: string;
  /** `activity`: call the named activity. `workflow`: a built-in the interpreter runs itself. */
  execution: 'activity' | 'workflow';
  /** Activity name to call when execution is `activity`. */
  activity?: string;
  /** Run the activity as a local activity (the step type is short and safe to repeat: `local` in engine/step-types.ts). */
  local?: true;
  /** Arguments (an object template). */
  with: Template;
  retry: RetryPolicy;
  /** `agent.turn` only, when `with.pipeline_tools` lists any: pipelines the model may call as tools. */
  pipelineTools?: PipelineToolIR[];
  /** `agent.turn` only, when `with.tool_options` sets any: per registered tool name, its overrides. */
  toolOptions?: Record<string, ToolOptionsIR>;
}

/**
 * How one registered tool behaves in one `agent.turn` step, over what the tool declares itself.
 * Only the fields the YAML sets are present; the others keep the tool's own values.
 */
export interface ToolOptionsIR {
  /** Milliseconds: the tool activity's startToCloseTimeout. */
  timeout?: number;
  /** Temporal field names, milliseconds; merged over the tool's own policy. */
  retry?: Partial<Omit<RetryPolicy, 'nonRetryableErrorTypes'>>;
  /** Each call waits for the owner's approval before its activity runs. */
  approval?: 'required';
  /** Milliseconds to wait for that answer; absent: the tool's own or the default (10 minutes). */
  approvalTimeout?: number;
}

/**
 * Another pipeline offered to the model of an `agent.turn` step as a tool. Each call runs
 * `PipelineIR.calls[pipeline]` as a child workflow (like a `call:` step) with the model's
 * arguments as its inputs; the tool result is the child's outputs object as JSON text.
 */
export interface PipelineToolIR {
  /** The name the model calls (matches ^[a-zA-Z0-9_-]{1,64}$, unique in the step). */
  name: string;
  description: string;
  pipeline: string;
  /** Content hash of the called pipeline's IR. */
  hash: string;
  /** JSON Schema of the arguments: the called pipeline's `inputs`. */
  parameters: JsonSchemaObject;
  /** Each call waits for the owner's approval before the child starts. */
  approval?: 'required';
  /** Milliseconds to wait for that answer; absent: the agent's default (10 minutes). */
  approvalTimeout?: number;
  /** Milliseconds; a child still running then is cancelled and the model reads a timeout. */
  timeout?: number;
}

/**
 * First case whose `when` is true runs, else `default` (if any).
 * Output: `{ case: <case name | "default" | null>, output: <output of the branch's last step> }`.
 */
export interface SwitchStep extends StepBase {
  kind: 'switch';
  cases: Array<{ name: string; when: Expr; steps: Block }>;
  default?: Block;
}

export type JoinMode = 'all' | 'any' | 'first-successful';

/**
 * Branches run concurrently, each with its own copy of `vars` (branches share no mutable state).
 * Output: `{ <branch name>: <output of the branch's last step> }` for branches that finished.
 * join `all`: wait for every branch, fail on the first failure (cancelling the rest).
 * join `any`: the first branch to finish decides (success or failure); cancel the rest.
 * join `first-successful`: the first branch to succeed wins; fail only if all fail.
 */
export interface ParallelStep extends StepBase {
  kind: 'parallel';
  join: JoinMode;
  branches: Array<{ name: string; steps: Block }>;
}

/**
 * Run `steps` once per element of `items` (must resolve to a list), at most `concurrency` at a
 * time. Inside, the element is the CEL variable named `as` and its position is `index`.
 * Each iteration has its own copy of `vars`. Output: list of each iteration's last-step output.
 */
export interface ForeachStep extends StepBase {
  kind: 'foreach';
  items: Template;
  as: string;
  concurrency: number;
  steps: Block;
}

/**
 * Run `steps`; if one fails with an error whose name is in `catch.errors` (empty = any error),
 * run `catch.steps` with the CEL variable `error = { name, message, step }`. `finally` always
 * runs. Output: output of the last step of the block that completed (try or catch).
 */
export interface TryStep extends StepBase {
  kind: 'try';
  steps: Block;
  catch?: { errors: string[]; steps: Block };
  finally?: Block;
}

/** Fail with a named error (non-retryable ApplicationFailure of type `error`). */
export interface RaiseStep extends StepBase {
  kind: 'raise';
  error: string;
  message: Template;
}

/**
 * Durable timer. Exactly one of: `duration` (ms, known at compile time), `durationFrom`
 * (template resolving to a duration string like "5m" or a number of ms), `until` (template
 * resolving to an ISO-8601 timestamp; a time in the past does not wait). Output: null.
 */
export interface WaitStep extends StepBase {
  kind: 'wait';
  duration?: number;
  durationFrom?: Template;
  until?: Template;
}

/**
 * Wait for the pipeline signal named `signal`. Output: `{ timedOut, payload }`.
 * On timeout: run `onTimeout` when present; without it, fail with the error `Timeout`.
 */
export interface WaitForStep extends StepBase {
  kind: 'wait_for';
  signal: string;
  /** Milliseconds; absent means wait forever. */
  timeout?: number;
  onTimeout?: Block;
}

/**
 * Run another pipeline as a child workflow. Its IR is `PipelineIR.calls[pipeline]`.
 * Output: the child's outputs object.
 */
export interface CallStep extends StepBase {
  kind: 'call';
  pipeline: string;
  /** Content hash of the called pipeline's IR. */
  hash: string;
  inputs: Template;
  retry?: RetryPolicy;
}

/** Assign variables (`vars.<name>`). Output: the object of assigned values. */
export interface SetStep extends StepBase {
  kind: 'set';
  values: Record<string, Template>;
}

/** Finish the pipeline now with these outputs (merged over the declared output values). */
export interface ReturnStep extends StepBase {
  kind: 'return';
  outputs: Record<string, Template>;
}

export type Step =
  | UsesStep
  | SwitchStep
  | ParallelStep
  | ForeachStep
  | TryStep
  | RaiseStep
  | WaitStep
  | WaitForStep
  | CallStep
  | SetStep
  | ReturnStep;

export type Block = Step[];

export interface OutputIR {
  description?: string;
  /** Value computed when the pipeline ends normally; absent means null unless `return:` sets it. */
  value?: Template;
}

export interface PipelineIR {
  irVersion: typeof IR_VERSION;
  name: string;
  description?: string;
  version?: string;
  /** JSON Schema (object) for the inputs, with defaults; validate and fill before running. */
  inputs: JsonSchemaObject;
  outputs: Record<string, OutputIR>;
  /** Names of environment variables the pipeline may read as `env.<NAME>`. */
  env: string[];
  steps: Block;
  /** Every pipeline reachable through `call:` steps, by name (each carries its own `calls`). */
  calls: Record<string, PipelineIR>;
  /**
   * As a conversation's turn, this pipeline runs inside the session workflow instead of as a child
   * workflow of its own: nothing in it waits durably (no `wait`, `wait_for`, step approval, `call`,
   * pipeline tool or tool approval set in `tool_options`). See engine/turn-placement.ts.
   */
  inline?: true;
}

export interface JsonSchemaObject {
  type: 'object';
  properties: Record<string, JsonValue>;
  required: string[];
  additionalProperties: false;
}

export type StepStatus = 'succeeded' | 'skipped' | 'failed';

/** What expressions see at run time. The interpreter builds this; only these names exist. */
export interface ExpressionContext {
  inputs: Record<string, unknown>;
  steps: Record<string, { status: StepStatus; output: unknown }>;
  vars: Record<string, unknown>;
  /** The inbound message envelope. */
  message: unknown;
  /** Only the names listed in `PipelineIR.env`. */
  env?: Record<string, string>;
  /** Inside `catch:` steps. */
  error?: { name: string; message: string; step: string };
  /** Inside `foreach:` steps: the position of the current element; the element is under `as`. */
  index?: number;
  [loopVariable: string]: unknown;
}

/** A compiled pipeline plus its content address (sha256 of the canonical JSON of `ir`). */
export interface CompiledPipeline {
  name: string;
  file: string;
  hash: string;
  ir: PipelineIR;
}
