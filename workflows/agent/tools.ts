/** Tools as the loop sees them: schema in the workflow, `execute` = one activity per call. */

import type { AgentTool } from '@mariozechner/pi-agent-core';
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { Failures } from '../../engine/failures.js';
import { failureText, toolActivity, toolApprovalActivity } from './activity-options.js';
import type { RetrySpec, ToolSpec } from './agent-api.js';
import { awaitApproval, refusalText } from './approval.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './approval-api.js';
import type { ApprovalNoticeTarget } from './approval-notice.js';

/** Per pipeline step: a tool's own timeout and retry policy, overridden. */
export interface ToolOverride {
  timeoutMs?: number;
  retry?: Partial<RetrySpec>;
  /** Require the owner's approval for this tool in this step (a tool can also require it itself). */
  approval?: 'required';
  approvalTimeoutMs?: number;
}

/**
 * Overrides (`tool_options:` of the step) must name tools the turn offers: a typo would
 * otherwise silently leave a tool without its timeout or approval. Called once the turn is
 * prepared, before any model call.
 */
export function checkToolOverrides(
  overrides: Record<string, ToolOverride> | undefined,
  offered: readonly ToolSpec[],
): void {
  const names = offered.map((t) => t.name);
  const unknown = Object.keys(overrides ?? {}).filter((name) => !names.includes(name));
  if (unknown.length === 0) return;
  throw ApplicationFailure.nonRetryable(
    `tool_options names ${unknown.map((n) => `'${n}'`).join(', ')}, which this turn does not offer (its tools: ${names.join(', ') || 'none'}); fix the name, or register the tool with the worker`,
    Failures.UnknownTool,
  );
}

export interface ToolCounter {
  toolCalls: number;
}

/** What every tool of a turn shares: the live-delta key, the call count, where approvals are announced. */
export interface ToolRun {
  runKey: string;
  /** Names the turn in tool idempotency keys and approval ids (Run.key in the pipeline). */
  key: string;
  /** The conversation's session key, if the turn is one of its turns. */
  session?: string;
  counter: ToolCounter;
  notify?: ApprovalNoticeTarget;
}

export function durableTool(spec: ToolSpec, override: ToolOverride | undefined, run: ToolRun): AgentTool {
  const { runKey, counter } = run;
  const call = toolActivity(
    override?.timeoutMs ?? spec.timeoutMs,
    { ...spec.retry, ...override?.retry },
    `tool ${spec.name}`,
    spec.heartbeatTimeoutMs,
  );
  return {
    name: spec.name,
    label: spec.name,
    description: spec.description,
    parameters: spec.parameters as unknown as AgentTool['parameters'],
    async execute(toolCallId, params) {
      const args = params as Record<string, unknown>;
      const approvalTimeoutMs = override?.approvalTimeoutMs ?? spec.approvalTimeoutMs;
      let approved = false;
      if (override?.approval === 'required' || spec.approval === 'required') {
        await requireApproval(spec.name, toolCallId, args, approvalTimeoutMs, run);
        approved = true;
      } else if (spec.approval === 'per-call') {
        // The tool decides from the arguments (is this command in the allowlist?); only tools
        // that say per-call take this path, so histories without them replay unchanged.
        const check = await toolApprovalActivity(`check ${spec.name}`)({
          tool: spec.name,
          toolCallId,
          args,
          runKey,
        });
        if ('refused' in check) throw new Error(`tool ${spec.name} refused: ${check.refused}`);
        if (check.approval === 'required') {
          await requireApproval(spec.name, toolCallId, args, approvalTimeoutMs, run);
          approved = true;
        }
      }
      counter.toolCalls++;
      try {
        const result = await call({
          tool: spec.name,
          toolCallId,
          args,
          runKey,
          ...(spec.approval === 'per-call' && approved ? { approved } : {}),
          idempotencyKey: `${run.key}/tool-${counter.toolCalls}/${toolCallId}`,
          ...(run.session ? { session: run.session } : {}),
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

/** Waits for the owner; a denial or no answer is thrown, so the loop hands the model an error result. */
export async function requireApproval(
  tool: string,
  toolCallId: string,
  args: Record<string, unknown>,
  timeoutMs: number | undefined,
  run: ToolRun,
): Promise<void> {
  const outcome = await awaitApproval({
    tool,
    toolCallId,
    args,
    timeoutMs: timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    key: run.key,
    ...(run.notify ? { notify: run.notify } : {}),
  });
  if (outcome.status !== 'approved') throw new Error(refusalText(tool, outcome));
}
