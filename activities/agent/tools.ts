/**
 * Tools the agent may call. Each is code in the worker plus a schema the model sees; every
 * call runs as its own activity, with the tool's own timeout and retry policy.
 */

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../engine/failures.js';
import type { RetrySpec, ToolCallInput, ToolCallResult, ToolSpec } from '../../workflows/agent/agent-api.js';

export interface ToolCallContext {
  toolCallId: string;
  runKey: string;
  /** Stable across retries of this call (workflow id + activity id): dedupe side effects with it. */
  idempotencyKey: string;
  attempt: number;
  signal: AbortSignal;
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
  /** `required`: each call waits for the owner to approve it (`switchyard approvals`, `/approve <id>`). */
  approval?: 'required';
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
    ...(tool.approval === 'required' ? { approval: 'required' as const } : {}),
    ...(tool.approval === 'required' && tool.approvalTimeoutMs !== undefined
      ? { approvalTimeoutMs: tool.approvalTimeoutMs }
      : {}),
  };
}

export async function callTool(input: ToolCallInput, tools: ReadonlyMap<string, AgentToolDefinition>) {
  const tool = tools.get(input.tool);
  if (!tool) {
    throw ApplicationFailure.nonRetryable(`no tool '${input.tool}' in this worker`, Failures.UnknownTool);
  }
  const { info, cancellationSignal } = Context.current();
  const result = await tool.execute(input.args, {
    toolCallId: input.toolCallId,
    runKey: input.runKey,
    idempotencyKey: `${info.workflowExecution?.workflowId ?? 'standalone'}/${info.activityId}`,
    attempt: info.attempt,
    signal: cancellationSignal,
  });
  return (
    typeof result === 'string' ? { content: [{ type: 'text', text: result }] } : result
  ) satisfies ToolCallResult;
}
