/**
 * The agent's `cron` tool: "remind me tomorrow at 9 to call mum" becomes a one-shot (or
 * recurring) task that announces to the chat the request came from. A retried tool call
 * creates the same task (its id derives from the call's idempotency key), never a second one.
 */
import { createHash } from 'node:crypto';
import { addTask, type CronContext, CronTaskExistsError, showTask } from '../../../client/cron/manage.js';
import type { CronDestination, CronSchedule, CronTask } from '../../../config/cron-task.js';
import type { AgentToolDefinition } from '../tools.js';

export interface ReminderRequest {
  /** What to remind the user of. */
  text: string;
  /** ISO 8601 time with an offset, for a one-shot. */
  at?: string;
  /** Seconds from now, for a one-shot ("in 10 minutes"). */
  delaySeconds?: number;
  /** A 5-field cron expression, for a recurring reminder. */
  cron?: string;
  tz?: string;
}

/** Where the reminder is announced: the chat the request came from. */
export type ReminderOrigin = Required<Pick<CronDestination, 'channel' | 'to'>> &
  Pick<CronDestination, 'accountId' | 'threadId'> & { agentId?: string };

export interface ReminderCreated {
  taskId: string;
  nextRunAt?: string;
  summary: string;
}

/** Creates the reminder task; `key` makes repeated calls (retries) create it once. */
export async function createReminder(
  ctx: CronContext,
  request: ReminderRequest,
  origin: ReminderOrigin,
  key: string = `${Date.now()}-${Math.random()}`,
  now: () => number = Date.now,
): Promise<ReminderCreated> {
  const ways = [request.at, request.delaySeconds, request.cron].filter((w) => w !== undefined).length;
  if (ways !== 1) throw new Error('give exactly one of at (ISO time), delaySeconds or cron');
  let schedule: CronSchedule;
  if (request.cron)
    schedule = { kind: 'cron', expr: request.cron, ...(request.tz ? { tz: request.tz } : {}) };
  else if (request.at) schedule = { kind: 'at', at: request.at };
  else
    schedule = { kind: 'at', at: new Date(now() + Math.max(1, request.delaySeconds!) * 1000).toISOString() };

  const taskId = `reminder-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
  const task: CronTask = {
    id: taskId,
    name: `Reminder: ${request.text.slice(0, 60)}`,
    agentId: origin.agentId ?? 'main',
    schedule,
    payload: { kind: 'agentTurn', message: `Remind the user: ${request.text}` },
    sessionTarget: 'isolated',
    delivery: {
      mode: 'announce',
      channel: origin.channel,
      to: origin.to,
      ...(origin.accountId ? { accountId: origin.accountId } : {}),
      ...(origin.threadId ? { threadId: origin.threadId } : {}),
    },
  };
  try {
    await addTask(ctx, task, 'runtime');
  } catch (error) {
    if (!(error instanceof CronTaskExistsError)) throw error;
  }
  const view = await showTask(ctx, taskId);
  const next = view.nextRuns[0]?.toISOString();
  return {
    taskId,
    ...(next ? { nextRunAt: next } : {}),
    summary: `Reminder '${request.text}' set (${taskId})${next ? `, next at ${next}` : ''}.`,
  };
}

/**
 * The tool as the agent registers it. `originOf` tells which chat the current turn answers
 * (the agent engineer wires it from the turn's run key / session).
 */
export function createCronTool(
  ctx: CronContext,
  originOf: (runKey: string) => ReminderOrigin | Promise<ReminderOrigin>,
): AgentToolDefinition {
  return {
    name: 'cron',
    description:
      'Schedule a reminder for the user. Give the reminder text and exactly one of: at (ISO 8601 time with ' +
      'offset, e.g. 2026-12-24T09:00:00+01:00), delaySeconds (from now), or cron (5-field expression, with tz).',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['text'],
      properties: {
        text: { type: 'string', minLength: 1, description: 'What to remind the user of.' },
        at: { type: 'string', description: 'ISO 8601 time with offset, for a one-time reminder.' },
        delaySeconds: {
          type: 'integer',
          minimum: 1,
          description: 'Seconds from now, for a one-time reminder.',
        },
        cron: { type: 'string', description: 'Cron expression (m h dom mon dow), for a recurring reminder.' },
        tz: { type: 'string', description: 'IANA time zone for cron, e.g. Europe/Berlin.' },
      },
    },
    async execute(args, call) {
      const created = await createReminder(
        ctx,
        args as unknown as ReminderRequest,
        await originOf(call.runKey),
        call.idempotencyKey,
      );
      return created.summary;
    },
  };
}
