// The short variant of `npm run chaos` (bench/chaos.ts), as CI runs it: `switchyard up` on private
// ports with crabline's Telegram server and a wire model, 60 messages over 6 chats, 10 seeded
// SIGKILLs of the worker, the gateway (some at the instant a reply reached Telegram) and the
// Temporal dev server. Every message must be answered exactly once; the full size (1,000
// messages, 100 kills) and its figures are in docs/benchmarks.md.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChaosReport } from '../../bench/chaos.js';
import { projectRoot } from '../../config/home.js';

const run = promisify(execFile);
// Its schedule has 4 worker, 3 gateway (all three inside the send path) and 3 dev-server kills.
const SEED = '7';

describe('npm run chaos --short', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-chaos-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers every one of 60 messages exactly once while the worker, gateway and dev server are SIGKILLed 10 times', async () => {
    const json = join(dir, 'report.json');
    const outcome = await run(
      process.execPath,
      [join(projectRoot(), 'dist', 'bench', 'chaos.js'), '--short', '--seed', SEED, '--json', json],
      { timeout: 1_100_000, maxBuffer: 16 * 1024 * 1024 },
    ).then(
      (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? -1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    console.log(outcome.out); // the run's table and progress, for the CI log
    const report = JSON.parse(readFileSync(json, 'utf8')) as ChaosReport;
    expect(report.outcomes, outcome.out).toMatchObject({ lost: 0, duplicated: 0 });
    expect(report.outcomes.once + report.outcomes.late + report.outcomes.batched).toBe(60);
    expect(report.sentinels).toEqual({ sent: 6, answeredOnce: 6 });
    expect(report.strayReplies).toBe(0);
    expect(report.errorReplies, report.firstErrorReply).toBe(0);
    // Every kill of the schedule happened, each seen by `switchyard up`, which restarted it.
    expect(
      report.killLog.filter((k) => k.skipped),
      outcome.out,
    ).toEqual([]);
    expect(report.kills).toMatchObject({ total: 10, byTarget: { worker: 4, gateway: 3, temporal: 3 } });
    expect(report.kills.insideSend).toBe(3);
    expect(report.restarts.worker).toBeGreaterThanOrEqual(4);
    expect(report.restarts.gateway).toBeGreaterThanOrEqual(3);
    expect(report.restarts.temporal).toBeGreaterThanOrEqual(3);
    // A reply whose send was cut off is never sent again: each uncertain one reached the chat once.
    expect(report.uncertain.notDelivered).toBe(0);
    expect(outcome.code, outcome.out).toBe(0);
  }, 1_200_000);
});
