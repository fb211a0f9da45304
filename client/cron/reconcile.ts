/**
 * Makes Temporal's Schedules match the declared tasks (switchyard.yaml `cron:`), on start and on
 * every config reload. Idempotent: a task whose definition hash is unchanged is not touched, so
 * repeated reloads change nothing. Only Schedules Switchyard owns (id `cron:…` and the owner memo)
 * are ever touched, and only those that came from config are deleted: tasks added at run time
 * (CLI, gateway, the agent's `cron` tool) survive a reload.
 */
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleNotFoundError,
} from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { type CronTask, type CronTaskSource, SCHEDULE_ID_PREFIX, taskIdOf } from '../../config/cron-task.js';
import { assertCronTask } from '../../config/cron-validate.js';
import type { HeartbeatRun, ScheduledTaskInput } from '../../workflows/schedule/schedule-api.js';
import { type BuiltSchedule, buildSchedule, OWNER_MEMO, type ScheduleTarget } from './spec.js';

/** A task as reconcile wants it; a bare CronTask counts as declared in config. */
export interface DesiredTask {
  task: CronTask;
  source?: CronTaskSource;
  heartbeat?: HeartbeatRun;
}

export interface ReconcileResult {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
}

/** Creates, updates and deletes Schedules to match `desired`; returns task ids by what happened. */
export async function reconcileSchedules(
  client: Client,
  desired: ReadonlyArray<CronTask | DesiredTask>,
  target: ScheduleTarget,
): Promise<ReconcileResult> {
  const result: ReconcileResult = { created: [], updated: [], deleted: [], unchanged: [] };
  const wanted = new Map<string, BuiltSchedule>();
  for (const entry of desired) {
    const d: DesiredTask = 'task' in entry ? entry : { task: entry };
    const task = assertCronTask(d.task, `cron task '${d.task.id}'`);
    wanted.set(task.id, buildSchedule(task, d.source ?? 'config', target, d.heartbeat));
  }

  for (const [taskId, built] of wanted) {
    const outcome = await applySchedule(client, built);
    result[outcome].push(taskId);
  }

  // Listing is eventually consistent: it finds what to delete, describe() confirms each.
  for (const scheduleId of await ownedScheduleIds(client)) {
    const taskId = taskIdOf(scheduleId)!;
    if (wanted.has(taskId)) continue;
    const handle = client.schedule.getHandle(scheduleId);
    const description = await describeOrUndefined(client, scheduleId);
    if (!description || !isOwned(description)) continue;
    // Another installation (another task queue) sharing this namespace owns its own schedules.
    if (description.action.type !== 'startWorkflow' || description.action.taskQueue !== target.taskQueue)
      continue;
    const source = inputOf(description)?.source;
    if (source !== 'config' && source !== 'heartbeat') continue;
    await handle.delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    result.deleted.push(taskId);
  }
  return result;
}

/** Creates the Schedule, or updates it in place when its definition changed. */
export async function applySchedule(
  client: Client,
  built: BuiltSchedule,
): Promise<'created' | 'updated' | 'unchanged'> {
  const existing = await describeOrUndefined(client, built.scheduleId);
  if (!existing) {
    try {
      await client.schedule.create(built.options);
      return 'created';
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      // Created concurrently (another gateway, a second reload): update it below instead.
    }
  }
  const current = existing ?? (await client.schedule.getHandle(built.scheduleId).describe());
  if (!isOwned(current)) {
    throw new Error(
      `Schedule ${built.scheduleId} exists but was not created by Switchyard (no owner memo): ` +
        'rename the task or delete that Schedule (temporal schedule delete)',
    );
  }
  const before = inputOf(current);
  if (before?.definitionHash === built.input.definitionHash) return 'unchanged';
  await updateSchedule(client, built, before);
  return 'updated';
}

/** Replaces spec, action and policies; keeps a run-time pause unless `enabled` itself changed. */
export async function updateSchedule(
  client: Client,
  built: BuiltSchedule,
  before: ScheduledTaskInput | undefined,
): Promise<void> {
  const { spec, action, policies, state } = built.options;
  const enabledChanged = (before?.task.enabled !== false) !== (built.input.task.enabled !== false);
  await client.schedule.getHandle(built.scheduleId).update((previous) => ({
    spec,
    action,
    policies: policies ?? previous.policies,
    state: {
      paused: enabledChanged ? (state?.paused ?? false) : previous.state.paused,
      note: enabledChanged ? (state?.note ?? 'enabled') : previous.state.note,
      ...(state?.remainingActions !== undefined ? { remainingActions: state.remainingActions } : {}),
    },
  }));
}

/**
 * Ids of Schedules that look like ours (prefix and memo), from the (eventually consistent) list.
 * Read raw and decoded one memo at a time: a namespace can hold other installs' Schedules whose
 * memos are encrypted with keys this process lacks (docs/encryption.md), and the SDK's list()
 * would throw on the first of those. A memo this process cannot read is not one it wrote.
 */
export async function ownedScheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listSchedules({
      namespace: client.options.namespace,
      maximumPageSize: 1000,
      nextPageToken,
    });
    for (const entry of page.schedules ?? []) {
      const scheduleId = entry.scheduleId ?? '';
      if (!scheduleId.startsWith(SCHEDULE_ID_PREFIX)) continue;
      const owner = entry.memo?.fields?.switchyard;
      if (owner && (await readMemoField(client, owner)) !== OWNER_MEMO.switchyard) continue;
      ids.push(scheduleId);
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return ids;
}

/** One memo value through the client's codecs and converter; undefined when it cannot be read. */
async function readMemoField(client: Client, payload: Payload): Promise<unknown> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  try {
    let payloads = [payload];
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    return payloads[0] ? payloadConverter.fromPayload(payloads[0]) : undefined;
  } catch {
    return undefined;
  }
}

export function isOwned(description: Pick<ScheduleDescription, 'memo' | 'scheduleId'>): boolean {
  return (
    description.scheduleId.startsWith(SCHEDULE_ID_PREFIX) &&
    description.memo?.switchyard === OWNER_MEMO.switchyard
  );
}

/** The scheduled workflow's input, which carries the task definition. */
export function inputOf(description: ScheduleDescription): ScheduledTaskInput | undefined {
  const args = description.action.type === 'startWorkflow' ? description.action.args : undefined;
  const input = args?.[0] as ScheduledTaskInput | undefined;
  return input && typeof input === 'object' && 'task' in input ? input : undefined;
}

export async function describeOrUndefined(
  client: Client,
  scheduleId: string,
): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}
