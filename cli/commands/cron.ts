// `switchyard cron add|list|show|edit|pause|resume|rm|run|runs`: proactive tasks, straight from
// Temporal (a task is its Schedule `cron:<id>`; runs are the workflows it started).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  addTask,
  type ChangeResult,
  type CronContext,
  CronTaskError,
  CronTaskExistsError,
  CronTaskNotFoundError,
  type CronTaskView,
  editTask,
  listRuns,
  listTasks,
  pauseTask,
  removeTask,
  resumeTask,
  runTask,
  showTask,
} from '../../client/cron/index.js';
import { reconcileDeclared } from '../../client/schedules.js';
import type { CronDelivery, CronTask } from '../../config/cron-task.js';
import { parseDuration } from '../../engine/duration.js';
import { workflowUiLink } from '../../temporal/connection.js';
import { loadConfigOrExit } from '../load.js';
import { printLine, table } from '../output.js';
import { connectFromConfig, type TemporalWhere, withOpened } from '../temporal.js';

export interface CronCommandsContext {
  /** A cron context (client, task queue, UI links) and how to let it go; defaults to the configured server. */
  connect?: () => Promise<{ ctx: CronContext; close: () => Promise<void> } & TemporalWhere>;
}

async function connectCron(): Promise<{ ctx: CronContext; close: () => Promise<void> } & TemporalWhere> {
  const { client, config, close, address, taskQueue } = await connectFromConfig();
  return {
    address,
    taskQueue,
    ctx: {
      client,
      target: { taskQueue: config.temporal.taskQueue },
      uiLink: (workflowId, runId) => workflowUiLink(config, workflowId, runId),
    },
    close,
  };
}

interface TaskFlags {
  file?: string;
  name?: string;
  at?: string;
  every?: string;
  cron?: string;
  tz?: string;
  stagger?: string;
  message?: string;
  pipeline?: string;
  inputs?: string;
  systemEvent?: string;
  model?: string;
  thinking?: string;
  session?: string;
  agent?: string;
  announce?: string;
  webhook?: string;
  failureTo?: string;
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  disabled?: boolean;
  json?: boolean;
}

function taskOptions(cmd: Command): Command {
  return cmd
    .option('--file <path>', 'the whole task as YAML or JSON (flags below override its fields)')
    .option('--name <text>', 'a human name')
    .option('--at <iso>', 'once, at this time (ISO 8601 with offset, e.g. 2026-12-24T09:00:00+01:00)')
    .option('--every <duration>', 'every interval, e.g. 30m, 2h, 1d')
    .option('--cron <expr>', "cron expression, e.g. '0 9 * * 1-5' (5 fields, or 6 with seconds first)")
    .option('--tz <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--stagger <duration>', 'random delay of up to this long per run (--cron)')
    .option('--message <text>', 'payload: a message for the agent (agentTurn)')
    .option('--pipeline <name>', 'payload: run this pipeline')
    .option('--inputs <json>', 'inputs of --pipeline, as JSON')
    .option('--system-event <text>', 'payload: text injected into the session (systemEvent)')
    .option('--model <ref>', 'agentTurn: model override')
    .option('--thinking <level>', 'agentTurn: thinking level')
    .option('--session <target>', 'main, isolated (default) or a session key')
    .option('--agent <id>', 'agent id (default main)')
    .option('--announce <channel:chat>', 'deliver the result to this chat, e.g. telegram:123456')
    .option('--webhook <url>', 'deliver the result by POSTing JSON here')
    .option('--failure-to <channel:chat|url>', 'report failures here (default: the delivery target)')
    .option(
      '--overlap <policy>',
      'skip (default), bufferOne, bufferAll, cancelOther, terminateOther, allowAll',
    )
    .option('--catchup-window <duration>', 'how late a missed run may still start (default 1h)')
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--disabled', 'create it paused (enabled: false)');
}

/** The task fields the flags set (a patch for edit; with an id, a whole task for add). */
function taskFromFlags(flags: TaskFlags): Partial<CronTask> {
  const out: Partial<CronTask> = flags.file
    ? (parseYaml(readFileSync(flags.file, 'utf8')) as Partial<CronTask>)
    : {};
  if (flags.name) out.name = flags.name;
  const schedules = [flags.at, flags.every, flags.cron].filter((s) => s !== undefined).length;
  if (schedules > 1) throw new Error('give one of --at, --every, --cron');
  if (flags.at) out.schedule = { kind: 'at', at: flags.at };
  if (flags.every) {
    const everyMs = parseDuration(flags.every);
    if (everyMs === undefined)
      throw new Error(`--every: '${flags.every}' is not a duration such as 30s, 15m, 2h`);
    out.schedule = { kind: 'every', everyMs };
  }
  if (flags.cron) {
    const staggerMs = flags.stagger ? parseDuration(flags.stagger) : undefined;
    out.schedule = {
      kind: 'cron',
      expr: flags.cron,
      ...(flags.tz ? { tz: flags.tz } : {}),
      ...(staggerMs ? { staggerMs } : {}),
    };
  }
  const payloads = [flags.message, flags.pipeline, flags.systemEvent].filter((p) => p !== undefined).length;
  if (payloads > 1) throw new Error('give one of --message, --pipeline, --system-event');
  if (flags.message) {
    out.payload = {
      kind: 'agentTurn',
      message: flags.message,
      ...(flags.model ? { model: flags.model } : {}),
      ...(flags.thinking ? { thinking: flags.thinking } : {}),
    };
  }
  if (flags.pipeline) {
    let inputs: Record<string, unknown> | undefined;
    try {
      inputs = flags.inputs ? (JSON.parse(flags.inputs) as Record<string, unknown>) : undefined;
    } catch (error) {
      throw new Error(`--inputs: not JSON (${(error as Error).message})`);
    }
    out.payload = { kind: 'pipeline', name: flags.pipeline, ...(inputs ? { inputs } : {}) };
  }
  if (flags.systemEvent) {
    out.payload = { kind: 'systemEvent', text: flags.systemEvent };
    out.sessionTarget ??= 'main';
  }
  if (flags.session) out.sessionTarget = flags.session;
  if (flags.agent) out.agentId = flags.agent;
  if (flags.announce && flags.webhook) throw new Error('give one of --announce, --webhook');
  if (flags.announce) out.delivery = { mode: 'announce', ...chatTarget(flags.announce, '--announce') };
  if (flags.webhook) out.delivery = { mode: 'webhook', url: flags.webhook };
  if (flags.failureTo) {
    const failureDestination = /^https?:\/\//.test(flags.failureTo)
      ? { mode: 'webhook' as const, url: flags.failureTo }
      : { mode: 'announce' as const, ...chatTarget(flags.failureTo, '--failure-to') };
    out.delivery = { ...(out.delivery ?? ({ mode: 'none' } as CronDelivery)), failureDestination };
  }
  if (flags.overlap) out.overlap = flags.overlap as CronTask['overlap'];
  if (flags.catchupWindow) out.catchupWindow = flags.catchupWindow;
  if (flags.pauseOnFailure) out.pauseOnFailure = true;
  if (flags.disabled) out.enabled = false;
  return out;
}

function chatTarget(value: string, flag: string): { channel: string; to: string } {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1)
    throw new Error(`${flag}: expected <channel>:<chat id>, e.g. telegram:123456`);
  return { channel: value.slice(0, at), to: value.slice(at + 1) };
}

export function registerCronCommands(program: Command, context: CronCommandsContext = {}): void {
  const connect = context.connect ?? connectCron;
  const print = printLine;
  const withCtx = <T>(cmd: Command, fn: (ctx: CronContext) => Promise<T>): Promise<T> =>
    withOpened(
      cmd,
      connect,
      'cron',
      (error) =>
        error instanceof CronTaskNotFoundError ||
        error instanceof CronTaskExistsError ||
        error instanceof CronTaskError ||
        (error as Error).message?.startsWith('--') ||
        (error as Error).message?.startsWith('give ')
          ? 'invalid'
          : undefined,
      (opened) => fn(opened.ctx),
    );
  const report = (cmd: Command, verb: string, result: ChangeResult, json?: boolean) => {
    if (json) return print(cmd, JSON.stringify(result, null, 2));
    print(cmd, `${verb} ${result.view.id}. ${describeView(result.view)}`);
    if (result.warning) print(cmd, `Note: ${result.warning}`);
  };

  const cron = program
    .command('cron')
    .description('Proactive tasks: schedules that run agent turns and pipelines');

  taskOptions(cron.command('add <id>').description('Create a task'))
    .option('--json', 'print JSON')
    .action(async (id: string, flags: TaskFlags, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const task = { ...taskFromFlags(flags), id };
        report(cmd, 'Added', await addTask(ctx, stripUndefined(task)), flags.json);
      });
    });

  cron
    .command('list')
    .description('Show every task with its next run')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, cmd: Command) => {
      const views = await withCtx(cmd, listTasks);
      if (options.json) return print(cmd, JSON.stringify(views, null, 2));
      if (views.length === 0) return print(cmd, 'No scheduled tasks. Add one with `switchyard cron add`.');
      print(
        cmd,
        table(
          ['ID', 'SCHEDULE', 'PAYLOAD', 'STATE', 'NEXT RUN', 'SOURCE'],
          views.map((v) => [
            v.id,
            scheduleText(v.task),
            v.task.payload.kind,
            v.paused ? 'paused' : 'active',
            v.nextRuns[0]?.toISOString() ?? '-',
            v.source,
          ]),
        ),
      );
    });

  cron
    .command('show <id>')
    .description('Show a task: definition, policies, next runs, counters')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }, cmd: Command) => {
      const view = await withCtx(cmd, (ctx) => showTask(ctx, id));
      if (options.json) return print(cmd, JSON.stringify(view, null, 2));
      const lines = [
        `Task ${view.id} (${view.scheduleId}, from ${view.source})${view.task.name ? ` — ${view.task.name}` : ''}`,
        `Schedule: ${scheduleText(view.task)}`,
        `Payload: ${JSON.stringify(view.task.payload)}`,
        `Session: ${view.task.sessionTarget ?? 'isolated'}   Delivery: ${JSON.stringify(view.task.delivery ?? { mode: 'none' })}`,
        `Policies: overlap ${view.policies.overlap}, catch-up window ${view.policies.catchupWindow} ms, pause on failure ${view.policies.pauseOnFailure}`,
        `State: ${view.paused ? 'paused' : 'active'}${view.note ? ` (${view.note})` : ''}`,
        `Runs: ${view.counters.taken} started, ${view.counters.running} running, ${view.counters.skippedOverlap} skipped (overlap), ${view.counters.missedCatchupWindow} missed (outside catch-up window)`,
        `Next: ${
          view.nextRuns
            .slice(0, 5)
            .map((d) => d.toISOString())
            .join(', ') || '-'
        }`,
      ];
      print(cmd, lines.join('\n'));
    });

  taskOptions(cron.command('edit <id>').description('Change fields of a task (the rest stay)'))
    .option('--enable', 'un-disable (enabled: true)')
    .option('--json', 'print JSON')
    .action(async (id: string, flags: TaskFlags & { enable?: boolean }, cmd: Command) => {
      await withCtx(cmd, async (ctx) => {
        const patch = taskFromFlags(flags);
        if (flags.enable) patch.enabled = true;
        report(cmd, 'Updated', await editTask(ctx, id, patch), flags.json);
      });
    });

  cron
    .command('pause <id>')
    .description('Stop a task from firing until resumed')
    .option('--note <text>', 'why (shown by show)')
    .action(async (id: string, options: { note?: string }, cmd: Command) => {
      const view = await withCtx(cmd, (ctx) => pauseTask(ctx, id, options.note));
      print(cmd, `Paused ${view.id}.`);
    });

  cron
    .command('resume <id>')
    .description('Let a paused task fire again (also after pauseOnFailure)')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const view = await withCtx(cmd, (ctx) => resumeTask(ctx, id));
      print(cmd, `Resumed ${view.id}. Next run: ${view.nextRuns[0]?.toISOString() ?? '-'}`);
    });

  cron
    .command('sync')
    .description(
      'Make the Schedules match switchyard.yaml now (what the gateway does at start and on SIGHUP)',
    )
    .action(async (_options: unknown, cmd: Command) => {
      const config = loadConfigOrExit();
      const result = await withCtx(cmd, (ctx) => reconcileDeclared(ctx.client, config, ctx.target.taskQueue));
      const line = (label: string, ids: string[]) => `${label}: ${ids.length ? ids.join(', ') : '-'}`;
      print(
        cmd,
        [
          line('created', result.created),
          line('updated', result.updated),
          line('deleted', result.deleted),
          line('unchanged', result.unchanged),
        ].join('\n'),
      );
    });

  cron
    .command('rm <id>')
    .description('Delete a task (its past runs stay in Temporal)')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const result = await withCtx(cmd, (ctx) => removeTask(ctx, id));
      print(cmd, `Removed ${result.removed}.`);
      if (result.warning) print(cmd, `Note: ${result.warning}`);
    });

  cron
    .command('run <id>')
    .description('Run a task now, whatever its schedule')
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const started = await withCtx(cmd, (ctx) => runTask(ctx, id));
      print(
        cmd,
        started.workflowId
          ? `Started ${started.workflowId}.`
          : `Triggered ${id}; the run is not visible yet.`,
      );
    });

  cron
    .command('runs <id>')
    .description('Show recent runs: time, status, duration, delivery, Temporal UI link')
    .option('--limit <n>', 'show at most this many', '20')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1)
        return cmd.error(`--limit must be a whole number ≥ 1, got '${options.limit}'`);
      const result = await withCtx(cmd, (ctx) => listRuns(ctx, id, { limit }));
      if (options.json) return print(cmd, JSON.stringify(result, null, 2));
      const lines: string[] = [];
      if (result.runs.length === 0) lines.push(`No runs of ${id} yet.`);
      else {
        lines.push(
          table(
            ['STARTED', 'STATUS', 'DURATION', 'DELIVERED', 'WORKFLOW', 'LINK'],
            result.runs.map((r) => [
              r.startedAt.toISOString(),
              r.status,
              r.durationMs === undefined ? '-' : `${r.durationMs} ms`,
              r.delivered ? 'yes' : (r.deliveryNote ?? 'no'),
              r.workflowId,
              r.link ?? '',
            ]),
          ),
        );
        for (const r of result.runs.filter((x) => x.error)) lines.push(`${r.workflowId}: ${r.error}`);
      }
      const { skippedOverlap, missedCatchupWindow } = result.notStarted;
      if (skippedOverlap || missedCatchupWindow) {
        lines.push(
          `Not started: ${skippedOverlap} skipped (a previous run was still going), ${missedCatchupWindow} missed (due longer ago than the catch-up window).`,
        );
      }
      print(cmd, lines.join('\n'));
    });
}

function describeView(view: CronTaskView): string {
  const next = view.nextRuns[0]?.toISOString();
  return `${scheduleText(view.task)}; ${view.paused ? 'paused' : `next run ${next ?? '-'}`}.`;
}

function scheduleText(task: CronTask): string {
  const s = task.schedule;
  if (s.kind === 'at') return `at ${s.at}`;
  if (s.kind === 'every') return `every ${s.everyMs / 1000}s`;
  return `cron '${s.expr}'${s.tz ? ` ${s.tz}` : ''}`;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
