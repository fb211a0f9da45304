import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addTask, type CronContext, listRuns, pauseTask, showTask } from '../../client/cron/index.js';
import type { CronTask } from '../../config/cron-task.js';
import { type DevServer, startDevServer } from '../../temporal/dev-server.js';
import { freePort } from '../helpers/ports.js';
import { type CronHarness, deleteSchedule, eventually, sleep, startCronHarness } from './harness.js';

const uid = () => randomUUID().slice(0, 8);

describe('catch-up: runs that were due while nothing could run them', () => {
  const address = inject('temporalAddress');
  let h: CronHarness;
  const created: string[] = [];

  beforeAll(async () => {
    h = await startCronHarness(address, 'catchup', { worker: false });
  });
  afterAll(async () => {
    for (const id of created) await deleteSchedule(h.client, id);
    await h?.close();
  });

  it('with no worker through several due times, starting the worker runs them per overlap policy', async () => {
    const all = `all-${uid()}`;
    const one = `one-${uid()}`;
    created.push(all, one);
    const task = (id: string, overlap: CronTask['overlap']): CronTask => ({
      id,
      schedule: { kind: 'every', everyMs: 2000 },
      payload: { kind: 'agentTurn', message: `catch up ${overlap}` },
      delivery: { mode: 'announce', channel: h.channel.channel, to: `chat-${id}` },
      overlap,
    });
    await addTask(h.ctx, task(all, 'allowAll'));
    await addTask(h.ctx, task(one, 'bufferOne'));
    // No worker polls: Temporal still starts the runs (they wait in the task queue).
    await sleep(7000);
    // Freeze the allowAll task so the count of due occurrences is final: a busy scheduler can
    // take an occurrence a moment after its time, which would otherwise land after the count.
    await pauseTask(h.ctx, all);
    await sleep(1500);
    const workerStart = new Date();
    const dueAll = (await showTask(h.ctx, all)).counters.taken;
    expect(dueAll).toBeGreaterThanOrEqual(3);
    expect(h.channel.calls).toHaveLength(0);
    const waiting = await listRuns(h.ctx, all);
    expect(waiting.runs.filter((r) => r.status === 'running').length).toBeGreaterThanOrEqual(3);

    await h.startWorker();
    const doneBefore = async (id: string, count: number) =>
      eventually(
        `${count} runs of ${id} from the downtime to finish`,
        async () => {
          const runs = (await listRuns(h.ctx, id)).runs.filter((r) => r.scheduledAt! < workerStart);
          return runs.length >= count && runs.every((r) => r.status === 'ok') ? runs : undefined;
          // A buffered run starts only after the one before it finished: allow for a cold, busy worker.
        },
        45_000,
      );

    // allowAll: every occurrence due during the downtime ran, and each was announced once.
    const ranAll = await doneBefore(all, dueAll);
    expect(ranAll).toHaveLength(dueAll);
    for (const run of ranAll) {
      expect(h.channel.calls.filter((c) => c.idempotencyKey === `${run.workflowId}:announce`)).toHaveLength(
        1,
      );
    }
    // bufferOne: the first occurrence started, one more was buffered, the rest were skipped (counted).
    const ranOne = await doneBefore(one, 2);
    expect(ranOne).toHaveLength(2);
    const oneView = await listRuns(h.ctx, one);
    expect(oneView.notStarted.skippedOverlap).toBeGreaterThanOrEqual(1);

    await h.client.schedule.getHandle(`cron:${all}`).pause('test over');
    await h.client.schedule.getHandle(`cron:${one}`).pause('test over');
  });

  it('after Temporal itself was down, runs inside the catch-up window start late; older ones are skipped and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cron-outage-'));
    const port = await freePort();
    const serverOptions = {
      cliPath: inject('temporalCli'),
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      port,
      headless: true,
    };
    let server: DevServer | undefined = await startDevServer(serverOptions);
    const connect = async () => {
      const connection = await Connection.connect({ address: server!.address });
      return { connection, client: new Client({ connection, namespace: 'default' }) };
    };
    try {
      let { connection, client } = await connect();
      const ctx = (c: Client): CronContext => ({ client: c, target: { taskQueue: `nobody-${uid()}` } });
      const task = (id: string, catchupWindow: string): CronTask => ({
        id,
        schedule: { kind: 'every', everyMs: 3000 },
        payload: { kind: 'agentTurn', message: 'x' },
        overlap: 'allowAll',
        catchupWindow,
      });
      await addTask(ctx(client), task('within', '5m'));
      await addTask(ctx(client), task('outside', '10s'));
      await eventually('both schedules to fire once', async () => {
        const a = await showTask(ctx(client), 'within');
        const b = await showTask(ctx(client), 'outside');
        return a.counters.taken >= 1 && b.counters.taken >= 1;
      });
      await connection.close();

      await server.stop();
      const downAt = Date.now();
      server = undefined;
      // Longer than the 10 s window plus one interval, so at least one occurrence goes stale.
      await sleep(13_000);
      server = await startDevServer(serverOptions);
      const upAt = Date.now();
      ({ connection, client } = await connect());

      // Within the window: every occurrence of the outage started once Temporal was back.
      const expected = Math.floor((upAt - downAt) / 3000) - 1;
      const within = await eventually(
        'the missed occurrences to start',
        async () => {
          const view = await showTask(ctx(client), 'within');
          const late = (await listRuns(ctx(client), 'within', { limit: 100 })).runs.filter(
            (r) => r.scheduledAt!.getTime() > downAt && r.scheduledAt!.getTime() < upAt,
          );
          return late.length >= expected ? { view, late } : undefined;
        },
        30_000,
      );
      expect(within.view.counters.missedCatchupWindow).toBe(0);
      for (const run of within.late) expect(run.startedAt.getTime()).toBeGreaterThanOrEqual(upAt - 1000);

      // Outside the window: Temporal skipped the stale occurrences and says how many.
      const outside = await eventually(
        'the stale occurrences to be counted',
        async () => {
          const runs = await listRuns(ctx(client), 'outside', { limit: 100 });
          return runs.notStarted.missedCatchupWindow >= 1 ? runs : undefined;
        },
        30_000,
      );
      const lateOutside = outside.runs.filter(
        (r) => r.scheduledAt!.getTime() > downAt && r.scheduledAt!.getTime() < upAt,
      );
      expect(lateOutside.length + outside.notStarted.missedCatchupWindow).toBeGreaterThanOrEqual(expected);
      for (const run of lateOutside)
        expect(upAt - run.scheduledAt!.getTime()).toBeLessThanOrEqual(10_000 + 3000);
      await connection.close();
    } finally {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
