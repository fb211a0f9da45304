/**
 * A task as a Temporal Schedule: spec from the schedule kind, policies, and the action that
 * starts `scheduledTaskWorkflow`. The task definition travels in the action's input, because
 * UpdateSchedule can change the action but never the memo; the memo only marks ownership.
 */
import {
  type CalendarSpec,
  MONTHS,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import {
  CRON_DEFAULTS,
  type CronOverlap,
  type CronTask,
  type CronTaskSource,
  scheduleIdOf,
} from '../../config/cron-task.js';
import { parseAt } from '../../config/cron-validate.js';
import { parseDuration } from '../../engine/duration.js';
import { contentHash } from '../../engine/hash.js';
import {
  type HeartbeatRun,
  SCHEDULED_TASK_WORKFLOW_TYPE,
  type ScheduledTaskInput,
} from '../../workflows/schedule/schedule-api.js';

/** Schedule memo of every Schedule Switchyard owns (reconcile never touches others). */
export const OWNER_MEMO = { switchyard: 'cron-task', version: 1 } as const;

export interface ScheduleTarget {
  /** Task queue of the workers that run scheduled tasks (config.temporal.taskQueue). */
  taskQueue: string;
  /** A pipeline that answers agentTurn payloads instead of the plain agent turn (optional). */
  agentPipeline?: string;
}

export interface BuiltSchedule {
  scheduleId: string;
  options: ScheduleOptions;
  input: ScheduledTaskInput;
}

const OVERLAP: Record<CronOverlap, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  bufferOne: ScheduleOverlapPolicy.BUFFER_ONE,
  bufferAll: ScheduleOverlapPolicy.BUFFER_ALL,
  cancelOther: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminateOther: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allowAll: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The Schedule for a (validated) task. */
export function buildSchedule(
  task: CronTask,
  source: CronTaskSource,
  target: ScheduleTarget,
  heartbeat?: HeartbeatRun,
): BuiltSchedule {
  const scheduleId = scheduleIdOf(task.id);
  const definition = {
    task,
    source,
    taskQueue: target.taskQueue,
    agentPipeline: target.agentPipeline,
    heartbeat,
  };
  const input: ScheduledTaskInput = {
    task,
    source,
    definitionHash: contentHash(definition),
    ...(target.agentPipeline ? { agentPipeline: target.agentPipeline } : {}),
    ...(heartbeat ? { heartbeat } : {}),
  };
  const options: ScheduleOptions = {
    scheduleId,
    spec: specOf(task),
    action: {
      type: 'startWorkflow',
      workflowType: SCHEDULED_TASK_WORKFLOW_TYPE,
      // Temporal appends the scheduled time: runs are `cron:<id>-<RFC 3339 time>`.
      workflowId: scheduleId,
      taskQueue: target.taskQueue,
      args: [input],
    },
    policies: {
      overlap: OVERLAP[task.overlap ?? CRON_DEFAULTS.overlap],
      catchupWindow: parseDuration(task.catchupWindow ?? CRON_DEFAULTS.catchupWindow)!,
      pauseOnFailure: task.pauseOnFailure ?? CRON_DEFAULTS.pauseOnFailure,
    },
    memo: { ...OWNER_MEMO, createdBy: source },
    state: {
      paused: task.enabled === false,
      ...(task.enabled === false ? { note: 'disabled (enabled: false)' } : {}),
      // A one-shot fires once; a manual `cron run` still works after that.
      ...(task.schedule.kind === 'at' ? { remainingActions: 1 } : {}),
    },
  };
  return { scheduleId, options, input };
}

export function specOf(task: CronTask): ScheduleSpec {
  const { schedule } = task;
  switch (schedule.kind) {
    case 'at': {
      const ms = parseAt(schedule.at);
      if (typeof ms === 'string') throw new Error(`schedule.at: ${ms}`);
      const d = new Date(ms);
      const once: CalendarSpec = {
        year: d.getUTCFullYear(),
        month: MONTHS[d.getUTCMonth()]!,
        dayOfMonth: d.getUTCDate(),
        hour: d.getUTCHours(),
        minute: d.getUTCMinutes(),
        second: d.getUTCSeconds(),
        comment: `at ${schedule.at}`,
      };
      return { calendars: [once], timezone: 'UTC' };
    }
    case 'every':
      return {
        intervals: [{ every: schedule.everyMs, offset: (schedule.anchorMs ?? 0) % schedule.everyMs }],
      };
    case 'cron':
      return {
        cronExpressions: [temporalCron(schedule.expr)],
        timezone: schedule.tz ?? 'UTC',
        ...(schedule.staggerMs ? { jitter: schedule.staggerMs } : {}),
      };
  }
}

/**
 * OpenClaw (croner) reads 6 fields as seconds-first; Temporal reads 6 fields as year-last and
 * 7 as seconds-first with a year. So a 6-field expression gets an explicit any-year field.
 */
export function temporalCron(expr: string): string {
  const text = expr.trim();
  if (text.startsWith('@')) return text;
  const parts = text.split(/\s+/);
  return parts.length === 6 ? [...parts, '*'].join(' ') : parts.join(' ');
}
