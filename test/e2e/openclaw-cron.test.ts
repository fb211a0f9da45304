// OpenClaw's cron.* gateway methods on Temporal Schedules: a real gateway (the protocol plugin with
// the OpenClaw cron services), a real Temporal client against the shared dev server and a worker
// running scheduled tasks (faux model). Every frame the gateway sends is checked against
// @openclaw/gateway-protocol; every job and run-log entry against the package's own schemas.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as schemas from '@openclaw/gateway-protocol';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOpenclawCron } from '../../gateway/openclaw/cron.js';
import { type CronHarness, deleteSchedule, startCronHarness } from '../cron/harness.js';
import {
  connectParams,
  type Gateway,
  type Loose,
  RawClient,
  startGateway,
  testHealth,
} from '../protocol/harness.js';

const protocolSchema = JSON.parse(
  readFileSync(
    join(
      dirname(createRequire(import.meta.url).resolve('@openclaw/gateway-protocol')),
      '..',
      'protocol.schema.json',
    ),
    'utf8',
  ),
) as { definitions: Record<string, object> };

const ajv = new Ajv({ strict: false, allErrors: true });
const validJob = ajv.compile(schemas.CronJobSchema);
const validAddResult = ajv.compile(schemas.CronAddResultSchema);
const validPreview = ajv.compile(schemas.CronDeliveryPreviewSchema);
const validRunEntry = ajv.compile(protocolSchema.definitions.CronRunLogEntry!);

function expectValid(validate: { (value: unknown): boolean; errors?: unknown }, value: unknown) {
  const ok = validate(value);
  expect(ok ? [] : validate.errors, JSON.stringify(value)).toEqual([]);
}

describe('OpenClaw cron.* methods manage Temporal Schedules', () => {
  const address = inject('temporalAddress');
  const uid = randomUUID().slice(0, 8);
  const created = new Set<string>();
  let h: CronHarness;
  let gateway: Gateway;
  let client: RawClient;
  let seq = 0;

  beforeAll(async () => {
    // A worker on the harness's own unique task queue (test/helpers/config.ts uniqueTaskQueue).
    h = await startCronHarness(address, 'oc-cron');
    const cron = createOpenclawCron({ client: h.client, taskQueue: h.taskQueue, uiLink: h.ctx.uiLink });
    gateway = await startGateway({ health: testHealth, status: async () => ({}), ...cron.services });
    client = await RawClient.open(gateway.url);
    await client.challenge();
    const hello = await client.request(
      'c',
      'connect',
      connectParams({ scopes: ['operator.read', 'operator.write', 'operator.admin'] }),
    );
    expect(hello.ok).toBe(true);
  });
  afterAll(async () => {
    client?.close();
    for (const id of created) await deleteSchedule(h.client, id);
    await gateway?.close();
    await h?.close();
  });

  const call = (method: string, params: unknown) => client.request(`r${++seq}`, method, params);

  async function listed(jobId: string): Promise<Loose> {
    let found: Loose;
    await expect
      .poll(
        async () => {
          const res = await call('cron.list', { includeDisabled: true, query: uid });
          expect(res.ok).toBe(true);
          found = res.payload.jobs.find((j: Loose) => j.id === jobId);
          return found;
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBeTruthy();
    return found;
  }

  it('adds, lists, updates, runs, shows runs and removes a job; every shape is schema-valid', async () => {
    const add = await call('cron.add', {
      name: `Every minute ${uid}`,
      schedule: { kind: 'every', everyMs: 60_000 },
      sessionTarget: 'isolated',
      wakeMode: 'now',
      payload: { kind: 'agentTurn', message: `openclaw says hi ${uid}` },
      delivery: { mode: 'none' },
    });
    expect(add.ok, JSON.stringify(add.error)).toBe(true);
    const job = add.payload;
    created.add(job.id);
    expectValid(validAddResult, job);
    expectValid(validJob, job);
    expect(job).toMatchObject({
      name: `Every minute ${uid}`,
      enabled: true,
      schedule: { kind: 'every', everyMs: 60_000 },
      sessionTarget: 'isolated',
      wakeMode: 'now',
      payload: { kind: 'agentTurn', message: `openclaw says hi ${uid}` },
      delivery: { mode: 'none' },
    });
    expect(job.id).toMatch(/^every-minute-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(job.state.nextRunAtMs).toBeGreaterThan(Date.now() - 1000);
    expect(job.state.nextRunAtMs % 60_000).toBe(0);
    // It is a Temporal Schedule, as `switchyard cron` sees it.
    const schedule = await h.client.schedule.getHandle(`cron:${job.id}`).describe();
    expect(schedule.spec.intervals?.[0]?.every).toBe(60_000);

    // cron.list: the job, schema-valid, with a delivery preview.
    const page = await call('cron.list', { includeDisabled: true, query: uid, limit: 10 });
    for (const j of page.payload.jobs) expectValid(validJob, j);
    expect(page.payload).toMatchObject({ offset: 0, limit: 10, hasMore: false, nextOffset: null });
    const inList = await listed(job.id);
    expect(inList).toMatchObject({ id: job.id, schedule: { kind: 'every', everyMs: 60_000 } });
    const previews = (await call('cron.list', { includeDisabled: true, query: uid })).payload
      .deliveryPreviews;
    expectValid(validPreview, previews[job.id]);

    // cron.update: a new schedule (same Schedule id, updated in place), then disable and enable.
    const updated = await call('cron.update', {
      id: job.id,
      patch: { schedule: { kind: 'cron', expr: '0 9 * * 1-5', tz: 'Europe/Berlin' } },
    });
    expect(updated.ok, JSON.stringify(updated.error)).toBe(true);
    expectValid(validJob, updated.payload);
    expect(updated.payload.schedule).toEqual({ kind: 'cron', expr: '0 9 * * 1-5', tz: 'Europe/Berlin' });
    expect(updated.payload.payload.message).toBe(`openclaw says hi ${uid}`);
    const next = new Date(updated.payload.state.nextRunAtMs);
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    }).format(next);
    expect(berlin).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 09:00$/);
    const afterUpdate = await h.client.schedule.getHandle(`cron:${job.id}`).describe();
    expect(afterUpdate.spec.calendars?.length).toBeGreaterThan(0);
    expect(afterUpdate.spec.timezone).toBe('Europe/Berlin');

    const disabled = await call('cron.update', { jobId: job.id, patch: { enabled: false } });
    expect(disabled.payload.enabled).toBe(false);
    expect((await h.client.schedule.getHandle(`cron:${job.id}`).describe()).state.paused).toBe(true);
    const enabled = await call('cron.update', { id: job.id, patch: { enabled: true } });
    expect(enabled.payload.enabled).toBe(true);
    expectValid(validJob, enabled.payload);

    // cron.run: triggers now; the worker runs it and cron.runs lists the finished run.
    const run = await call('cron.run', { id: job.id });
    expect(run.payload).toMatchObject({ ok: true, enqueued: true });
    const runId: string = run.payload.runId;
    expect(runId).toMatch(new RegExp(`^cron:${job.id}-`));
    let entry: Loose;
    await expect
      .poll(
        async () => {
          const runs = await call('cron.runs', { id: job.id });
          expect(runs.ok).toBe(true);
          entry = runs.payload.entries.find((e: Loose) => e.runId === runId);
          return entry;
        },
        { timeout: 45_000, interval: 500 },
      )
      .toBeTruthy();
    expectValid(validRunEntry, entry);
    expect(entry).toMatchObject({
      jobId: job.id,
      action: 'finished',
      status: 'ok',
      deliveryStatus: 'not-requested',
      delivered: false,
    });
    expect(entry.summary).toContain(`openclaw says hi ${uid}`);
    const all = await call('cron.runs', { scope: 'all', limit: 5 });
    for (const e of all.payload.entries) expectValid(validRunEntry, e);
    expect(all.payload.entries.find((e: Loose) => e.runId === runId)?.jobName).toBe(`Every minute ${uid}`);

    // The job now reports its last run; cron.status counts it.
    const afterRun = await listed(job.id);
    expectValid(validJob, afterRun);
    expect(afterRun.state).toMatchObject({ lastRunStatus: 'ok', lastDeliveryStatus: 'not-requested' });
    const status = await call('cron.status', {});
    expect(status.payload).toMatchObject({ enabled: true, jobs: 1 });
    expect(status.payload.nextWakeAtMs).toBe(afterRun.state.nextRunAtMs);

    // cron.remove: removed once; then it is gone.
    expect((await call('cron.remove', { id: job.id })).payload).toEqual({ ok: true, removed: true });
    created.delete(job.id);
    expect((await call('cron.remove', { jobId: job.id })).payload).toEqual({ ok: true, removed: false });
    const gone = await call('cron.run', { id: job.id });
    expect(gone.ok).toBe(false);
    expect(gone.error).toMatchObject({
      code: 'INVALID_REQUEST',
      details: { code: 'CRON_JOB_NOT_FOUND', jobId: job.id },
    });
    expect(schemas.readCronJobNotFoundError(gone.error)).toEqual({
      code: 'CRON_JOB_NOT_FOUND',
      jobId: job.id,
    });
    expect(client.problems).toEqual([]);
  });

  it('answers INVALID_REQUEST naming the field for what Switchyard does not support, and creates nothing', async () => {
    const base = {
      name: `Unsupported ${uid}`,
      schedule: { kind: 'every', everyMs: 60_000 },
      sessionTarget: 'isolated',
      wakeMode: 'now',
      payload: { kind: 'agentTurn', message: 'x' },
    };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ schedule: { kind: 'on-exit', command: 'make build' } }, /schedule\.kind.*'on-exit'/],
      [{ schedule: { kind: 'stream', command: ['tail', '-f', 'log'] } }, /schedule\.kind.*'stream'/],
      [{ payload: { kind: 'command', argv: ['ls'] } }, /payload\.kind.*'command'/],
      [{ wakeMode: 'next-heartbeat' }, /wakeMode/],
      [{ delivery: { mode: 'announce', channel: 'last' } }, /delivery\.channel.*'last'/],
      [{ sessionTarget: 'current' }, /sessionTarget/],
      [{ deleteAfterRun: true }, /deleteAfterRun/],
      // Switchyard's own validation, by field.
      [{ schedule: { kind: 'cron', expr: '0 25 * * *' } }, /schedule\.expr: hour field '25'/],
      [{ delivery: { mode: 'announce', to: '123' } }, /delivery\.channel: is required/],
    ];
    for (const [override, message] of cases) {
      const res = await call('cron.add', { ...base, ...override });
      expect(res.ok, JSON.stringify(override)).toBe(false);
      expect(res.error.code).toBe('INVALID_REQUEST');
      expect(res.error.message).toMatch(message);
    }
    const page = await call('cron.list', { enabled: 'all', query: `Unsupported ${uid}` });
    expect(page.payload.total).toBe(0);
    expect(client.problems).toEqual([]);
  });
});
