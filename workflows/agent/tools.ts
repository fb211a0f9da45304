/** Tools as the loop sees them: schema in the workflow, `execute` = one activity per call. */
import type { AgentTool } from '@mariozechner/pi-agent-core';
import { isCancellation } from '@temporalio/workflow';
import type { RetrySpec, ToolSpec } from '../../activities/agent/types.js';
import { failureText, toolActivity } from './activity-options.js';

/** Per pipeline step: a tool's own timeout and retry policy, overridden. */
export interface ToolOverride {
  timeoutMs?: number;
  retry?: Partial<RetrySpec>;
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
