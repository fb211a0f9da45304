/**
 * Proactive tasks on Temporal Schedules: the task model, validation, reconcile from config,
 * management (CLI, gateway methods), runs, the heartbeat and the agent's `cron` tool.
 * See docs/cron.md.
 */
export { createCronTool, createReminder, type ReminderOrigin, type ReminderRequest } from './agent-tool.js';
export { DEFAULT_HEARTBEAT_PROMPT, declaredTasks, HEARTBEAT_TASK_ID, heartbeatTask } from './heartbeat.js';
export {
  addTask,
  backfillTask,
  type ChangeResult,
  type CronContext,
  CronTaskExistsError,
  CronTaskNotFoundError,
  type CronTaskView,
  editTask,
  listTasks,
  pauseTask,
  removeTask,
  resumeTask,
  runTask,
  showTask,
} from './manage.js';
export { type DesiredTask, type ReconcileResult, reconcileSchedules } from './reconcile.js';
export { type CronRun, type CronRunStatus, type CronRuns, listRuns } from './runs.js';
export { buildSchedule, OWNER_MEMO, type ScheduleTarget, specOf, temporalCron } from './spec.js';
export * from './task.js';
export {
  assertCronTask,
  CronTaskError,
  cronExpressionProblem,
  cronSchema,
  validateCronConfig,
  validateCronTask,
} from './validate.js';
