/**
 * Run-time management of tasks: what `switchyard cron …`, the gateway's `cron.*` methods and the
 * agent's `cron` tool call. Temporal is the only store: a task IS its Schedule.
 */
import type { Client, ScheduleDescription } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { type CronTask, type CronTaskSource, scheduleIdOf, taskIdOf } from '../../config/cron-task.js';
import { assertCronTask } from '../../config/cron-validate.js';
import type { ScheduledTaskInput } from '../../workflows/schedule/schedule-api.js';
import {
  applySchedule,
  describeOrUndefined,
  inputOf,
  isOwned,
  ownedScheduleIds,
  updateSchedule,
} from './reconcile.js';
import { buildSchedule, type ScheduleTarget } from './spec.js';

export interface CronContext {
  client: Client;
  target: ScheduleTarget;
  /** A Temporal UI link for a run (temporal/connection.ts `workflowUiLink` bound to the config). */
  uiLink?: (workflowId: string, runId?: string) => string | undefined;
}

export class CronTaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`no scheduled task '${taskId}' (see \`switchyard cron list\`)`);
    this.name = 'CronTaskNotFoundError';
  }
}

export class CronTaskExistsError extends Error {
  constructor(readonly taskId: string) {
    super(`a scheduled task '${taskId}' already exists: change it with \`switchyard cron edit ${taskId}\``);
    this.name = 'CronTaskExistsError';
  }
}

/** One task as list/show present it. */
export interface CronTaskView {
  id: string;
  scheduleId: string;
  task: CronTask;
  source: CronTaskSource;
  paused: boolean;
  note?: string;
  /** Next fire times Temporal computed (up to 10). */
  nextRuns: Date[];
  lastRun?: { scheduledAt: Date; startedAt: Date; workflowId: string; runId: string };
  counters: { taken: number; skippedOverlap: number; missedCatchupWindow: number; running: number };
  policies: ScheduleDescription['policies'];
  /** A task declared in switchyard.yaml: run-time edits are undone by the next reload. */
  fromConfig: boolean;
}

export interface ChangeResult {
  view: CronTaskView;
  /** Something the user should know (e.g. the next reload will undo an edit). */
  warning?: string;
}

export async function addTask(
  ctx: CronContext,
  value: unknown,
  source: CronTaskSource = 'runtime',
): Promise<ChangeResult> {
  const task = assertCronTask(value);
  if (await describeOrUndefined(ctx.client, scheduleIdOf(task.id))) throw new CronTaskExistsError(task.id);
  await applySchedule(ctx.client, buildSchedule(task, source, ctx.target));
  return { view: await showTask(ctx, task.id) };
}

export async function listTasks(ctx: CronContext): Promise<CronTaskView[]> {
  const views: CronTaskView[] = [];
  for (const scheduleId of await ownedScheduleIds(ctx.client)) {
    const description = await describeOrUndefined(ctx.client, scheduleId);
    if (description && isOwned(description)) {
      const view = viewOf(description);
      if (view) views.push(view);
    }
  }
  return views.sort((a, b) => a.id.localeCompare(b.id));
}

export async function showTask(ctx: CronContext, taskId: string): Promise<CronTaskView> {
  return viewOf(await describeTask(ctx, taskId)) ?? notFound(taskId);
}

/**
 * Changes fields of a task. `schedule`, `payload` and `delivery` merge into the current ones
 * unless their `kind`/`mode` changes (then they are replaced).
 */
export async function editTask(
  ctx: CronContext,
  taskId: string,
  patch: Partial<CronTask>,
): Promise<ChangeResult> {
  const description = await describeTask(ctx, taskId);
  const before = inputOf(description) ?? notFound(taskId);
  if (patch.id !== undefined && patch.id !== taskId) {
    throw new Error(
      `a task's id cannot change (it names its Schedule): add '${patch.id}' and remove '${taskId}'`,
    );
  }
  const task = assertCronTask(mergeTask(before.task, patch), `cron task '${taskId}'`);
  const built = buildSchedule(task, before.source, ctx.target, before.heartbeat);
  if (built.input.definitionHash !== before.definitionHash) await updateSchedule(ctx.client, built, before);
  return { view: await showTask(ctx, taskId), ...configWarning(before.source, 'edit') };
}

export async function pauseTask(
  ctx: CronContext,
  taskId: string,
  note = 'paused by the owner',
): Promise<CronTaskView> {
  await describeTask(ctx, taskId);
  await ctx.client.schedule.getHandle(scheduleIdOf(taskId)).pause(note);
  return showTask(ctx, taskId);
}

export async function resumeTask(ctx: CronContext, taskId: string, note = 'resumed'): Promise<CronTaskView> {
  await describeTask(ctx, taskId);
  await ctx.client.schedule.getHandle(scheduleIdOf(taskId)).unpause(note);
  return showTask(ctx, taskId);
}

export async function removeTask(
  ctx: CronContext,
  taskId: string,
): Promise<{ removed: string; warning?: string }> {
  const description = await describeTask(ctx, taskId);
  await ctx.client.schedule.getHandle(scheduleIdOf(taskId)).delete();
  return { removed: taskId, ...configWarning(inputOf(description)?.source, 'remove') };
}

/**
 * Runs a task now, whatever its schedule (and even when paused). Resolves with the new run's
 * workflow id once the Schedule reports it (within `waitMs`).
 */
export async function runTask(
  ctx: CronContext,
  taskId: string,
  waitMs = 5000,
): Promise<{ workflowId?: string; runId?: string }> {
  const before = await describeTask(ctx, taskId);
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  const handle = ctx.client.schedule.getHandle(scheduleIdOf(taskId));
  // Run ids end with the start time to the second: two starts in one second would collide.
  const last = before.info.recentActions.at(-1)?.takenAt.getTime();
  if (last !== undefined && Math.floor(Date.now() / 1000) <= Math.floor(last / 1000)) {
    await new Promise((r) => setTimeout(r, (Math.floor(last / 1000) + 1) * 1000 - Date.now() + 20));
  }
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const now = await handle.describe();
    const fresh = now.info.recentActions.find((a) => !seen.has(a.action.workflow.workflowId));
    if (fresh)
      return {
        workflowId: fresh.action.workflow.workflowId,
        runId: fresh.action.workflow.firstExecutionRunId,
      };
    await new Promise((r) => setTimeout(r, 100));
  }
  return {};
}

/**
 * Runs the occurrences a time range held, as if that time passed now (e.g. after an outage
 * longer than the catch-up window). `overlap` applies within the backfill; default allowAll.
 */
export async function backfillTask(
  ctx: CronContext,
  taskId: string,
  range: { start: Date; end: Date; overlap?: ScheduleOverlapPolicy },
): Promise<void> {
  await describeTask(ctx, taskId);
  await ctx.client.schedule.getHandle(scheduleIdOf(taskId)).backfill({
    start: range.start,
    end: range.end,
    overlap: range.overlap ?? ScheduleOverlapPolicy.ALLOW_ALL,
  });
}

export async function describeTask(ctx: CronContext, taskId: string): Promise<ScheduleDescription> {
  const description = await describeOrUndefined(ctx.client, scheduleIdOf(taskId));
  if (!description || !isOwned(description)) throw new CronTaskNotFoundError(taskId);
  return description;
}

function viewOf(description: ScheduleDescription): CronTaskView | undefined {
  const input: ScheduledTaskInput | undefined = inputOf(description);
  if (!input) return undefined;
  const last = description.info.recentActions.at(-1);
  return {
    id: taskIdOf(description.scheduleId)!,
    scheduleId: description.scheduleId,
    task: input.task,
    source: input.source,
    paused: description.state.paused,
    ...(description.state.note ? { note: description.state.note } : {}),
    nextRuns: description.info.nextActionTimes,
    ...(last
      ? {
          lastRun: {
            scheduledAt: last.scheduledAt,
            startedAt: last.takenAt,
            workflowId: last.action.workflow.workflowId,
            runId: last.action.workflow.firstExecutionRunId,
          },
        }
      : {}),
    counters: {
      taken: description.info.numActionsTaken,
      skippedOverlap: description.info.numActionsSkippedOverlap,
      missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
      running: description.info.runningActions.length,
    },
    policies: description.policies,
    fromConfig: input.source === 'config' || input.source === 'heartbeat',
  };
}

export function mergeTask(task: CronTask, patch: Partial<CronTask>): CronTask {
  const merged: CronTask = { ...task, ...patch };
  if (patch.schedule) {
    merged.schedule = (
      patch.schedule.kind === task.schedule.kind ? { ...task.schedule, ...patch.schedule } : patch.schedule
    ) as CronTask['schedule'];
  }
  if (patch.payload) {
    merged.payload = (
      patch.payload.kind === task.payload.kind ? { ...task.payload, ...patch.payload } : patch.payload
    ) as CronTask['payload'];
  }
  if (patch.delivery && task.delivery && patch.delivery.mode === task.delivery.mode) {
    merged.delivery = { ...task.delivery, ...patch.delivery };
  }
  return merged;
}

function configWarning(source: CronTaskSource | undefined, what: 'edit' | 'remove') {
  if (source !== 'config' && source !== 'heartbeat') return {};
  return {
    warning:
      what === 'edit'
        ? 'this task is declared in switchyard.yaml: the next config reload puts its declared form back; edit the file to keep the change'
        : 'this task is declared in switchyard.yaml: the next config reload creates it again; delete it from the file to keep it gone',
  };
}

function notFound(taskId: string): never {
  throw new CronTaskNotFoundError(taskId);
}
