/** Activity proxies for the agent loop, and how their failures read to a person. */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type RetryPolicy,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { AgentActivities } from '../../activities/agent/index.js';
import type { RetrySpec } from './agent-api.js';

export interface ModelCallPolicy {
  /** Per attempt. Default 10 minutes. */
  timeoutMs?: number;
  /** A call whose worker stops heartbeating (every 3 s while open) for this long is retried elsewhere. Default 15 s. */
  heartbeatTimeoutMs?: number;
  /** Default: 4 attempts, 2 s doubling up to 30 s. Auth/validation errors are never retried. */
  retry?: Partial<RetrySpec>;
}

export const DEFAULT_MODEL_RETRY: RetrySpec = {
  maximumAttempts: 4,
  initialIntervalMs: 2000,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
};

export function temporalRetry(spec: RetrySpec): RetryPolicy {
  return {
    maximumAttempts: spec.maximumAttempts,
    initialInterval: spec.initialIntervalMs,
    backoffCoefficient: spec.backoffCoefficient,
    maximumInterval: spec.maximumIntervalMs,
  };
}

export function modelActivity(policy: ModelCallPolicy, summary: string): AgentActivities['agentModelCall'] {
  return proxyActivities<AgentActivities>({
    startToCloseTimeout: policy.timeoutMs ?? 10 * 60_000,
    heartbeatTimeout: policy.heartbeatTimeoutMs ?? 15_000,
    retry: temporalRetry({ ...DEFAULT_MODEL_RETRY, ...policy.retry }),
    summary,
  }).agentModelCall;
}

export function toolActivity(
  timeoutMs: number,
  retry: RetrySpec,
  summary: string,
  heartbeatTimeoutMs?: number,
): AgentActivities['agentToolCall'] {
  return proxyActivities<AgentActivities>({
    startToCloseTimeout: timeoutMs,
    ...(heartbeatTimeoutMs !== undefined ? { heartbeatTimeout: heartbeatTimeoutMs } : {}),
    retry: temporalRetry(retry),
    summary,
  }).agentToolCall;
}

/** Asks a `per-call` tool whether this call runs, needs the owner's approval, or is refused. */
export function toolApprovalActivity(summary: string): AgentActivities['agentToolApproval'] {
  return proxyActivities<AgentActivities>({
    startToCloseTimeout: 30_000,
    retry: temporalRetry({
      maximumAttempts: 3,
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 10_000,
    }),
    summary,
  }).agentToolApproval;
}

// Preparing a turn (workspace files, config, tool list) is short and reads only: a local
// activity, run inside the workflow task that reaches it. Turns recorded before used a regular one.
const LOCAL_PREPARE_PATCH = 'sy-local-prepare';

export function prepareActivity(): AgentActivities['agentPrepareTurn'] {
  const proxy = patched(LOCAL_PREPARE_PATCH) ? proxyLocalActivities : proxyActivities;
  return proxy<AgentActivities>({
    startToCloseTimeout: 30_000,
    retry: temporalRetry({
      maximumAttempts: 3,
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 10_000,
    }),
    summary: 'prepare agent turn',
  }).agentPrepareTurn;
}

/** The innermost useful message of an activity failure ("model x failed: 401 …"). */
export function failureText(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return cause.message;
    if (cause instanceof TimeoutFailure) return `${err.activityType} timed out`;
    if (cause) return cause.message;
  }
  if (err instanceof ChildWorkflowFailure) return childFailureText(err);
  return err instanceof Error ? err.message : String(err);
}

/** A child workflow's failure with its error name, innermost first ("ChildSaidNo: no"). */
function childFailureText(err: ChildWorkflowFailure): string {
  let cause: Error | undefined = err.cause;
  // A child's failure wraps the failure of its own step (an activity, a grandchild…).
  while (cause && !(cause instanceof ApplicationFailure) && cause.cause instanceof Error) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    return cause.type && cause.type !== 'Error' ? `${cause.type}: ${cause.message}` : cause.message;
  }
  if (cause instanceof TimeoutFailure) return `workflow ${err.execution.workflowId} timed out`;
  return cause?.message ?? err.message;
}
