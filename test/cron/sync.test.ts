// switchyard.yaml is the source of truth for declared tasks: `switchyard cron sync` (and the
// gateway at start or on SIGHUP) makes Temporal's Schedules match it — in place, idempotently.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { BIN } from '../helpers/processes.js';

const run = promisify(execFile);

describe('switchyard cron sync (config reload)', () => {
  const address = inject('temporalAddress');
  const home = mkdtempSync(join(tmpdir(), 'switchyard-cron-sync-'));
  const id = `sync-${Date.now()}`;
  const env = {
    ...process.env,
    SWITCHYARD_HOME: home,
    TEMPORAL_ADDRESS: address,
    SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('sync'),
  };
  let client: Client;

  const writeTask = (expr: string | undefined) =>
    writeFileSync(
      join(home, 'switchyard.yaml'),
      expr === undefined
        ? 'cron:\n  tasks: []\n'
        : `cron:\n  tasks:\n    - id: ${id}\n      schedule: { kind: cron, expr: "${expr}", tz: Europe/Berlin }\n      payload: { kind: agentTurn, message: brief me }\n`,
    );
  const sync = async () => (await run(process.execPath, [BIN, 'cron', 'sync'], { env })).stdout;

  beforeAll(async () => {
    // This install's key (created in its data dir on first use, then read by the CLI too).
    const config = loadConfig({ home, env });
    client = new Client({
      connection: await Connection.connect({ address }),
      dataConverter: dataConverterOf(config),
    });
  });
  afterAll(async () => {
    await client?.connection.close();
  });

  it('creates, then changes nothing, then updates in place, then deletes', async () => {
    writeTask('0 8 * * *');
    expect(await sync()).toContain(`created: ${id}`);
    const handle = client.schedule.getHandle(`cron:${id}`);
    const created = await handle.describe();
    expect(created.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 8, end: 8, step: 1 }] });

    expect(await sync()).toMatch(new RegExp(`created: -\\nupdated: -\\ndeleted: -\\nunchanged: ${id}`));

    writeTask('30 9 * * *');
    expect(await sync()).toContain(`updated: ${id}`);
    const updated = await handle.describe();
    expect(updated.info.createdAt).toEqual(created.info.createdAt); // the same Schedule, edited
    expect(updated.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 9, end: 9, step: 1 }] });

    writeTask(undefined);
    expect(await sync()).toContain(`deleted: ${id}`);
    await expect(handle.describe()).rejects.toThrow(/not found/i);
  });

  it('refuses an invalid task with the field and line, and changes nothing', async () => {
    writeTask('0 25 * * *');
    const failed = await run(process.execPath, [BIN, 'cron', 'sync'], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(
      /switchyard\.yaml:4:\d+: cron\.tasks\.0\.schedule\.expr: .*hour/,
    );
  });

  it("leaves another install's Schedule alone, encrypted with a key this one lacks, and is not stopped by it", async () => {
    // Another install on the same namespace: its own data dir, so its own encryption key.
    const otherHome = mkdtempSync(join(tmpdir(), 'switchyard-cron-sync-other-'));
    const otherId = `sync-other-${Date.now()}`;
    const otherEnv = {
      ...env,
      SWITCHYARD_HOME: otherHome,
      SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('sync-other'),
    };
    const otherTask = `cron:\n  tasks:\n    - id: ${otherId}\n      schedule: { kind: every, everyMs: 3600000 }\n      payload: { kind: agentTurn, message: hello }\n`;
    writeFileSync(join(otherHome, 'switchyard.yaml'), otherTask);
    expect((await run(process.execPath, [BIN, 'cron', 'sync'], { env: otherEnv })).stdout).toContain(
      `created: ${otherId}`,
    );
    // This install declares no task: its sync lists the namespace's Schedules, cannot read the
    // other's memo, and neither fails nor deletes it.
    writeTask(undefined);
    expect(await sync()).toMatch(/created: -\nupdated: -\ndeleted: -/);
    // Still there (read raw: this test's client lacks the other install's key).
    const raw = await client.workflowService.describeSchedule({
      namespace: 'default',
      scheduleId: `cron:${otherId}`,
    });
    expect(raw.schedule?.action?.startWorkflow?.taskQueue?.name).toBe(otherEnv.SWITCHYARD_TASK_QUEUE);
    writeFileSync(join(otherHome, 'switchyard.yaml'), 'cron:\n  tasks: []\n');
    expect((await run(process.execPath, [BIN, 'cron', 'sync'], { env: otherEnv })).stdout).toContain(
      `deleted: ${otherId}`,
    );
  });
});
