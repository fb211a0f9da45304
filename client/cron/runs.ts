/**
 * `cron runs`: every run of a task, from Temporal itself — workflow visibility (runs started by
 * the Schedule carry the `TemporalScheduledById` search attribute) merged with the Schedule's
 * recent actions (a run only just started may not be visible yet), and each run's result for
 * what was delivered. Occurrences Temporal did not start are counted, not listed: Temporal keeps
 * counters of runs skipped by the overlap policy or missed beyond the catch-up window.
 */
import { type WorkflowExecutionInfo, WorkflowFailedError } from '@temporalio/client';
import { scheduleIdOf } from '../../config/cron-task.js';
import type { ScheduledTaskResult } from '../../workflows/schedule/schedule-api.js';
import { type CronContext, describeTask } from './manage.js';

export type CronRunStatus = 'running' | 'ok' | 'skipped' | 'error' | 'cancelled' | 'terminated' | 'timed-out';

export interface CronRun {
  workflowId: string;
  runId: string;
  /** The occurrence this run is for (the Schedule's nominal time, before jitter). */
  scheduledAt?: Date;
  startedAt: Date;
  closedAt?: Date;
  durationMs?: number;
  status: CronRunStatus;
  /** Delivered to the announce/webhook target (false when nothing was to be delivered). */
  delivered: boolean;
  /** Why not delivered, or where it went. */
  deliveryNote?: string;
  /** Why the run failed (status error). */
  error?: string;
  /** The text the run produced (clipped), for ok runs. */
  text?: string;
  link?: string;
}

export interface CronRuns {
  taskId: string;
  runs: CronRun[];
  /** Occurrences Temporal did not start, by reason (from the Schedule's counters). */
  notStarted: { skippedOverlap: number; missedCatchupWindow: number };
}

const STATUS: Record<string, CronRunStatus> = {
  RUNNING: 'running',
  COMPLETED: 'ok',
  FAILED: 'error',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
  CONTINUED_AS_NEW: 'ok',
};

/** The most recent runs of a task, newest first. */
export async function listRuns(
  ctx: CronContext,
  taskId: string,
  options: { limit?: number } = {},
): Promise<CronRuns> {
  const limit = options.limit ?? 20;
  const description = await describeTask(ctx, taskId);
  const scheduleId = scheduleIdOf(taskId);
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of ctx.client.workflow.list({
    query: `TemporalScheduledById = '${scheduleId.replace(/'/g, "\\'")}'`,
  })) {
    infos.push(info);
  }
  const byId = new Map(infos.map((i) => [i.workflowId, i]));
  const runs: CronRun[] = [];
  for (const info of infos) runs.push(await runOf(ctx, info));
  // Started by the Schedule but not yet in visibility.
  for (const action of description.info.recentActions) {
    const { workflowId, firstExecutionRunId } = action.action.workflow;
    if (byId.has(workflowId)) continue;
    runs.push({
      workflowId,
      runId: firstExecutionRunId,
      scheduledAt: action.scheduledAt,
      startedAt: action.takenAt,
      status: 'running',
      delivered: false,
      ...link(ctx, workflowId, firstExecutionRunId),
    });
  }
  runs.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
  return {
    taskId,
    runs: runs.slice(0, limit),
    notStarted: {
      skippedOverlap: description.info.numActionsSkippedOverlap,
      missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
    },
  };
}

async function runOf(ctx: CronContext, info: WorkflowExecutionInfo): Promise<CronRun> {
  const scheduled = info.typedSearchAttributes
    ?.getAll()
    .find((pair) => pair.key.name === 'TemporalScheduledStartTime')?.value;
  const scheduledAt = scheduled instanceof Date ? scheduled : timeInWorkflowId(info.workflowId);
  const run: CronRun = {
    workflowId: info.workflowId,
    runId: info.runId,
    ...(scheduledAt ? { scheduledAt } : {}),
    startedAt: info.startTime,
    ...(info.closeTime
      ? { closedAt: info.closeTime, durationMs: info.closeTime.getTime() - info.startTime.getTime() }
      : {}),
    status: STATUS[info.status.name] ?? 'running',
    delivered: false,
    ...link(ctx, info.workflowId, info.runId),
  };
  if (run.status !== 'ok' && run.status !== 'error') return run;
  const handle = ctx.client.workflow.getHandle(info.workflowId, info.runId);
  try {
    const result = (await handle.result()) as ScheduledTaskResult;
    if (result.status === 'skipped') run.status = 'skipped';
    run.delivered = result.delivery.delivered;
    if (result.delivery.mode !== 'none') {
      run.deliveryNote = result.delivery.delivered
        ? `${result.delivery.mode} to ${result.delivery.target}`
        : `not delivered: ${result.delivery.reason}`;
    } else if (result.reason) {
      run.deliveryNote = result.reason;
    }
    if (result.text !== undefined) run.text = result.text;
  } catch (error) {
    run.status = 'error';
    run.error =
      error instanceof WorkflowFailedError
        ? (error.cause?.message ?? error.message)
        : (error as Error).message;
  }
  return run;
}

/** Schedule-started workflow ids end with the nominal time: `cron:<id>-2026-11-26T04:20:00Z`. */
function timeInWorkflowId(workflowId: string): Date | undefined {
  const match = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$/.exec(workflowId);
  return match ? new Date(match[1]!) : undefined;
}

function link(ctx: CronContext, workflowId: string, runId: string): { link?: string } {
  const url = ctx.uiLink?.(workflowId, runId);
  return url ? { link: url } : {};
}
