/**
 * Validation of tasks at the door (config file, CLI, gateway methods, the agent tool): the JSON
 * Schema first, then what a schema cannot say — a cron expression field by field (croner),
 * the time zone, the `at` timestamp, and combinations that cannot work.
 */
import { Cron } from 'croner';
import { compileSchema, type SchemaIssue, type Validated } from '../channels/schema-validation.js';
import { parseDuration } from '../engine/duration.js';
import cronSchema from '../schemas/cron.schema.json' with { type: 'json' };
import type { CronConfig, CronTask } from './cron-task.js';

export type { SchemaIssue, Validated };
export { cronSchema };

// Compiled without $id: the config loader registers the schema under its $id in its own Ajv.
const { $id: _id, $schema: _draft, ...configSchema } = cronSchema;
const checkTaskSchema = compileSchema<CronTask>({ $defs: cronSchema.$defs, $ref: '#/$defs/task' });
const checkConfigSchema = compileSchema<CronConfig>(configSchema);

/** Thrown by management functions for a task that does not validate; `issues` name each field. */
export class CronTaskError extends Error {
  constructor(
    readonly issues: SchemaIssue[],
    where = 'cron task',
  ) {
    super(
      `${where} is not valid:\n${issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`,
    );
    this.name = 'CronTaskError';
  }
}

export function validateCronTask(value: unknown): Validated<CronTask> {
  const schema = checkTaskSchema(value);
  if (!schema.ok) return schema;
  const issues = semanticIssues(schema.value, '');
  return issues.length > 0 ? { ok: false, errors: issues } : schema;
}

/** The whole `cron:` section; task ids must be unique. */
export function validateCronConfig(value: unknown): Validated<CronConfig> {
  const schema = checkConfigSchema(value ?? {});
  if (!schema.ok) return schema;
  const issues: SchemaIssue[] = [];
  const seen = new Map<string, number>();
  (schema.value.tasks ?? []).forEach((task, i) => {
    const first = seen.get(task.id);
    if (first !== undefined) {
      issues.push({ path: `tasks[${i}].id`, message: `'${task.id}' is already used by tasks[${first}]` });
    }
    seen.set(task.id, i);
    issues.push(...semanticIssues(task, `tasks[${i}]`));
  });
  if (schema.value.tasks?.some((t) => t.id === 'heartbeat') && schema.value.heartbeat?.enabled) {
    issues.push({ path: 'tasks', message: "the id 'heartbeat' is reserved for cron.heartbeat" });
  }
  return issues.length > 0 ? { ok: false, errors: issues } : schema;
}

/** Throws CronTaskError unless `value` is a valid task. */
export function assertCronTask(value: unknown, where?: string): CronTask {
  const result = validateCronTask(value);
  if (!result.ok) throw new CronTaskError(result.errors, where);
  return result.value;
}

const CRON_FIELDS_5 = ['minute', 'hour', 'day of month', 'month', 'day of week'];
const CRON_FIELDS_6 = ['second', ...CRON_FIELDS_5];

/**
 * Why a cron expression is wrong, naming the field (`hour '25': ...`), or undefined when it is
 * fine. Each field is checked on its own against a pattern that is otherwise all wildcards.
 */
export function cronExpressionProblem(expr: string): string | undefined {
  const text = expr.trim();
  if (text.startsWith('@')) {
    return /^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(text)
      ? undefined
      : `unknown shorthand '${text}': use @yearly, @monthly, @weekly, @daily or @hourly`;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return `has ${parts.length} field${parts.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)`;
  }
  const names = parts.length === 5 ? CRON_FIELDS_5 : CRON_FIELDS_6;
  for (const [i, part] of parts.entries()) {
    const probe = parts.map((p, j) => (j === i ? p : j === 0 && parts.length === 6 ? '0' : '*')).join(' ');
    try {
      new Cron(probe, { paused: true });
    } catch (error) {
      const reason = (error as Error).message.replace(/^CronPattern:\s*/, '');
      return `${names[i]} field '${part}' (field ${i + 1}) is not valid: ${reason}`;
    }
  }
  try {
    new Cron(text, { paused: true });
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern:\s*/, '');
  }
  return undefined;
}

export function timeZoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `'${tz}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`;
  }
}

/** Milliseconds of an ISO 8601 timestamp that names its offset, or a reason it is not one. */
export function parseAt(at: string): number | string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(at.trim())) {
    return `'${at}' is not an ISO 8601 timestamp with a time zone (e.g. 2026-12-24T09:00:00+01:00 or …Z)`;
  }
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? `'${at}' is not a real date and time` : ms;
}

function semanticIssues(task: CronTask, base: string): SchemaIssue[] {
  const at = (field: string) => (base ? `${base}.${field}` : field);
  const issues: SchemaIssue[] = [];
  const { schedule, payload } = task;
  if (schedule.kind === 'cron') {
    const problem = cronExpressionProblem(schedule.expr);
    if (problem) issues.push({ path: at('schedule.expr'), message: problem });
    if (schedule.tz) {
      const tz = timeZoneProblem(schedule.tz);
      if (tz) issues.push({ path: at('schedule.tz'), message: tz });
    }
  } else if (schedule.kind === 'at') {
    const parsed = parseAt(schedule.at);
    if (typeof parsed === 'string') issues.push({ path: at('schedule.at'), message: parsed });
  } else if (schedule.kind === 'every' && schedule.everyMs % 1000 !== 0) {
    issues.push({
      path: at('schedule.everyMs'),
      message: `must be whole seconds (Temporal Schedules count in seconds), got ${schedule.everyMs}`,
    });
  }
  if (task.catchupWindow !== undefined) {
    const ms = parseDuration(task.catchupWindow);
    if (ms !== undefined && ms < 10_000) {
      issues.push({
        path: at('catchupWindow'),
        message: `must be at least 10s (Temporal's minimum), got ${JSON.stringify(task.catchupWindow)}`,
      });
    }
  }
  const target = task.sessionTarget ?? 'isolated';
  if (payload.kind === 'systemEvent' && target === 'isolated') {
    issues.push({
      path: at('sessionTarget'),
      message: "a systemEvent lands in a session: use 'main' or a session key, not 'isolated'",
    });
  }
  if (payload.kind === 'pipeline' && target !== 'isolated') {
    issues.push({ path: at('sessionTarget'), message: "a pipeline payload runs on its own: use 'isolated'" });
  }
  const delivery = task.delivery;
  if (delivery && delivery.mode !== 'none' && target !== 'isolated') {
    issues.push({
      path: at('delivery.mode'),
      message: `'${delivery.mode}' needs sessionTarget 'isolated' (a turn in a session answers inside that session)`,
    });
  }
  if (delivery) issues.push(...destinationIssues(delivery, at('delivery')));
  if (delivery?.failureDestination) {
    const fd = delivery.failureDestination;
    const mode = fd.mode ?? (fd.url ? 'webhook' : 'announce');
    issues.push(...destinationIssues({ ...fd, mode }, at('delivery.failureDestination')));
  }
  return issues;
}

function destinationIssues(
  d: { mode: string; channel?: string; to?: string; url?: string },
  path: string,
): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  if (d.mode === 'announce') {
    if (!d.channel)
      issues.push({ path: `${path}.channel`, message: 'is required for announce (e.g. telegram)' });
    if (!d.to) issues.push({ path: `${path}.to`, message: 'is required for announce (the chat id)' });
  }
  if (d.mode === 'webhook' && !d.url) {
    issues.push({ path: `${path}.url`, message: 'is required for webhook (an http(s) URL)' });
  }
  return issues;
}
