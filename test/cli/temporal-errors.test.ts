/**
 * CLI commands that talk to Temporal say in one line what is wrong and what to do — no gRPC stack —
 * and exit non-zero: no worker polling the task queue (a query cannot be answered), no Temporal at
 * the address (the real `switchyard` binary, as a person runs it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerSessionsCommands } from '../../cli/commands/sessions.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { BIN } from '../helpers/processes.js';

const run = promisify(execFile);

describe('a session whose task queue no worker polls', () => {
  const address = inject('temporalAddress');
  const taskQueue = `no-worker-${Date.now()}`;
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    connection = await Connection.connect({ address });
    client = new Client({ connection });
    await client.workflow.start('sessionWorkflow', {
      taskQueue,
      workflowId: 'session:agent:main:orphan',
      args: [{ sessionKey: 'agent:main:orphan' }],
    });
  });
  afterAll(async () => {
    await client.workflow
      .getHandle('session:agent:main:orphan')
      .terminate('test over')
      .catch(() => {});
    await connection.close();
  });

  // The server holds a query for a worker for 30 s before it gives up.
  it('`sessions show` says no worker is running and how to start one, in one line, exit 1', {
    timeout: 120_000,
  }, async () => {
    const result = await runCli(
      (program) =>
        registerSessionsCommands(program, {
          connect: async () => ({ client, close: async () => {}, taskQueue, address }),
        }),
      'sessions',
      'show',
      'agent:main:orphan',
    );
    expect(result.exitCode).toBe(1);
    expect(result.out).toBe('');
    expect(result.err.trim().split('\n')).toEqual([
      `error: no worker is running for task queue "${taskQueue}" on ${address}: start \`switchyard up\` or \`switchyard worker\``,
    ]);
  });
});

describe('no Temporal at the configured address', () => {
  it('every Temporal command says so in one line and exits 1', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const env = {
      ...process.env,
      SWITCHYARD_HOME: mkdtempSync(join(tmpdir(), 'switchyard-cli-errors-')),
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    };
    const commands = [
      ['sessions', 'show', 'agent:main:main'],
      ['approvals', 'list'],
      ['cron', 'list'],
      ['pipelines', 'signal', 'pipeline-x', 'approval'],
    ];
    const results = await Promise.all(
      commands.map((args) =>
        run(process.execPath, [BIN, ...args], { env }).then(
          () => ({ args, failed: undefined }),
          (error: { code: number; stdout: string; stderr: string }) => ({ args, failed: error }),
        ),
      ),
    );
    for (const { args, failed } of results) {
      expect(failed, args.join(' ')).toBeDefined();
      expect(failed!.code, args.join(' ')).not.toBe(0);
      const lines = failed!.stderr.trim().split('\n');
      expect(lines, `${args.join(' ')}:\n${failed!.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^error: cannot reach Temporal at 127\\.0\\.0\\.1:${port}( \\([a-z ]+\\))?: start \`switchyard up\``,
        ),
      );
    }
  });
});
