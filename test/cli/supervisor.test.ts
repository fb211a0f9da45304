// The supervisor behind `switchyard up`: how long it waits before a restart, and that it really
// restarts a process that died (SIGKILL, a crash, a start that fails), says so on the console,
// and stops restarting once it is told to stop.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Launched, launchNodeChild, RestartBackoff, Supervised } from '../../cli/supervisor.js';
import { isAlive } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/** Polls until `condition` holds. */
const whenTrue = (condition: () => boolean) => until(() => condition() || undefined, 20_000);

describe('the restart delay', () => {
  it('is quick after a stable run, doubles while restarts follow each other, and stops at the cap', () => {
    const backoff = new RestartBackoff();
    const crashAtOnce = [0, 0, 0, 0, 0, 0, 0, 0, 0].map(() => backoff.next(0));
    expect(crashAtOnce).toEqual([250, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts over after 10 s of uptime', () => {
    const backoff = new RestartBackoff();
    for (let i = 0; i < 5; i++) backoff.next(1_000);
    expect(backoff.next(9_999)).toBe(16_000);
    expect(backoff.next(10_000)).toBe(250);
    expect(backoff.next(10)).toBe(1_000);
  });

  it('stays quick for a process killed every half minute (each run started fine)', () => {
    const backoff = new RestartBackoff();
    expect([30_000, 25_000, 40_000, 12_000, 30_000].map((up) => backoff.next(up))).toEqual([
      250, 250, 250, 250, 250,
    ]);
  });

  it('takes its bounds from the options', () => {
    const backoff = new RestartBackoff({ firstMs: 5, baseMs: 10, capMs: 25, stableMs: 100 });
    expect([0, 0, 0, 0].map(() => backoff.next(0))).toEqual([5, 10, 20, 25]);
    expect(backoff.next(100)).toBe(5);
  });
});

describe('a supervised process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-supervisor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fast = { firstMs: 20, baseMs: 50, capMs: 200, stableMs: 60_000 };

  /** A child that says its pid, then lives (or exits with `code` after `ms`). */
  function script(name: string, body: string): string {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, body);
    return file;
  }

  function nodeChild(name: string, file: string, lines: string[]) {
    const logFile = join(dir, `${name}.log`);
    const child = {
      name,
      command: process.execPath,
      args: [file],
      env: { PATH: process.env.PATH ?? '' },
      logFile,
      print: (line: string) => lines.push(line),
    };
    return { logFile, launch: async () => launchNodeChild(child) };
  }

  it('is restarted after a SIGKILL, with a console line naming the signal and the log', async () => {
    const lines: string[] = [];
    const file = script('sleeper', "console.log('up as ' + process.pid); setInterval(() => {}, 1000);");
    const { logFile, launch } = nodeChild('sleeper', file, lines);
    const supervised = new Supervised({
      name: 'sleeper',
      logFile,
      print: (l) => lines.push(l),
      launch,
      backoff: fast,
    });
    await supervised.start();
    try {
      const first = supervised.pid!;
      await whenTrue(() => lines.includes(`[sleeper] up as ${first}`));
      process.kill(first, 'SIGKILL');
      await whenTrue(() => supervised.pid !== first && lines.includes(`[sleeper] up as ${supervised.pid}`));
      expect(lines).toContain(
        `[supervisor] sleeper exited (SIGKILL); restarting in 0.02s (restart #1; see ${logFile})`,
      );
      expect(isAlive(first)).toBe(false);
      expect(supervised.restarts).toBe(1);
      // Its stdout is kept in its log as well.
      expect(readFileSync(logFile, 'utf8')).toContain(`up as ${first}\n`);
    } finally {
      await supervised.stop(2_000);
    }
  });

  it('says why a crashing process ended, and waits longer each time it crashes again', async () => {
    const lines: string[] = [];
    const file = script(
      'crasher',
      "console.log('starting'); setTimeout(() => { throw new TypeError('the config is upside down'); }, 10);",
    );
    const { logFile, launch } = nodeChild('crasher', file, lines);
    const supervised = new Supervised({
      name: 'crasher',
      logFile,
      print: (l) => lines.push(l),
      launch,
      backoff: fast,
    });
    await supervised.start();
    try {
      await whenTrue(() => supervised.restarts >= 3);
    } finally {
      await supervised.stop(2_000);
    }
    const exits = lines.filter((l) => l.startsWith('[supervisor] crasher exited'));
    expect(exits[0]).toBe(
      `[supervisor] crasher exited (code 1): TypeError: the config is upside down; restarting in 0.02s (restart #1; see ${logFile})`,
    );
    expect(exits.slice(0, 3).map((l) => /restarting in ([\d.]+)s/.exec(l)![1])).toEqual([
      '0.02',
      '0.05',
      '0.1',
    ]);
  });

  it('keeps trying when a restart fails to start, and says why', async () => {
    const lines: string[] = [];
    let launches = 0;
    let alive: Launched | undefined;
    const file = script('flaky', 'setInterval(() => {}, 1000);');
    const { logFile, launch } = nodeChild('flaky', file, lines);
    const supervised = new Supervised({
      name: 'flaky',
      logFile,
      print: (l) => lines.push(l),
      backoff: fast,
      launch: async () => {
        launches++;
        // The second and third launches fail as a dev server's does when its port is taken.
        if (launches === 2 || launches === 3)
          throw new Error('Port 7233 (Temporal frontend) is already in use.\nmore');
        alive = await launch();
        return alive;
      },
      back: (run) => `flaky is back (pid ${run.pid})`,
    });
    await supervised.start();
    try {
      const first = supervised.pid!;
      process.kill(first, 'SIGKILL');
      await whenTrue(() => launches === 4 && supervised.pid !== first);
      expect(lines.filter((l) => l.includes('did not start'))).toEqual([
        `[supervisor] flaky did not start: Port 7233 (Temporal frontend) is already in use.; restarting in 0.05s (restart #2; see ${logFile})`,
        `[supervisor] flaky did not start: Port 7233 (Temporal frontend) is already in use.; restarting in 0.1s (restart #3; see ${logFile})`,
      ]);
      expect(lines.at(-1)).toBe(`[supervisor] flaky is back (pid ${alive!.pid})`);
    } finally {
      await supervised.stop(2_000);
    }
  });

  it('is not restarted once it was told to stop, and stop() waits until it is gone', async () => {
    const lines: string[] = [];
    const file = script(
      'stopper',
      "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 50)); setInterval(() => {}, 1000);",
    );
    const { logFile, launch } = nodeChild('stopper', file, lines);
    const supervised = new Supervised({
      name: 'stopper',
      logFile,
      print: (l) => lines.push(l),
      launch,
      backoff: fast,
    });
    await supervised.start();
    const pid = supervised.pid!;
    await supervised.stop(2_000);
    expect(isAlive(pid)).toBe(false);
    // A sentinel with the same delays, killed after the stop: once it is back, a restart of the
    // stopped one would have happened too.
    const sentinel = new Supervised({ name: 'sentinel', logFile, print: () => {}, launch, backoff: fast });
    await sentinel.start();
    const sentinelPid = sentinel.pid!;
    process.kill(sentinelPid, 'SIGKILL');
    await whenTrue(() => sentinel.restarts === 1 && sentinel.pid !== sentinelPid);
    await sentinel.stop(2_000);
    expect(supervised.restarts).toBe(0);
    expect(lines.filter((l) => l.startsWith('[supervisor]'))).toEqual([]);
  });
});
