/**
 * OpenClaw's `cron.*` gateway methods on Switchyard's proactive tasks (Temporal Schedules). An
 * OpenClaw `CronJob` is mapped to a Switchyard `CronTask` on the way in and back on the way out;
 * a task IS its Schedule, so nothing is stored here. What Switchyard cannot do (schedule kinds
 * `on-exit`/`stream`, payload kinds other than agentTurn/systemEvent, `wakeMode: next-heartbeat`,
 * delivery to the `last` channel, …) answers INVALID_REQUEST naming the field — never silence.
 * See docs/cron.md ("From OpenClaw's apps and CLI").
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
import { type CronRun, listRuns } from '../../client/cron/runs.js';
import { buildSchedule } from '../../client/cron/spec.js';
import {
  type CronDelivery,
  type CronDestination,
  type CronPayload,
  type CronSchedule,
  type CronTask,
  scheduleIdOf,
  taskIdOf,
} from '../../config/cron-task.js';
import { assertCronTask, CronTaskError } from '../../config/cron-validate.js';
import type { ScheduledTaskInput, ScheduledTaskResult } from '../../workflows/schedule/schedule-api.js';
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
type RunStatus = 'ok' | 'error' | 'skipped';
type DeliveryStatus = 'delivered' | 'not-delivered' | 'unknown' | 'not-requested';

/** A task as this module sees it: the Schedule's description and the definition it carries. */
interface Owned {
  id: string;
  description: ScheduleDescription;
  input: ScheduledTaskInput;
}

// ───────────────────────────── errors ─────────────────────────────

function unsupported(field: string, why: string): never {
  throw new GatewayMethodError('INVALID_REQUEST', `${field} is not supported by Switchyard: ${why}`, {
    field,
  });
}

function notFound(jobId: string): GatewayMethodError {
  return new GatewayMethodError('INVALID_REQUEST', `no cron job '${jobId}'`, {
    code: 'CRON_JOB_NOT_FOUND',
    jobId,
  });
}

/** Switchyard validation errors name Switchyard's fields; a webhook's `url` is OpenClaw's `to`. */
function invalidTask(error: CronTaskError): GatewayMethodError {
  const rename = (path: string) => path.replace(/(delivery(?:\.failureDestination)?)\.url$/, '$1.to');
  const issues = error.issues.map((i) => ({ path: rename(i.path), message: i.message }));
  const text = issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ');
  return new GatewayMethodError('INVALID_REQUEST', `invalid cron job: ${text}`, { issues });
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

// ───────────────────────────── OpenClaw → Switchyard ─────────────────────────────

/** A value that means "not set" (or the default): absent, null or false. */
const isUnset = (v: unknown) => v === undefined || v === null || v === false;

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Job-level fields OpenClaw has and Switchyard does not, and why. */
const UNSUPPORTED_JOB_FIELDS: Record<string, string> = {
  declarationKey: 'declare tasks in switchyard.yaml (cron.tasks) instead',
  displayName: 'a task has one name: use name',
  owner: 'tasks have no owner record',
  pacing: 'dynamic cadence is not available: use an every or cron schedule',
  trigger: 'condition scripts are not available: every occurrence runs',
  sessionKey:
    "a task is not bound to the session that created it: use sessionTarget 'main' or 'session:<key>'",
  deleteAfterRun:
    "a one-shot ('at') task stays after it ran, with its history; remove it with cron.remove (or send deleteAfterRun: false)",
  failureAlert:
    'alerts after N failures are not available: every failed run is reported to delivery.failureDestination',
  state: 'run state is kept by Temporal and cannot be edited',
};

function rejectUnsupportedJobFields(job: Obj, prefix = '') {
  for (const [key, why] of Object.entries(UNSUPPORTED_JOB_FIELDS)) {
    const value = job[key];
    if (key === 'state' && value && typeof value === 'object' && Object.keys(value).length === 0) continue;
    if (!isUnset(value)) unsupported(`${prefix}${key}`, why);
  }
}

/** OpenClaw reads an `at` time without an offset as UTC; Switchyard wants the offset spelled out. */
function withZone(at: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(at.trim()) ? `${at.trim()}Z` : at;
}

export function scheduleFromOpenclaw(schedule: Obj): CronSchedule {
  switch (schedule.kind) {
    case 'at':
      return { kind: 'at', at: withZone(String(schedule.at)) };
    case 'every':
      return compact({
        kind: 'every' as const,
        everyMs: schedule.everyMs as number,
        anchorMs: schedule.anchorMs as number | undefined,
      });
    case 'cron':
      return compact({
        kind: 'cron' as const,
        expr: String(schedule.expr),
        tz: (schedule.tz as string | undefined) || undefined,
        staggerMs: (schedule.staggerMs as number | undefined) || undefined,
      });
    default:
      return unsupported(
        'schedule.kind',
        `'${String(schedule.kind)}' is not available on Temporal Schedules: use at, every or cron`,
      );
  }
}

const PAYLOAD_FIELDS: Record<string, Record<string, string>> = {
  agentTurn: {
    fallbacks: "per-task model fallbacks are not available: configure them on the agent's model",
    toolsAllow: 'per-task tool allow-lists are not available',
    allowUnsafeExternalContent: 'not available',
    lightContext: 'not available',
  },
  systemEvent: { toolsAllow: 'per-task tool allow-lists are not available' },
};

export function payloadFromOpenclaw(payload: Obj): CronPayload {
  const kind = payload.kind;
  if (kind !== 'agentTurn' && kind !== 'systemEvent') {
    return unsupported(
      'payload.kind',
      `'${String(kind)}' is not available: Switchyard runs agentTurn and systemEvent payloads`,
    );
  }
  for (const [key, why] of Object.entries(PAYLOAD_FIELDS[kind]!)) {
    if (!isUnset(payload[key])) unsupported(`payload.${key}`, why);
  }
  if (kind === 'systemEvent') return { kind, text: payload.text as string };
  return compact({
    kind,
    message: payload.message as string,
    model: (payload.model as string | null | undefined) ?? undefined,
    thinking: (payload.thinking as string | null | undefined) ?? undefined,
    timeoutSeconds: payload.timeoutSeconds as number | undefined,
  });
}

export function sessionTargetFromOpenclaw(target: unknown): string {
  if (target === 'main' || target === 'isolated') return target;
  if (typeof target === 'string' && target.startsWith('session:')) return target.slice('session:'.length);
  return unsupported(
    'sessionTarget',
    `'${String(target)}' (the session creating the job) is not available: name it as 'session:<key>', or use 'main' or 'isolated'`,
  );
}

function checkWakeMode(wakeMode: unknown) {
  if (wakeMode !== undefined && wakeMode !== 'now') {
    unsupported(
      'wakeMode',
      `'${String(wakeMode)}': a Switchyard task runs (and hands its text to a session) when it fires; use 'now'`,
    );
  }
}

function destinationFromOpenclaw(
  d: Obj,
  path: string,
  fallbackMode: 'announce' | 'webhook',
): CronDestination {
  if (d.channel === 'last') {
    unsupported(
      `${path}.channel`,
      "'last' (the chat last talked in) is not available for scheduled tasks: name the channel and chat id",
    );
  }
  const mode = (d.mode as 'announce' | 'webhook' | null | undefined) ?? fallbackMode;
  if (mode === 'webhook') return compact({ mode, url: (d.to as string | null | undefined) ?? undefined });
  return compact({
    mode,
    channel: (d.channel as string | null | undefined) ?? undefined,
    to: (d.to as string | null | undefined) ?? undefined,
    accountId: (d.accountId as string | null | undefined) ?? undefined,
    threadId: d.threadId === undefined || d.threadId === null ? undefined : String(d.threadId),
  });
}

export function deliveryFromOpenclaw(delivery: Obj | undefined): CronDelivery | undefined {
  if (!delivery) return undefined;
  if (!isUnset(delivery.bestEffort)) {
    unsupported(
      'delivery.bestEffort',
      'a delivery that fails fails the run (and is reported to failureDestination)',
    );
  }
  if (!isUnset(delivery.completionDestination)) {
    unsupported('delivery.completionDestination', 'use delivery mode webhook for the result');
  }
  const failure = delivery.failureDestination as Obj | null | undefined;
  const failureDestination = failure
    ? destinationFromOpenclaw(failure, 'delivery.failureDestination', 'announce')
    : undefined;
  const mode = (delivery.mode as CronDelivery['mode'] | undefined) ?? 'announce';
  if (mode === 'none') return compact({ mode, failureDestination });
  const { mode: _mode, ...target } = destinationFromOpenclaw(delivery, 'delivery', mode);
  return compact({ mode, ...target, failureDestination });
}

/** The task an OpenClaw `cron.add` describes (validated by the caller). */
export function taskFromOpenclaw(params: Obj, id: string): CronTask {
  rejectUnsupportedJobFields(params);
  checkWakeMode(params.wakeMode);
  return compact({
    id,
    name: params.name as string,
    description: (params.description as string | undefined) || undefined,
    enabled: params.enabled === false ? false : undefined,
    agentId: (params.agentId as string | null | undefined) ?? undefined,
    schedule: scheduleFromOpenclaw(params.schedule as Obj),
    payload: payloadFromOpenclaw(params.payload as Obj),
    sessionTarget: sessionTargetFromOpenclaw(params.sessionTarget),
    delivery: deliveryFromOpenclaw(params.delivery as Obj | undefined),
  });
}

/** Applies an OpenClaw patch (null clears a field) to a task; Switchyard-only fields are kept. */
export function patchTask(task: CronTask, patch: Obj): CronTask {
  rejectUnsupportedJobFields(patch, 'patch.');
  checkWakeMode(patch.wakeMode);
  const next: CronTask = { ...task };
  if (patch.name !== undefined) next.name = patch.name as string;
  if (patch.description !== undefined) next.description = (patch.description as string) || undefined;
  if (patch.enabled !== undefined) next.enabled = patch.enabled === false ? false : undefined;
  if (patch.agentId !== undefined) next.agentId = (patch.agentId as string | null) ?? undefined;
  if (patch.schedule) next.schedule = scheduleFromOpenclaw(patch.schedule as Obj);
  if (patch.sessionTarget !== undefined) next.sessionTarget = sessionTargetFromOpenclaw(patch.sessionTarget);
  if (patch.payload) {
    const p = patch.payload as Obj;
    // Same kind: merge into what is there; a pipeline task's payload has no OpenClaw form to merge into.
    const base = p.kind === task.payload.kind ? (payloadToOpenclaw(task.payload) as Obj) : {};
    next.payload = payloadFromOpenclaw(withoutNulls({ ...base, ...p }));
  }
  if (patch.delivery !== undefined) {
    const d = patch.delivery as Obj | null;
    const current = task.delivery ? (deliveryToOpenclaw(task.delivery) as Obj) : {};
    const merged = d === null ? undefined : withoutNulls({ ...current, ...d });
    if (merged && d?.failureDestination !== undefined) {
      const fd = d.failureDestination as Obj | null;
      const currentFd = (current.failureDestination as Obj | undefined) ?? {};
      merged.failureDestination = fd === null ? undefined : withoutNulls({ ...currentFd, ...fd });
    }
    next.delivery = deliveryFromOpenclaw(merged);
  }
  return compact(next);
}

function withoutNulls(value: Obj): Obj {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

// ───────────────────────────── Switchyard → OpenClaw ─────────────────────────────

function scheduleToOpenclaw(schedule: CronSchedule): CronJob['schedule'] {
  return compact({ ...schedule }) as CronJob['schedule'];
}

/** A pipeline payload has no OpenClaw form: it shows as an agentTurn naming the pipeline. */
function payloadToOpenclaw(payload: CronPayload): CronJob['payload'] {
  switch (payload.kind) {
    case 'agentTurn':
      return compact({ ...payload });
    case 'systemEvent':
      return { kind: 'systemEvent', text: payload.text };
    case 'pipeline':
      return {
        kind: 'agentTurn',
        message: `[Switchyard pipeline '${payload.name}'${payload.inputs ? ` with inputs ${JSON.stringify(payload.inputs)}` : ''}]`,
      };
  }
}

function destinationToOpenclaw(d: CronDestination, fallbackMode: 'announce' | 'webhook'): Obj {
  const mode = d.mode ?? (d.url ? 'webhook' : fallbackMode);
  if (mode === 'webhook') return compact({ mode, to: d.url });
  return compact({ mode, channel: d.channel, to: d.to, accountId: d.accountId, threadId: d.threadId });
}

function deliveryToOpenclaw(delivery: CronDelivery): NonNullable<CronJob['delivery']> {
  const failureDestination = delivery.failureDestination
    ? destinationToOpenclaw(delivery.failureDestination, 'announce')
    : undefined;
  const { mode, failureDestination: _fd, ...target } = delivery;
  const main = mode === 'none' ? { mode } : destinationToOpenclaw({ ...target, mode }, mode);
  return compact({ ...main, failureDestination }) as NonNullable<CronJob['delivery']>;
}

function sessionTargetToOpenclaw(target: string | undefined): CronJob['sessionTarget'] {
  const t = target ?? 'isolated';
  return t === 'main' || t === 'isolated' ? t : `session:${t}`;
}

function deliveryPreview(delivery: CronDelivery | undefined): { label: string; detail: string } {
  if (!delivery || delivery.mode === 'none') return { label: 'none', detail: 'the result is not delivered' };
  if (delivery.mode === 'webhook') return { label: 'webhook', detail: `POST ${delivery.url ?? ''}` };
  return {
    label: `announce → ${delivery.channel ?? '?'}`,
    detail: `chat ${delivery.to ?? '?'}${delivery.threadId ? ` (thread ${delivery.threadId})` : ''}`,
  };
}

// ───────────────────────────── the service ─────────────────────────────

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
    const { task } = input;
    const createdAtMs = description.info.createdAt.getTime();
    return compact({
      id,
      name: task.name || id,
      description: task.description,
      enabled: task.enabled !== false && !description.state.paused,
      agentId: task.agentId ?? 'main',
      createdAtMs,
      updatedAtMs: description.info.lastUpdatedAt?.getTime() ?? createdAtMs,
      schedule: scheduleToOpenclaw(task.schedule),
      sessionTarget: sessionTargetToOpenclaw(task.sessionTarget),
      wakeMode: 'now' as const,
      payload: payloadToOpenclaw(task.payload),
      delivery: deliveryToOpenclaw(task.delivery ?? { mode: 'none' }),
      state: await runState(description, task),
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

  function runEntry(run: CronRun, jobId: string, task: CronTask, jobName?: string): Obj {
    const status: RunStatus = run.status === 'ok' ? 'ok' : run.status === 'skipped' ? 'skipped' : 'error';
    const requested = (task.delivery?.mode ?? 'none') !== 'none';
    const deliveryStatus: DeliveryStatus = !requested
      ? 'not-requested'
      : run.delivered
        ? 'delivered'
        : 'not-delivered';
    return compact({
      ts: (run.closedAt ?? run.startedAt).getTime(),
      jobId,
      action: 'finished',
      status,
      error: status === 'error' ? (run.error ?? `the run ended ${run.status}`) : undefined,
      summary: run.text,
      delivered: run.delivered,
      deliveryStatus,
      deliveryError: requested && !run.delivered ? run.deliveryNote : undefined,
      runId: run.workflowId,
      runAtMs: (run.scheduledAt ?? run.startedAt).getTime(),
      durationMs: run.durationMs === undefined ? undefined : Math.max(0, Math.round(run.durationMs)),
      jobName,
    });
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
        const slug = String(p.name)
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 40);
        const id = `${slug || 'job'}-${randomUUID().slice(0, 8)}`;
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
              entries.push(runEntry(run, job.id, job.input.task, name));
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
