/**
 * Tools the agent may call. Each is code in the worker plus a schema the model sees; every
 * call runs as its own activity, with the tool's own timeout and retry policy.
 */

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../engine/failures.js';
import type {
  RetrySpec,
  ToolApprovalCheck,
  ToolCallInput,
  ToolCallResult,
  ToolSpec,
} from '../../workflows/agent/agent-api.js';

export interface ToolCallContext {
  toolCallId: string;
  runKey: string;
  /**
   * Stable across retries of this call and unique to it (`<turn id>/tool-<n>/<tool call id>`, the
   * turn id being `turn:<session key>:<message id>`): dedupe side effects with it.
   */
  idempotencyKey: string;
  /** The session key of the conversation the turn belongs to (absent in calls scheduled before it was passed). */
  session?: string;
  attempt: number;
  signal: AbortSignal;
  /** The owner approved this call (told only to `per-call` tools). */
  approved?: boolean;
  /** Tells Temporal the call is alive (tools with `heartbeatTimeoutMs` call it every few seconds). */
  heartbeat?(): void;
}

export interface AgentToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments (validated in the workflow before the activity runs). */
  parameters: Record<string, unknown>;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Default: 3 attempts, 1 s doubling up to 30 s. */
  retry?: Partial<RetrySpec>;
  /**
   * `required`: each call waits for the owner to approve it (`switchyard approvals`, `/approve <id>`).
   * `per-call`: `approvalFor` decides for each call, before it runs.
   */
  approval?: 'required' | 'per-call';
  /** For `per-call` tools: whether this call runs by itself, needs the owner's approval, or is refused. */
  approvalFor?(
    args: Record<string, unknown>,
    ctx: { toolCallId: string; runKey: string; idempotencyKey: string },
  ): ToolApprovalCheck | Promise<ToolApprovalCheck>;
  /** The call heartbeats (`ctx.heartbeat()`); a worker that stops is noticed after this long. */
  heartbeatTimeoutMs?: number;
  /**
   * Why the tool is off right now (config, a missing program), or undefined when it is on. An off
   * tool is not offered; a step that lists it by name fails saying why. Read at each turn.
   */
  unavailable?(): string | undefined;
  /** How long a call waits for approval before it counts as denied. Default 10 minutes. */
  approvalTimeoutMs?: number;
  /** A string becomes one text block; throw to report an error to the model. */
  execute(args: Record<string, unknown>, ctx: ToolCallContext): Promise<string | ToolCallResult>;
}

export const DEFAULT_TOOL_RETRY: RetrySpec = {
  maximumAttempts: 3,
  initialIntervalMs: 1000,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
};

export function toolSpec(tool: AgentToolDefinition): ToolSpec {
  return {
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    timeoutMs: tool.timeoutMs ?? 60_000,
    retry: { ...DEFAULT_TOOL_RETRY, ...tool.retry },
    ...(tool.approval ? { approval: tool.approval } : {}),
    ...(tool.approval && tool.approvalTimeoutMs !== undefined
      ? { approvalTimeoutMs: tool.approvalTimeoutMs }
      : {}),
    ...(tool.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: tool.heartbeatTimeoutMs } : {}),
  };
}

/** A `per-call` tool's decision about one call; any other tool runs (its approval is the workflow's). */
export async function checkToolApproval(
  input: ToolCallInput,
  tools: ReadonlyMap<string, AgentToolDefinition>,
): Promise<ToolApprovalCheck> {
  const tool = tools.get(input.tool);
  if (!tool) {
    throw ApplicationFailure.nonRetryable(`no tool '${input.tool}' in this worker`, Failures.UnknownTool);
  }
  if (!tool.approvalFor) return { approval: 'none', why: `${input.tool} decides nothing per call` };
  const { info } = Context.current();
  return tool.approvalFor(input.args, {
    toolCallId: input.toolCallId,
    runKey: input.runKey,
    idempotencyKey: `${info.workflowExecution?.workflowId ?? 'standalone'}/${info.activityId}`,
  });
}

export async function callTool(input: ToolCallInput, tools: ReadonlyMap<string, AgentToolDefinition>) {
  const tool = tools.get(input.tool);
  if (!tool) {
    throw ApplicationFailure.nonRetryable(`no tool '${input.tool}' in this worker`, Failures.UnknownTool);
  }
  const context = Context.current();
  const { info, cancellationSignal } = context;
  const result = await tool.execute(input.args, {
    toolCallId: input.toolCallId,
    runKey: input.runKey,
    idempotencyKey:
      input.idempotencyKey ?? `${info.workflowExecution?.workflowId ?? 'standalone'}/${info.activityId}`,
    ...(input.session ? { session: input.session } : {}),
    attempt: info.attempt,
    signal: cancellationSignal,
    approved: input.approved === true,
    heartbeat: () => context.heartbeat(),
  });
  return (
    typeof result === 'string' ? { content: [{ type: 'text', text: result }] } : result
  ) satisfies ToolCallResult;
}
