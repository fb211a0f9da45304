/**
 * The heartbeat (OpenClaw's convention): a periodic agent turn that reads HEARTBEAT.md from the
 * agent's workspace. Off by default. An empty checklist skips the turn; a `HEARTBEAT_OK` reply
 * is not delivered (workflows/schedule/schedule-api.ts `isHeartbeatAck`).
 */
import { join } from 'node:path';
import {
  CRON_DEFAULTS,
  type CronConfig,
  type CronTask,
  type HeartbeatConfig,
} from '../../config/cron-task.js';
import { parseDuration } from '../../engine/duration.js';
import type { DesiredTask } from './reconcile.js';

export const HEARTBEAT_TASK_ID = 'heartbeat';

export const DEFAULT_HEARTBEAT_PROMPT =
  'Heartbeat: read the checklist below and act on anything that needs attention now. ' +
  'If nothing needs attention, reply exactly HEARTBEAT_OK.';

/** The heartbeat as a task, or undefined when it is off. `workspace` is the agent's workspace dir. */
export function heartbeatTask(
  config: HeartbeatConfig | undefined,
  workspace: string,
): DesiredTask | undefined {
  if (!config?.enabled) return undefined;
  const everyMs = parseDuration(config.every ?? CRON_DEFAULTS.heartbeatEvery)!;
  const task: CronTask = {
    id: HEARTBEAT_TASK_ID,
    name: 'Heartbeat',
    agentId: config.agentId ?? CRON_DEFAULTS.agentId,
    schedule: { kind: 'every', everyMs },
    payload: { kind: 'agentTurn', message: 'heartbeat' },
    sessionTarget: 'isolated',
    delivery: config.delivery ?? { mode: 'none' },
    overlap: 'skip',
    // A missed heartbeat is not worth running late: only the most recent one counts.
    catchupWindow: Math.max(10_000, Math.min(everyMs, 3_600_000)),
  };
  return {
    task,
    source: 'heartbeat',
    heartbeat: {
      file: config.file ?? join(workspace, 'HEARTBEAT.md'),
      prompt: config.prompt ?? DEFAULT_HEARTBEAT_PROMPT,
      ackMaxChars: config.ackMaxChars ?? CRON_DEFAULTS.heartbeatAckMaxChars,
    },
  };
}

/** Everything the `cron:` section declares, ready for reconcileSchedules. */
export function declaredTasks(config: CronConfig | undefined, workspace: string): DesiredTask[] {
  const tasks: DesiredTask[] = (config?.tasks ?? []).map((task) => ({ task, source: 'config' }));
  const heartbeat = heartbeatTask(config?.heartbeat, workspace);
  return heartbeat ? [...tasks, heartbeat] : tasks;
}
