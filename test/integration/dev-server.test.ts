import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Database from 'better-sqlite3';
import { describe, expect, inject, it } from 'vitest';
import { buildGateway } from '../../gateway/server.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { isServing, PortInUseError, startDevServer } from '../../temporal/dev-server.js';
import { startWorker } from '../../worker/worker.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { isAlive } from '../helpers/processes.js';

const cliPath = inject('temporalCli');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-devserver-'));
}

describe('the Temporal dev server launcher', () => {
  it('starts a server that answers, and stops it leaving no process behind', async () => {
    const dir = tempDir();
    const server = await startDevServer({
      cliPath,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      port: await freePort(),
      uiPort: await freePort(),
    });
    try {
      expect(await isServing(server.address)).toBe(true);
      const ui = await fetch(server.uiUrl!);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toMatch(/<html/i);
    } finally {
      await server.stop();
    }
    expect(isAlive(server.pid)).toBe(false);
    expect(await isServing(server.address)).toBe(false);
  });

  it('keeps a completed workflow and its history across a restart on the same SQLite file', async () => {
    const dir = tempDir();
    const port = await freePort();
    const options = {
      cliPath,
      dbFile: join(dir, 'temporal.db'),
      logFile: join(dir, 'temporal.log'),
      port,
      headless: true,
    };
    const taskQueue = uniqueTaskQueue('persist');
    const workflowId = `persist-${taskQueue}`;

    const first = await startDevServer(options);
    const config = testConfig(first.address);
    const dataConverter = dataConverterOf(config);
    const worker = await startWorker({ config, taskQueue });
    let connection = await Connection.connect({ address: first.address });
    await new Client({ connection, dataConverter }).workflow.execute('echoWorkflow', {
      taskQueue,
      workflowId,
      args: [{ text: 'remember me' }],
    });
    await connection.close();
    await worker.shutdown();
    await first.stop();

    const second = await startDevServer(options);
    try {
      connection = await Connection.connect({ address: second.address });
      const handle = new Client({ connection, dataConverter }).workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await handle.result()).toMatchObject({ text: 'remember me' });
      const history = await handle.fetchHistory();
      const types = history.events?.map((e) => e.eventType) ?? [];
      expect(types).toContain(10); // ACTIVITY_TASK_SCHEDULED: the echo activity is in the stored history
      await connection.close();
    } finally {
      await second.stop();
    }
    // The file is kept in WAL mode (set by SQLITE_PRAGMAS, persistent in the file itself).
    const db = new Database(options.dbFile, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('refuses to start on a port that is taken, and says what to do', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const dir = tempDir();
    try {
      const attempt = startDevServer({
        cliPath,
        dbFile: join(dir, 'db'),
        logFile: join(dir, 'log'),
        port,
        headless: true,
      });
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(
        /Port \d+ \(Temporal frontend\) is already in use.*TEMPORAL_ADDRESS/,
      );
    } finally {
      blocker.close();
    }
  });
});

describe('gateway readiness', () => {
  it('reports Temporal down while it is down, and ready once it comes up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const gateway = await buildGateway({ config: testConfig(address), token: 'x'.repeat(20), logger: false });
    const url = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
    const dir = tempDir();
    try {
      const down = await fetch(`${url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ok: false, temporal: { ok: false, address } });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      const server = await startDevServer({
        cliPath,
        dbFile: join(dir, 'db'),
        logFile: join(dir, 'log'),
        port,
        headless: true,
      });
      try {
        await expect
          .poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 20_000, interval: 250 })
          .toBe(200);
        expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({
          ok: true,
          temporal: { ok: true },
          workers: 0,
        });
      } finally {
        await server.stop();
      }
    } finally {
      await gateway.close();
    }
  });
});
