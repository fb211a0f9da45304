/**
 * `npm run bench:cluster`: turns/s with 1, 2 and 3 worker processes, against the Temporal dev
 * server (SQLite) and against the real server on PostgreSQL (scripts/cluster.sh). Per backend and
 * worker count: one gateway and N `switchyard worker` processes on a fresh task queue, the fake
 * model of `turns` (~0 latency), 10 warm-up turns, then TURNS non-stream `POST /v1/chat/completions`
 * turns at concurrency CONCURRENCY, each its own conversation. Prints a table and writes
 * bench/results/cluster-<timestamp>.json. Every process it starts is stopped by PID.
 * `--only dev` or `--only cluster` runs one backend.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../config/home.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../temporal/cli-path.js';
import { type DevServer, startDevServer } from '../temporal/dev-server.js';
import { benchConfigYaml, startFakeModel, stopFakeModels } from './fake-model.js';
import { type SwitchyardProcess, spawnSwitchyard, stopAllProcesses, tail, waitReady } from './processes.js';
import { buildInfo, load1m } from './report.js';
import { runTurns, summarize } from './turn-load.js';
import { freePort, sleep } from './util.js';

const WORKER_COUNTS = [1, 2, 3];
const WARMUP = 10;
const TURNS = Number(process.env.BENCH_CLUSTER_TURNS ?? 120);
const CONCURRENCY = 12;
const TOKEN = 'bench-cluster-token-0123456789';

interface Row {
  backend: string;
  workers: number;
  turns: number;
  errors: number;
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  load1mStart: number;
  load1mEnd: number;
}

async function waitForLine(p: SwitchyardProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(readFileSync(p.logFile, 'utf8'))) return;
    if (p.hasExited()) throw new Error(`switchyard ${p.kind} exited. Log:\n${tail(p.logFile)}`);
    await sleep(100);
  }
  throw new Error(`switchyard ${p.kind}: no ${pattern} within ${timeoutMs} ms. Log:\n${tail(p.logFile)}`);
}

async function measure(root: string, tmp: string, backend: string, address: string): Promise<Row[]> {
  const model = await startFakeModel();
  const rows: Row[] = [];
  for (const workers of WORKER_COUNTS) {
    const taskQueue = `bench-cluster-${backend}-${workers}-${process.pid}`;
    const home = mkdtempSync(join(tmp, `${backend}-${workers}-`));
    writeFileSync(join(home, 'switchyard.yaml'), benchConfigYaml(model));
    const gatewayPort = await freePort();
    const options = { root, temporalAddress: address, gatewayPort, token: TOKEN, taskQueue };
    const gateway = spawnSwitchyard('gateway', { ...options, home });
    const spawned = Array.from({ length: workers }, (_, i) => {
      const workerHome = join(home, `worker-${i + 1}`);
      mkdirSync(workerHome, { recursive: true });
      writeFileSync(join(workerHome, 'switchyard.yaml'), benchConfigYaml(model));
      return spawnSwitchyard('worker', { ...options, home: workerHome });
    });
    try {
      await Promise.all(spawned.map((w) => waitForLine(w, /worker ready/, 180_000)));
      const url = `http://127.0.0.1:${gatewayPort}`;
      await waitReady(url, [gateway, ...spawned], 100, 120_000);
      const warm = await runTurns(
        url,
        TOKEN,
        WARMUP,
        Math.min(CONCURRENCY, WARMUP),
        `warm-${backend}-${workers}`,
      );
      if (warm.latencies.length === 0) throw new Error(`every warm-up turn failed: ${warm.firstError}`);
      const load1mStart = load1m();
      const batch = await runTurns(url, TOKEN, TURNS, CONCURRENCY, `${backend}-${workers}`);
      const s = summarize(batch);
      const row: Row = {
        backend,
        workers,
        turns: batch.latencies.length,
        errors: batch.errors,
        turnsPerSecond: s.turnsPerSecond,
        p50Ms: s.p50Ms,
        p99Ms: s.p99Ms,
        load1mStart,
        load1mEnd: load1m(),
      };
      rows.push(row);
      console.error(
        `[bench:cluster] ${backend}, ${workers} worker(s): ${row.turnsPerSecond} turns/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.errors} errors${batch.firstError ? ` (first: ${batch.firstError})` : ''}, load ${row.load1mStart} → ${row.load1mEnd}`,
      );
    } finally {
      await Promise.all([gateway.stop(), ...spawned.map((w) => w.stop())]);
    }
  }
  await model.close();
  return rows;
}

async function main(): Promise<number> {
  const root = projectRoot();
  const cliPath = findTemporalCli();
  if (!cliPath) throw new Error(HOW_TO_GET_THE_CLI);
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-bench-cluster-'));
  const script = join(root, 'scripts', 'cluster.sh');
  const clusterDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-pg-'));
  const clusterEnv = {
    ...process.env,
    // Its own directory (not under tmp, which is private): PostgreSQL runs as the postgres user.
    SWITCHYARD_CLUSTER_DIR: clusterDir,
    SWITCHYARD_CLUSTER_PORT: process.env.SWITCHYARD_CLUSTER_PORT ?? '17533',
    SWITCHYARD_CLUSTER_PG_PORT: process.env.SWITCHYARD_CLUSTER_PG_PORT ?? '55632',
  };
  // `--only dev` or `--only cluster` measures one backend.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  let dev: DevServer | undefined;
  let clusterUp = false;
  const rows: Row[] = [];
  try {
    if (only !== 'cluster') {
      dev = await startDevServer({
        cliPath,
        dbFile: join(tmp, 'temporal.db'),
        logFile: join(tmp, 'temporal.log'),
        port: await freePort(),
        headless: true,
      });
      rows.push(...(await measure(root, tmp, 'dev server (SQLite)', dev.address)));
      await dev.stop();
      dev = undefined;
    }
    if (only !== 'dev') {
      const out = execFileSync(script, ['up'], {
        env: clusterEnv,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      clusterUp = true;
      const address = /TEMPORAL_ADDRESS=(\S+)/.exec(out)?.[1];
      if (!address) throw new Error(`scripts/cluster.sh up printed no address:\n${out}`);
      rows.push(...(await measure(root, tmp, 'server v1.32.2 (PostgreSQL)', address)));
    }
  } finally {
    await stopAllProcesses();
    await stopFakeModels();
    await dev?.stop().catch(() => {});
    if (clusterUp) execFileSync(script, ['down'], { env: clusterEnv, stdio: 'inherit' });
    rmSync(tmp, { recursive: true, force: true });
    rmSync(clusterDir, { recursive: true, force: true });
  }
  console.log(
    `\nturns/s at concurrency ${CONCURRENCY}, ${TURNS} turns after ${WARMUP} warm-up (fake model, ~0 latency)\n`,
  );
  console.log('| backend | workers | turns/s | p50 / p99 ms | errors | load 1 min start → end |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.backend} | ${r.workers} | ${r.turnsPerSecond} | ${r.p50Ms} / ${r.p99Ms} | ${r.errors} | ${r.load1mStart} → ${r.load1mEnd} |`,
    );
  }
  const build = buildInfo(root);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const file = join(root, 'bench', 'results', `cluster-${build.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ build, turns: TURNS, warmup: WARMUP, concurrency: CONCURRENCY, rows }, null, 2)}\n`,
  );
  console.log(`results written to ${file}`);
  return rows.some((r) => r.errors > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[bench:cluster] ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
