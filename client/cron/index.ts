/**
 * Proactive tasks on Temporal Schedules: the task model, validation, reconcile from config,
 * management (CLI, gateway methods), runs and the heartbeat (the agent's `cron` tool is
 * activities/agent/builtin-tools/cron.ts).
 * See docs/cron.md.
 */
export * from '../../config/cron-task.js';
export {
  assertCronTask,
  CronTaskError,
  cronExpressionProblem,
  cronSchema,
  validateCronConfig,
  validateCronTask,
} from '../../config/cron-validate.js';
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
