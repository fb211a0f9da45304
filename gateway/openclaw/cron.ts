/**
 * OpenClaw's `cron.*` gateway methods on Switchyard's proactive tasks (Temporal Schedules). A
 * task IS its Schedule, so nothing is stored here: each method reads or changes Schedules, and
 * cron-translate.ts maps an OpenClaw `CronJob` to a Switchyard `CronTask` on the way in and back
 * on the way out. What Switchyard cannot do (schedule kinds `on-exit`/`stream`, payload kinds
 * other than agentTurn/systemEvent, `wakeMode: next-heartbeat`, delivery to the `last` channel,
 * …) answers INVALID_REQUEST naming the field — never silence. See docs/cron.md ("From
 * OpenClaw's apps and CLI").
 */
import { randomUUID } from 'node:crypto';
import type {
  CronAddParams,
  CronJob,
  CronListParams,
  CronRemoveParams,
  CronRunParams,
  CronRunsParams,
  CronUpdateParams,
} from '@openclaw/gateway-protocol';
import { type Client, type ScheduleDescription, WorkflowFailedError } from '@temporalio/client';
import {
  addTask,
  type CronContext,
  CronTaskNotFoundError,
  pauseTask,
  removeTask,
  resumeTask,
  runTask,
} from '../../client/cron/manage.js';
import {
  describeOrUndefined,
  inputOf,
  isOwned,
  ownedScheduleIds,
  updateSchedule,
} from '../../client/cron/reconcile.js';
import { listRuns } from '../../client/cron/runs.js';
import { buildSchedule } from '../../client/cron/spec.js';
import { type CronTask, scheduleIdOf, taskIdOf } from '../../config/cron-task.js';
import { assertCronTask, CronTaskError } from '../../config/cron-validate.js';
import type { ScheduledTaskInput, ScheduledTaskResult } from '../../workflows/schedule/schedule-api.js';
import {
  type DeliveryStatus,
  deliveryPreview,
  invalidTask,
  jobFromTask,
  jobIdFor,
  notFound,
  patchTask,
  type RunStatus,
  runLogEntry,
  taskFromOpenclaw,
} from './cron-translate.js';
import { GatewayMethodError, type GatewayServices, type JsonObject } from './protocol/services.js';
export interface OpenclawCronOptions {
  client: Client;
  /** The task queue scheduled runs go to (config.temporal.taskQueue); only its tasks are listed. */
  taskQueue: string;
  /** A Temporal UI link for a run (not part of OpenClaw's shapes; kept for symmetry with the CLI). */
  uiLink?: CronContext['uiLink'];
  /** As client/cron/spec.ts ScheduleTarget.agentPipeline. */
  agentPipeline?: string;
}

export interface OpenclawCron {
  services: Pick<
    GatewayServices,
    'cronList' | 'cronStatus' | 'cronAdd' | 'cronUpdate' | 'cronRemove' | 'cronRun' | 'cronRuns'
  >;
}

type Obj = Record<string, unknown>;

/** A task as this module sees it: the Schedule's description and the definition it carries. */
interface Owned {
  id: string;
  description: ScheduleDescription;
  input: ScheduledTaskInput;
}

async function translateErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CronTaskError) throw invalidTask(error);
    if (error instanceof CronTaskNotFoundError) throw notFound(error.taskId);
    throw error;
  }
}

export function createOpenclawCron(options: OpenclawCronOptions): OpenclawCron {
  const { client, taskQueue } = options;
  const ctx: CronContext = {
    client,
    target: { taskQueue, ...(options.agentPipeline ? { agentPipeline: options.agentPipeline } : {}) },
    ...(options.uiLink ? { uiLink: options.uiLink } : {}),
  };

  const mine = (description: ScheduleDescription) =>
    isOwned(description) &&
    description.action.type === 'startWorkflow' &&
    description.action.taskQueue === taskQueue;

  async function owned(jobId: string): Promise<Owned> {
    const description = await describeOrUndefined(client, scheduleIdOf(jobId));
    const input = description && mine(description) ? inputOf(description) : undefined;
    if (!description || !input) throw notFound(jobId);
    return { id: jobId, description, input };
  }

  async function allOwned(): Promise<Owned[]> {
    const found: Owned[] = [];
    for (const scheduleId of await ownedScheduleIds(client)) {
      const description = await describeOrUndefined(client, scheduleId);
      const input = description && mine(description) ? inputOf(description) : undefined;
      if (description && input) found.push({ id: taskIdOf(scheduleId)!, description, input });
    }
    return found;
  }

  /** What the last runs say, from the Schedule's recent actions (no visibility query). */
  async function runState(description: ScheduleDescription, task: CronTask): Promise<CronJob['state']> {
    const state: NonNullable<CronJob['state']> = {};
    const paused = description.state.paused;
    const next = description.info.nextActionTimes[0];
    if (!paused && next) state.nextRunAtMs = next.getTime();
    const running = new Set(description.info.runningActions.map((a) => a.workflow.workflowId));
    const actions = [...description.info.recentActions].reverse();
    const current = actions.find((a) => running.has(a.action.workflow.workflowId));
    if (current) state.runningAtMs = current.takenAt.getTime();
    for (const action of actions) {
      const { workflowId, firstExecutionRunId } = action.action.workflow;
      if (running.has(workflowId)) continue;
      const handle = client.workflow.getHandle(workflowId, firstExecutionRunId);
      const info = await handle.describe().catch(() => undefined);
      if (!info || info.status.name === 'RUNNING') continue;
      state.lastRunAtMs = info.startTime.getTime();
      if (info.closeTime)
        state.lastDurationMs = Math.max(0, info.closeTime.getTime() - info.startTime.getTime());
      const requested = (task.delivery?.mode ?? 'none') !== 'none';
      let status: RunStatus = 'error';
      let delivery: DeliveryStatus = requested ? 'not-delivered' : 'not-requested';
      try {
        const result = (await handle.result()) as ScheduledTaskResult;
        status = result.status === 'skipped' ? 'skipped' : 'ok';
        if (result.delivery.mode !== 'none') {
          delivery = result.delivery.delivered ? 'delivered' : 'not-delivered';
          if (!result.delivery.delivered) state.lastDeliveryError = result.delivery.reason;
        }
        state.lastDelivered = result.delivery.delivered;
      } catch (error) {
        state.lastError =
          error instanceof WorkflowFailedError
            ? (error.cause?.message ?? error.message)
            : (error as Error).message;
      }
      state.lastRunStatus = status;
      state.lastStatus = status;
      state.lastDeliveryStatus = delivery;
      break;
    }
    return state;
  }

  async function jobOf({ id, description, input }: Owned): Promise<CronJob> {
    const createdAtMs = description.info.createdAt.getTime();
    return jobFromTask(id, input.task, {
      createdAtMs,
      updatedAtMs: description.info.lastUpdatedAt?.getTime() ?? createdAtMs,
      paused: description.state.paused,
      state: await runState(description, input.task),
    });
  }

  const showJob = async (jobId: string) => jobOf(await owned(jobId));

  /** Temporal's pause is OpenClaw's `enabled`: make the Schedule's state match what was asked. */
  async function applyEnabled(jobId: string, enabled: unknown) {
    if (enabled === undefined) return;
    const { description } = await owned(jobId);
    if (enabled === true && description.state.paused) await resumeTask(ctx, jobId, 'enabled from OpenClaw');
    if (enabled === false && !description.state.paused) await pauseTask(ctx, jobId, 'disabled from OpenClaw');
  }

  return {
    services: {
      async cronStatus() {
        const jobs = await Promise.all((await allOwned()).map(jobOf));
        const next = jobs
          .filter((j) => j.enabled)
          .map((j) => j.state?.nextRunAtMs)
          .filter((t): t is number => typeof t === 'number');
        return {
          enabled: true,
          storage: 'temporal-schedules',
          storePath: `temporal://${client.options.namespace}/schedules?taskQueue=${taskQueue}`,
          jobs: jobs.length,
          enabledJobs: jobs.filter((j) => j.enabled).length,
          nextWakeAtMs: next.length > 0 ? Math.min(...next) : null,
        };
      },

      async cronList(params: CronListParams) {
        const p = params as Obj;
        const enabledFilter = (p.enabled as string | undefined) ?? (p.includeDisabled ? 'all' : 'enabled');
        const query = typeof p.query === 'string' ? p.query.trim().toLowerCase() : '';
        const kind = (p.scheduleKind as string | undefined) ?? 'all';
        const lastRun = (p.lastRunStatus as string | undefined) ?? 'all';
        const all = await Promise.all((await allOwned()).map(async (o) => ({ o, job: await jobOf(o) })));
        const matching = all.filter(({ job }) => {
          if (enabledFilter === 'enabled' && !job.enabled) return false;
          if (enabledFilter === 'disabled' && job.enabled) return false;
          if (kind !== 'all' && job.schedule.kind !== kind) return false;
          if (p.agentId && job.agentId !== p.agentId) return false;
          if (p.trigger === 'conditional') return false;
          if (lastRun !== 'all' && (job.state?.lastRunStatus ?? 'unknown') !== lastRun) return false;
          if (query) {
            const haystack = [job.id, job.name, job.description ?? '', job.agentId ?? '']
              .join(' ')
              .toLowerCase();
            if (!haystack.includes(query)) return false;
          }
          return true;
        });
        const sortBy = (p.sortBy as string | undefined) ?? 'nextRunAtMs';
        const dir = p.sortDir === 'desc' ? -1 : 1;
        const key = (job: CronJob): number | string =>
          sortBy === 'name'
            ? job.name.toLowerCase()
            : sortBy === 'updatedAtMs'
              ? job.updatedAtMs
              : (job.state?.nextRunAtMs ?? Number.MAX_SAFE_INTEGER);
        matching.sort((a, b) => {
          const x = key(a.job);
          const y = key(b.job);
          return (x < y ? -1 : x > y ? 1 : a.job.id.localeCompare(b.job.id)) * dir;
        });
        const total = matching.length;
        const offset = Math.max(0, Math.min(total, (p.offset as number | undefined) ?? 0));
        const limit = Math.max(1, Math.min(200, (p.limit as number | undefined) ?? (total || 50)));
        const page = matching.slice(offset, offset + limit);
        const nextOffset = offset + page.length;
        return {
          jobs: page.map(({ job }) => job),
          total,
          offset,
          limit,
          hasMore: nextOffset < total,
          nextOffset: nextOffset < total ? nextOffset : null,
          deliveryPreviews: Object.fromEntries(
            page.map(({ o }) => [o.id, deliveryPreview(o.input.task.delivery)]),
          ),
        };
      },

      async cronAdd(params: CronAddParams) {
        const p = params as Obj;
        const id = jobIdFor(p.name, randomUUID().slice(0, 8));
        const task = taskFromOpenclaw(p, id);
        await translateErrors(() => addTask(ctx, task, 'runtime'));
        return showJob(id);
      },

      async cronUpdate(params: CronUpdateParams) {
        const p = params as Obj;
        const jobId = (p.id ?? p.jobId) as string;
        const patch = p.patch as Obj;
        const { description, input } = await owned(jobId);
        const task = patchTask(input.task, patch);
        await translateErrors(async () => {
          const valid = assertCronTask(task);
          const built = buildSchedule(valid, input.source, ctx.target, input.heartbeat);
          if (built.input.definitionHash !== input.definitionHash) {
            await updateSchedule(client, built, inputOf(description));
          }
          await applyEnabled(jobId, patch.enabled);
        });
        return showJob(jobId);
      },

      async cronRemove(params: CronRemoveParams) {
        const p = params as Obj;
        const jobId = (p.id ?? p.jobId) as string;
        try {
          await owned(jobId);
        } catch {
          return { ok: true, removed: false };
        }
        await translateErrors(() => removeTask(ctx, jobId));
        return { ok: true, removed: true };
      },

      async cronRun(params: CronRunParams) {
        const p = params as Obj;
        const jobId = (p.id ?? p.jobId) as string;
        const { description } = await owned(jobId);
        const mode = (p.mode as string | undefined) ?? 'force';
        // Temporal starts every due occurrence itself: nothing is ever due and waiting.
        if (mode === 'due') return { ok: true, ran: false, reason: 'not-due' };
        if (mode === 'if-enabled' && description.state.paused)
          return { ok: true, ran: false, reason: 'disabled' };
        const started = await translateErrors(() => runTask(ctx, jobId));
        return { ok: true, enqueued: true, ...(started.workflowId ? { runId: started.workflowId } : {}) };
      },

      async cronRuns(params: CronRunsParams) {
        const p = params as Obj;
        const jobId = (p.id ?? p.jobId) as string | undefined;
        const scope = (p.scope as string | undefined) ?? (jobId ? 'job' : 'all');
        if (scope === 'job' && !jobId) {
          throw new GatewayMethodError('INVALID_REQUEST', 'invalid cron.runs params: missing id');
        }
        const jobs = scope === 'job' ? [await owned(jobId!)] : await allOwned();
        const entries: Obj[] = [];
        const running: JsonObject[] = [];
        for (const job of jobs) {
          const { runs } = await translateErrors(() => listRuns(ctx, job.id, { limit: 1000 }));
          const name = scope === 'all' ? job.input.task.name || job.id : undefined;
          for (const run of runs) {
            if (run.status === 'running') {
              running.push({ jobId: job.id, runId: run.workflowId, runAtMs: run.startedAt.getTime() });
            } else {
              entries.push(runLogEntry(run, job.id, job.input.task, name));
            }
          }
        }
        const statuses = new Set<string>(
          (p.statuses as string[] | undefined) ??
            (p.status && p.status !== 'all' ? [p.status as string] : ['ok', 'error', 'skipped']),
        );
        const deliveryStatuses =
          (p.deliveryStatuses as string[] | undefined) ??
          (p.deliveryStatus ? [p.deliveryStatus as string] : undefined);
        const query = typeof p.query === 'string' ? p.query.trim().toLowerCase() : '';
        const filtered = entries.filter((e) => {
          if (!statuses.has(e.status as string)) return false;
          if (deliveryStatuses && !deliveryStatuses.includes(e.deliveryStatus as string)) return false;
          if (p.runId && e.runId !== p.runId) return false;
          if (query) {
            const text = [e.jobId, e.jobName, e.summary, e.error].filter(Boolean).join(' ').toLowerCase();
            if (!text.includes(query)) return false;
          }
          return true;
        });
        const dir = p.sortDir === 'asc' ? 1 : -1;
        filtered.sort((a, b) => ((a.ts as number) - (b.ts as number)) * dir);
        const total = filtered.length;
        const offset = Math.max(0, Math.min(total, (p.offset as number | undefined) ?? 0));
        const limit = Math.max(1, Math.min(200, (p.limit as number | undefined) ?? 50));
        const page = filtered.slice(offset, offset + limit);
        const nextOffset = offset + page.length;
        return {
          entries: page,
          total,
          offset,
          limit,
          hasMore: nextOffset < total,
          nextOffset: nextOffset < total ? nextOffset : null,
          // Not in OpenClaw's log (it holds finished runs only): runs started and not finished yet.
          running,
        };
      },
    },
  };
}
