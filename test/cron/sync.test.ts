// switchyard.yaml is the source of truth for declared tasks: `switchyard cron sync` (and the
// gateway at start or on SIGHUP) makes Temporal's Schedules match it — in place, idempotently.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
    client = new Client({ connection: await Connection.connect({ address }) });
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
});
