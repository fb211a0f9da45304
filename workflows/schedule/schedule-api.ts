/**
 * The public face of a scheduled run: the input a Temporal Schedule hands `scheduledTaskWorkflow`,
 * its result, the activities it calls, and the heartbeat rule. Clients (reconcile, CLI, `runs`)
 * import this file; it holds no workflow logic and imports only types.
 */

import type { CronTask, CronTaskSource } from '../../config/cron-task.js';
import type { PipelineIR } from '../../engine/ir.js';

export const SCHEDULED_TASK_WORKFLOW_TYPE = 'scheduledTaskWorkflow';

export interface ScheduledTaskInput {
  /** The task as validated when the Schedule was created or last updated. */
  task: CronTask;
  source: CronTaskSource;
  /** Hash of what the Schedule was built from: reconcile updates only when it changes. */
  definitionHash: string;
  /**
   * When set, `agentTurn` payloads run this pipeline (its `reply`/`text` output is delivered)
   * instead of a plain agent turn. Its reply steps must not post themselves: the message it
   * sees comes from the `cron` pseudo-channel.
   */
  agentPipeline?: string;
  /** Set on the heartbeat task only. */
  heartbeat?: HeartbeatRun;
}

export interface HeartbeatRun {
  /** Absolute path of HEARTBEAT.md, read at every run (the user edits it between runs). */
  file: string;
  prompt: string;
  ackMaxChars: number;
}

export type DeliveryOutcome =
  | { mode: 'none'; delivered: false }
  | { mode: 'announce' | 'webhook'; delivered: true; target: string; messageIds?: string[] }
  | { mode: 'announce' | 'webhook'; delivered: false; target: string; reason: string };

export interface ScheduledTaskResult {
  taskId: string;
  /** `skipped`: nothing ran (e.g. an empty HEARTBEAT.md); `reason` says why. */
  status: 'ok' | 'skipped';
  reason?: string;
  payload: CronTask['payload']['kind'];
  /** What the run produced, clipped to 2,000 characters. */
  text?: string;
  /** The child pipeline run, the session workflow the text went to, or this run (agent turn). */
  ranIn?: { workflowId: string; pipeline?: string; pipelineHash?: string };
  delivery: DeliveryOutcome;
}

/** A compiled pipeline as the loader activity returns it (the registry lives outside the workflow). */
export interface LoadedPipeline {
  name: string;
  ir: PipelineIR;
  hash: string;
  /** Values of the environment variables `ir.env` lists, read by the activity. */
  env?: Record<string, string>;
}

export interface WebhookRequest {
  url: string;
  body: unknown;
  /** Sent as the `Idempotency-Key` header: receivers drop a retried POST. */
  idempotencyKey: string;
}

export interface SessionInjection {
  /** e.g. `agent:main:main`; the session workflow is `session:<key>`. */
  sessionKey: string;
  agentId: string;
  text: string;
  /** Stable per run (the run's workflow id): the session drops a re-delivery. */
  messageId: string;
  /** The pipeline that answers in the session (default: the agent's). */
  pipeline?: string;
}

/** Activities of activities/schedule.ts, as the workflow sees them. */
export interface ScheduleActivities {
  cronLoadPipeline(name: string): Promise<LoadedPipeline>;
  cronReadHeartbeat(file: string): Promise<{ exists: boolean; text: string }>;
  cronPostWebhook(request: WebhookRequest): Promise<{ status: number }>;
  cronInjectIntoSession(injection: SessionInjection): Promise<{ workflowId: string }>;
}

export const HEARTBEAT_TOKEN = 'HEARTBEAT_OK';

/**
 * OpenClaw's convention: a heartbeat reply that is `HEARTBEAT_OK` at its start or end, with at
 * most `ackMaxChars` of anything else, means "nothing to report" and is not delivered.
 */
export function isHeartbeatAck(text: string, ackMaxChars: number): boolean {
  const trimmed = text.trim();
  // The token may be wrapped in markdown emphasis or code (`**HEARTBEAT_OK**`).
  const edge = /^[*_`~\s]*HEARTBEAT_OK[*_`~\s.!]*|[*_`~\s]*HEARTBEAT_OK[*_`~\s.!]*$/;
  if (!edge.test(trimmed)) return false;
  return trimmed.replace(edge, '').trim().length <= ackMaxChars;
}

/** True when HEARTBEAT.md holds nothing to act on: only blank lines, headings or empty list items. */
export function isEffectivelyEmpty(markdown: string): boolean {
  return markdown
    .split('\n')
    .map((line) => line.trim())
    .every((line) => line === '' || /^#+(\s|$)/.test(line) || /^[-*+](\s*\[[ xX]?\])?\s*$/.test(line));
}
