import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron } from 'croner';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createReminder } from '../../activities/agent/builtin-tools/cron.js';
import { registerCronCommands } from '../../cli/commands/cron.js';
import {
  addTask,
  backfillTask,
  buildSchedule,
  heartbeatTask,
  listRuns,
  pauseTask,
  reconcileSchedules,
  resumeTask,
  runTask,
  showTask,
} from '../../client/cron/index.js';
import { applySchedule } from '../../client/cron/reconcile.js';
import type { CronTask } from '../../config/cron-task.js';
import { runCli } from '../helpers/cli.js';
import { writeHistoryFixture } from '../helpers/histories.js';
import {
  type CronHarness,
  compileTestPipeline,
  deleteSchedule,
  eventually,
  sleep,
  startCronHarness,
} from './harness.js';

const uid = () => randomUUID().slice(0, 8);

describe('proactive tasks on Temporal Schedules', () => {
  const address = inject('temporalAddress');
  let h: CronHarness;
  const created: string[] = [];

  beforeAll(async () => {
    h = await startCronHarness(address, 'schedules');
  });
  afterAll(async () => {
    for (const id of created) await deleteSchedule(h.client, id);
    await h?.close();
  });

  it('fires an `every 2s` task at least 3 times in 7 s; each run is in `runs` and announced once', async () => {
    const id = `every-${uid()}`;
    created.push(id);
    await addTask(h.ctx, {
      id,
      schedule: { kind: 'every', everyMs: 2000 },
      payload: { kind: 'agentTurn', message: 'status check' },
      // On two busy cores a run can outlast 2 s; with the default (skip) that occurrence would not start.
      overlap: 'allowAll',
      delivery: { mode: 'announce', channel: h.channel.channel, to: 'chat-1' },
    } satisfies CronTask);
    await sleep(7000);
    await h.client.schedule.getHandle(`cron:${id}`).pause('test over');

    const { runs } = await eventually('three finished runs', async () => {
      const r = await listRuns(h.ctx, id);
      return r.runs.filter((run) => run.status === 'ok').length >= 3 ? r : undefined;
    });
    const finished = runs.filter((run) => run.status === 'ok');
    expect(finished.length).toBeGreaterThanOrEqual(3);
    for (const run of finished) {
      expect(run.workflowId).toMatch(new RegExp(`^cron:${id}-\\d{4}-\\d{2}-\\d{2}T`));
      expect(run.delivered).toBe(true);
      expect(run.durationMs).toBeGreaterThanOrEqual(0);
      expect(run.link).toContain(encodeURIComponent(run.workflowId));
      // The default pipeline ran (placeholder agent) with the task's message.
      expect(run.text).toContain('status check');
      const announced = h.channel.calls.filter((c) => c.idempotencyKey === `${run.workflowId}:announce`);
      expect(announced).toHaveLength(1);
      expect(announced[0]).toMatchObject({
        channel: h.channel.channel,
        chatId: 'chat-1',
        accountId: 'default',
      });
    }
    if (process.env.RECORD_CRON_HISTORIES) {
      // RECORD_CRON_HISTORIES=1 npx vitest run test/cron/schedules.test.ts → a replay fixture.
      const history = await h.client.workflow.getHandle(finished[0]!.workflowId).fetchHistory();
      const file = join(import.meta.dirname, '../replay/histories/schedule-agent-turn-announce.json');
      writeHistoryFixture(file, history);
    }
  });

  it('shows a failing run in `runs` and at the failure destination; pauseOnFailure pauses, resume continues', async () => {
    const id = `failing-${uid()}`;
    created.push(id);
    const broken = compileTestPipeline(`
name: report-${id}
outputs: { reply: { value: "done" } }
steps:
  - id: fetch
    uses: test.sleep
    with: { ms: 1, fail: SourceDown }
`);
    h.pipelines.set(broken.name, broken);
    await addTask(h.ctx, {
      id,
      name: 'Nightly report',
      schedule: { kind: 'every', everyMs: 2000 },
      payload: { kind: 'pipeline', name: broken.name },
      delivery: {
        mode: 'announce',
        channel: h.channel.channel,
        to: 'chat-report',
        failureDestination: { channel: h.channel.channel, to: 'chat-alerts' },
      },
      pauseOnFailure: true,
    } satisfies CronTask);

    const paused = await eventually('the schedule to pause itself', async () => {
      const view = await showTask(h.ctx, id);
      return view.paused ? view : undefined;
    });
    expect(paused.note).toMatch(/fail/i);
    const failedRuns = await eventually('the failed run in runs', async () => {
      const r = await listRuns(h.ctx, id);
      return r.runs.some((run) => run.status === 'error') ? r.runs : undefined;
    });
    const failedRun = failedRuns.find((run) => run.status === 'error')!;
    if (process.env.RECORD_CRON_HISTORIES) {
      const history = await h.client.workflow.getHandle(failedRun.workflowId).fetchHistory();
      const file = join(import.meta.dirname, '../replay/histories/schedule-pipeline-failure.json');
      writeHistoryFixture(file, history);
    }
    expect(failedRun.error).toMatch(/pipeline payload failed: .*fetch failed on purpose/);
    expect(failedRun.delivered).toBe(false);
    const alert = h.channel.calls.find((c) => c.idempotencyKey === `${failedRun.workflowId}:failure`);
    expect(alert).toMatchObject({ chatId: 'chat-alerts' });
    expect(alert?.text).toMatch(/Nightly report' failed: .*fetch failed on purpose/);
    expect(h.channel.calls.filter((c) => c.chatId === 'chat-report')).toHaveLength(0);

    // Paused: nothing more starts. Fix the pipeline (as an edit of its file would), then resume.
    const countWhilePaused = (await listRuns(h.ctx, id)).runs.length;
    await sleep(2500);
    expect((await listRuns(h.ctx, id)).runs.length).toBe(countWhilePaused);
    h.pipelines.set(
      broken.name,
      compileTestPipeline(`
name: report-${id}
outputs: { reply: { value: "report ready" } }
steps:
  - id: fetch
    uses: test.sleep
    with: { ms: 1 }
`),
    );
    expect((await resumeTask(h.ctx, id)).paused).toBe(false);
    const ok = await eventually('a successful run after resume', async () => {
      const r = await listRuns(h.ctx, id);
      return r.runs.find((run) => run.status === 'ok');
    });
    expect(ok.delivered).toBe(true);
    expect(h.channel.posted.get(`${ok.workflowId}:announce`)).toMatchObject({
      chatId: 'chat-report',
      text: 'report ready',
    });
    await pauseTask(h.ctx, id);
  });

  it('reconciles declared tasks: creates, updates in place, deletes, and a repeat changes nothing', async () => {
    const a = `daily-${uid()}`;
    const b = `weekly-${uid()}`;
    const runtime = `runtime-${uid()}`;
    created.push(a, b, runtime);
    const taskA: CronTask = {
      id: a,
      schedule: { kind: 'cron', expr: '0 9 * * *', tz: 'Europe/Berlin' },
      payload: { kind: 'agentTurn', message: 'morning briefing' },
    };
    const taskB: CronTask = {
      id: b,
      schedule: { kind: 'cron', expr: '0 18 * * 5' },
      payload: { kind: 'agentTurn', message: 'weekly summary' },
    };
    await addTask(h.ctx, {
      id: runtime,
      schedule: { kind: 'every', everyMs: 3_600_000 },
      payload: { kind: 'agentTurn', message: 'added at run time' },
    });

    expect(await reconcileSchedules(h.client, [taskA, taskB], h.ctx.target)).toEqual({
      created: [a, b],
      updated: [],
      deleted: [],
      unchanged: [],
    });
    expect(await reconcileSchedules(h.client, [taskA, taskB], h.ctx.target)).toEqual({
      created: [],
      updated: [],
      deleted: [],
      unchanged: [a, b],
    });

    const before = await h.client.schedule.getHandle(`cron:${a}`).describe();
    const edited: CronTask = {
      ...taskA,
      schedule: { kind: 'cron', expr: '30 7 * * 1-5', tz: 'Europe/Berlin' },
    };
    // The Schedule list is eventually consistent; deletion looks there, so wait until b is listed.
    await eventually('b to be listed', async () => {
      for await (const s of h.client.schedule.list()) if (s.scheduleId === `cron:${b}`) return true;
      return false;
    });
    expect(await reconcileSchedules(h.client, [edited], h.ctx.target)).toEqual({
      created: [],
      updated: [a],
      deleted: [b],
      unchanged: [],
    });
    const after = await h.client.schedule.getHandle(`cron:${a}`).describe();
    expect(after.scheduleId).toBe(before.scheduleId);
    expect(after.info.createdAt).toEqual(before.info.createdAt);
    expect(after.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 7, end: 7, step: 1 }] });
    expect((await showTask(h.ctx, a)).task.schedule).toEqual(edited.schedule);
    await expect(h.client.schedule.getHandle(`cron:${b}`).describe()).rejects.toThrow(/not found/i);
    // A task added at run time is not the config's to delete.
    expect((await showTask(h.ctx, runtime)).source).toBe('runtime');

    expect(await reconcileSchedules(h.client, [edited], h.ctx.target)).toEqual({
      created: [],
      updated: [],
      deleted: [],
      unchanged: [a],
    });
  });

  it('creates a one-shot reminder through the agent `cron` tool function; it fires and is delivered', async () => {
    const origin = { channel: h.channel.channel, to: 'chat-mum' };
    const key = `turn-${uid()}/tool-1`;
    const reminder = await createReminder(h.ctx, { text: 'call mum', delaySeconds: 2 }, origin, key);
    created.push(reminder.taskId);
    expect(reminder.summary).toContain('call mum');
    // A retried tool call (same idempotency key) does not create a second reminder.
    expect((await createReminder(h.ctx, { text: 'call mum', delaySeconds: 2 }, origin, key)).taskId).toBe(
      reminder.taskId,
    );

    const delivered = await eventually('the reminder in the chat', () =>
      [...h.channel.posted.values()].find((m) => m.chatId === 'chat-mum'),
    );
    expect(delivered.text).toContain('call mum');
    const { runs } = await eventually('the reminder run to finish', async () => {
      const r = await listRuns(h.ctx, reminder.taskId);
      return r.runs[0]?.status === 'ok' ? r : undefined;
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]!.delivered).toBe(true);
    const view = await showTask(h.ctx, reminder.taskId);
    expect(view.nextRuns).toEqual([]);
    expect(view.task.schedule.kind).toBe('at');
  });

  it('computes next fire times of a cron task in Europe/Berlin across a DST change, as croner does', async () => {
    const change = nextDstChange('Europe/Berlin', new Date());
    const from = new Date(change.getTime() - 3 * 86_400_000);
    const cases = [
      { expr: '0 9 * * *', secondOfMinute: 0 },
      { expr: '30 0 9 * * *', secondOfMinute: 30 },
    ];
    for (const { expr, secondOfMinute } of cases) {
      const id = `dst-${uid()}`;
      created.push(id);
      const { options } = buildSchedule(
        {
          id,
          schedule: { kind: 'cron', expr, tz: 'Europe/Berlin' },
          payload: { kind: 'agentTurn', message: 'x' },
        },
        'runtime',
        h.ctx.target,
      );
      // Start the spec a few days before the next change, so Temporal's next times straddle it.
      await h.client.schedule.create({ ...options, spec: { ...options.spec, startAt: from } });
      const temporal = (
        await h.client.schedule.getHandle(`cron:${id}`).describe()
      ).info.nextActionTimes.slice(0, 6);
      const croner = new Cron(expr, { timezone: 'Europe/Berlin', paused: true }).nextRuns(6, from);
      expect(temporal.map((d) => d.toISOString())).toEqual(croner.map((d) => d.toISOString()));
      // Every one of them is 09:00 local time, though the UTC hour changes at the DST change.
      const local = temporal.map((d) => berlinTime(d));
      expect(new Set(local)).toEqual(new Set([`09:00:${String(secondOfMinute).padStart(2, '0')}`]));
      expect(new Set(temporal.map((d) => d.getUTCHours())).size).toBe(2);
    }
  });

  it('backfills a past range: each occurrence in it runs now, with its own scheduled time', async () => {
    const id = `backfill-${uid()}`;
    created.push(id);
    await addTask(h.ctx, {
      id,
      schedule: { kind: 'every', everyMs: 3_600_000 },
      payload: { kind: 'agentTurn', message: 'missed report' },
    });
    const hour = 3_600_000;
    const end = new Date(Math.floor(Date.now() / hour) * hour - hour);
    const start = new Date(end.getTime() - 2 * hour);
    await backfillTask(h.ctx, id, { start, end });
    const runs = await eventually('three backfilled runs to finish', async () => {
      const r = await listRuns(h.ctx, id);
      return r.runs.filter((x) => x.status === 'ok').length >= 3 ? r.runs : undefined;
    });
    expect(runs.map((r) => r.scheduledAt!.getTime()).sort()).toEqual([
      start.getTime(),
      start.getTime() + hour,
      end.getTime(),
    ]);
  });

  it('runs a task on demand with `run`, and the run appears with its workflow id', async () => {
    const id = `manual-${uid()}`;
    created.push(id);
    await addTask(h.ctx, {
      id,
      schedule: { kind: 'cron', expr: '0 0 1 1 *' },
      payload: { kind: 'agentTurn', message: 'on demand' },
      delivery: { mode: 'announce', channel: h.channel.channel, to: 'chat-manual' },
    });
    const started = await runTask(h.ctx, id);
    expect(started.workflowId).toMatch(new RegExp(`^cron:${id}-`));
    const run = await eventually('the manual run to finish', async () => {
      const r = await listRuns(h.ctx, id);
      return r.runs.find((x) => x.workflowId === started.workflowId && x.status === 'ok');
    });
    expect(run.delivered).toBe(true);
  });

  it('runs the heartbeat: an empty HEARTBEAT.md skips the turn, HEARTBEAT_OK is not delivered, news is', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'switchyard-heartbeat-'));
    const agent = compileTestPipeline(`
name: heartbeat-agent-${uid()}
inputs: { text: { type: string } }
outputs:
  reply: { value: "\${{ inputs.text.contains('plants') ? 'Water the plants now.' : 'HEARTBEAT_OK' }}" }
steps:
  - set: { seen: true }
`);
    h.pipelines.set(agent.name, agent);
    const declared = heartbeatTask(
      {
        enabled: true,
        every: '1h',
        delivery: { mode: 'announce', channel: h.channel.channel, to: 'chat-hb' },
      },
      workspace,
    )!;
    created.push(declared.task.id);
    await applySchedule(
      h.client,
      buildSchedule(
        declared.task,
        'heartbeat',
        { ...h.ctx.target, agentPipeline: agent.name },
        declared.heartbeat,
      ),
    );
    const runOnce = async () => {
      const { workflowId } = await runTask(h.ctx, declared.task.id, 20_000);
      expect(workflowId).toBeDefined();
      return eventually('the heartbeat run to finish', async () => {
        const r = await listRuns(h.ctx, declared.task.id);
        return r.runs.find((x) => x.workflowId === workflowId && x.status !== 'running');
      });
    };

    writeFileSync(join(workspace, 'HEARTBEAT.md'), '# Heartbeat\n\n- [ ]\n');
    const empty = await runOnce();
    expect(empty).toMatchObject({ status: 'skipped', delivered: false });
    expect(empty.deliveryNote).toMatch(/HEARTBEAT.md is empty/);

    writeFileSync(join(workspace, 'HEARTBEAT.md'), '# Heartbeat\n\n- check the calendar\n');
    const quiet = await runOnce();
    expect(quiet).toMatchObject({ status: 'ok', delivered: false, text: 'HEARTBEAT_OK' });
    expect(quiet.deliveryNote).toMatch(/HEARTBEAT_OK/);

    writeFileSync(join(workspace, 'HEARTBEAT.md'), '# Heartbeat\n\n- water the plants on Thursdays\n');
    const news = await runOnce();
    expect(news).toMatchObject({ status: 'ok', delivered: true });
    expect(h.channel.posted.get(`${news.workflowId}:announce`)?.text).toBe('Water the plants now.');
    expect(h.channel.calls.filter((c) => c.chatId === 'chat-hb')).toHaveLength(1);
  });

  it('is managed from the CLI: add, list, show, run, runs, pause, resume, edit, rm — with field-level errors', async () => {
    const id = `cli-${uid()}`;
    created.push(id);
    const cron = async (...args: string[]) => {
      const { out, err, exitCode } = await runCli(
        (program) =>
          registerCronCommands(program, { connect: async () => ({ ctx: h.ctx, close: async () => {} }) }),
        'cron',
        ...args,
      );
      return { out, err, code: exitCode };
    };

    const bad = await cron('add', id, '--cron', '0 25 * * *', '--message', 'x');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("schedule.expr: hour field '25' (field 2) is not valid");

    const added = await cron(
      'add',
      id,
      '--cron',
      '0 9 * * 1-5',
      '--tz',
      'Europe/Berlin',
      '--message',
      'briefing',
      '--announce',
      `${h.channel.channel}:chat-cli`,
    );
    expect(added.err).toBe('');
    expect(added.out).toMatch(
      new RegExp(`^Added ${id}\\. cron '0 9 \\* \\* 1-5' Europe/Berlin; next run 20`),
    );
    // The Schedule list is eventually consistent: a task just added may take a moment to be listed.
    const listed = await eventually('the task in `cron list`', async () => {
      const out = (await cron('list')).out;
      return out.includes(id) ? out : undefined;
    });
    expect(listed).toMatch(
      new RegExp(`${id}\\s+cron '0 9 \\* \\* 1-5' Europe/Berlin\\s+agentTurn\\s+active`),
    );
    expect((await cron('show', id)).out).toContain('Policies: overlap SKIP, catch-up window 3600000 ms');

    const ran = await cron('run', id);
    const workflowId = /Started (\S+)\./.exec(ran.out)?.[1];
    expect(workflowId).toMatch(new RegExp(`^cron:${id}-`));
    const runs = await eventually('the run in `cron runs`', async () => {
      const r = await cron('runs', id);
      return /\bok\b/.test(r.out) ? r.out : undefined;
    });
    expect(runs).toContain(workflowId);
    expect(runs).toMatch(/ok\s+\d+ ms\s+yes/);
    expect(runs).toContain(`http://ui.test/namespaces/default/workflows/${encodeURIComponent(workflowId!)}`);

    expect((await cron('pause', id, '--note', 'holiday')).out).toBe(`Paused ${id}.\n`);
    expect((await cron('show', id)).out).toContain('State: paused (holiday)');
    expect((await cron('resume', id)).out).toMatch(new RegExp(`^Resumed ${id}\\. Next run: 20`));
    expect((await cron('edit', id, '--cron', '30 7 * * *')).out).toMatch(
      /cron '30 7 \* \* \*' Europe\/Berlin/,
    );
    expect((await cron('rm', id)).out).toBe(`Removed ${id}.\n`);
    expect((await cron('show', id)).err).toContain(`no scheduled task '${id}'`);
  });
});

/** The first instant after `from` where the zone's UTC offset changes (scanned hour by hour). */
function nextDstChange(tz: string, from: Date): Date {
  const offset = (d: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      timeZoneName: 'longOffset',
    }).formatToParts(d);
    return parts.find((p) => p.type === 'timeZoneName')?.value;
  };
  const start = offset(from);
  for (let t = from.getTime(); t < from.getTime() + 400 * 86_400_000; t += 3_600_000) {
    if (offset(new Date(t)) !== start) return new Date(t);
  }
  throw new Error(`no DST change in ${tz} within 400 days`);
}

function berlinTime(d: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Berlin',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}
