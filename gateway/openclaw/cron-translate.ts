/**
 * The two pure translators between OpenClaw's cron jobs and Switchyard's proactive tasks:
 * an OpenClaw `CronJob` (cron.add params, a cron.update patch) becomes a `CronTask`, and a task
 * (with what its Schedule says) becomes a `CronJob`, a run-log entry, a delivery preview. What
 * Switchyard cannot do throws INVALID_REQUEST naming the field. No I/O: the service that talks to
 * Temporal is cron.ts.
 */
import type { CronJob } from '@openclaw/gateway-protocol';
import type { CronRun } from '../../client/cron/runs.js';
import type {
  CronDelivery,
  CronDestination,
  CronPayload,
  CronSchedule,
  CronTask,
} from '../../config/cron-task.js';
import type { CronTaskError } from '../../config/cron-validate.js';
import { GatewayMethodError } from './protocol/services.js';

type Obj = Record<string, unknown>;
export type RunStatus = 'ok' | 'error' | 'skipped';
export type DeliveryStatus = 'delivered' | 'not-delivered' | 'unknown' | 'not-requested';

// ───────────────────────────── errors ─────────────────────────────

function unsupported(field: string, why: string): never {
  throw new GatewayMethodError('INVALID_REQUEST', `${field} is not supported by Switchyard: ${why}`, {
    field,
  });
}

export function notFound(jobId: string): GatewayMethodError {
  return new GatewayMethodError('INVALID_REQUEST', `no cron job '${jobId}'`, {
    code: 'CRON_JOB_NOT_FOUND',
    jobId,
  });
}

/** Switchyard validation errors name Switchyard's fields; a webhook's `url` is OpenClaw's `to`. */
export function invalidTask(error: CronTaskError): GatewayMethodError {
  const rename = (path: string) => path.replace(/(delivery(?:\.failureDestination)?)\.url$/, '$1.to');
  const issues = error.issues.map((i) => ({ path: rename(i.path), message: i.message }));
  const text = issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; ');
  return new GatewayMethodError('INVALID_REQUEST', `invalid cron job: ${text}`, { issues });
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

/** A readable, unique task id for a job OpenClaw creates: its name as a slug, then `suffix`. */
export function jobIdFor(name: unknown, suffix: string): string {
  const slug = String(name)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'job'}-${suffix}`;
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

/** What a job's Schedule says beside the task it carries. */
export interface JobSchedule {
  createdAtMs: number;
  updatedAtMs: number;
  paused: boolean;
  state: CronJob['state'];
}

/** The OpenClaw job a task is. */
export function jobFromTask(id: string, task: CronTask, schedule: JobSchedule): CronJob {
  return compact({
    id,
    name: task.name || id,
    description: task.description,
    enabled: task.enabled !== false && !schedule.paused,
    agentId: task.agentId ?? 'main',
    createdAtMs: schedule.createdAtMs,
    updatedAtMs: schedule.updatedAtMs,
    schedule: scheduleToOpenclaw(task.schedule),
    sessionTarget: sessionTargetToOpenclaw(task.sessionTarget),
    wakeMode: 'now' as const,
    payload: payloadToOpenclaw(task.payload),
    delivery: deliveryToOpenclaw(task.delivery ?? { mode: 'none' }),
    state: schedule.state,
  });
}

/** One finished run as an entry of OpenClaw's run log (`cron.runs`). */
export function runLogEntry(run: CronRun, jobId: string, task: CronTask, jobName?: string): Obj {
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

export function deliveryPreview(delivery: CronDelivery | undefined): { label: string; detail: string } {
  if (!delivery || delivery.mode === 'none') return { label: 'none', detail: 'the result is not delivered' };
  if (delivery.mode === 'webhook') return { label: 'webhook', detail: `POST ${delivery.url ?? ''}` };
  return {
    label: `announce → ${delivery.channel ?? '?'}`,
    detail: `chat ${delivery.to ?? '?'}${delivery.threadId ? ` (thread ${delivery.threadId})` : ''}`,
  };
}
