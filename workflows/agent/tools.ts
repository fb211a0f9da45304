/** Tools as the loop sees them: schema in the workflow, `execute` = one activity per call. */
import type { AgentTool } from '@mariozechner/pi-agent-core';
import { isCancellation } from '@temporalio/workflow';
import type { RetrySpec, ToolSpec } from '../../activities/agent/types.js';
import { failureText, toolActivity } from './activity-options.js';
import { awaitApproval, refusalText } from './approval.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './approval-api.js';

/** Per pipeline step: a tool's own timeout and retry policy, overridden. */
export interface ToolOverride {
  timeoutMs?: number;
  retry?: Partial<RetrySpec>;
  /** Require the owner's approval for this tool in this step (a tool can also require it itself). */
  approval?: 'required';
  approvalTimeoutMs?: number;
}

export interface ToolCounter {
  toolCalls: number;
}

export function durableTool(
  spec: ToolSpec,
  runKey: string,
  override: ToolOverride | undefined,
  counter: ToolCounter,
): AgentTool {
  const call = toolActivity(
    override?.timeoutMs ?? spec.timeoutMs,
    { ...spec.retry, ...override?.retry },
    `tool ${spec.name}`,
  );
  return {
    name: spec.name,
    label: spec.name,
    description: spec.description,
    parameters: spec.parameters as unknown as AgentTool['parameters'],
    async execute(toolCallId, params) {
      if (override?.approval === 'required' || spec.approval === 'required') {
        const outcome = await awaitApproval({
          tool: spec.name,
          toolCallId,
          args: params as Record<string, unknown>,
          timeoutMs: override?.approvalTimeoutMs ?? spec.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
        });
        // Thrown, so the loop hands the model an error result and goes on.
        if (outcome.status !== 'approved') throw new Error(refusalText(spec.name, outcome));
      }
      counter.toolCalls++;
      try {
        const result = await call({
          tool: spec.name,
          toolCallId,
          args: params as Record<string, unknown>,
          runKey,
        });
        return { content: result.content, details: result.details ?? null };
      } catch (err) {
        if (isCancellation(err)) throw err;
        // The loop turns a thrown error into an error result the model can read and react to.
        throw new Error(`tool ${spec.name} failed: ${failureText(err)}`);
      }
    },
  };
}
