/**
 * `npm run bench`: starts ONE Temporal dev server, runs the registered measurements in order,
 * prints a table and writes bench/results/<timestamp>.json. `--only a,b` runs a subset,
 * `--list` names them. Every process it starts is stopped by PID, even on error or Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../config/home.js';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../temporal/cli-path.js';
import { type DevServer, startDevServer } from '../temporal/dev-server.js';
import { createContext } from './context.js';
import { stopFakeModels } from './fake-model.js';
import { stopAllProcesses } from './processes.js';
import { measurements } from './registry.js';
import { type BenchReport, buildInfo, load1m, machineInfo, printTable, writeReport } from './report.js';
import type { MeasurementOutput } from './types.js';
import { freePort } from './util.js';

function selected(argv: string[]) {
  const only = argv.flatMap((arg, i) =>
    arg === '--only'
      ? (argv[i + 1] ?? '').split(',')
      : arg.startsWith('--only=')
        ? arg.slice(7).split(',')
        : [],
  );
  const unknown = only.filter((name) => !measurements.some((m) => m.name === name));
  if (unknown.length > 0) throw new Error(`unknown measurement(s): ${unknown.join(', ')}`);
  return only.length === 0 ? measurements : measurements.filter((m) => only.includes(m.name));
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--list') || argv.includes('--help')) {
    console.log('usage: node dist/bench/run.js [--only name[,name]] [--list]\n');
    for (const m of measurements) console.log(`  ${m.name.padEnd(16)} ${m.description}`);
    return 0;
  }
  const todo = selected(argv);
  const cliPath = findTemporalCli();
  if (!cliPath) throw new Error(HOW_TO_GET_THE_CLI);
  const root = projectRoot();
  const build = buildInfo(root);
  const loadAtStart = load1m();
  const tmp = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  let temporal: Promise<DevServer> | undefined;
  let stopping: Promise<void> | undefined;
  // Once only, whoever asks first (the finally below or a signal); later spawns are refused.
  const cleanup = () =>
    (stopping ??= (async () => {
      await stopAllProcesses();
      await stopFakeModels();
      await temporal?.then((server) => server.stop(10_000)).catch(() => {});
      rmSync(tmp, { recursive: true, force: true });
    })());
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    temporal = startDevServer({
      cliPath,
      dbFile: join(tmp, 'temporal.db'),
      logFile: join(tmp, 'temporal.log'),
      port: await freePort(),
      headless: true,
    });
    const server = await temporal;
    console.error(`[bench] Temporal dev server pid ${server.pid} on ${server.address}`);
    const ctx = createContext(root, tmp, server, 'bench-token-0123456789abcdef');
    const outputs: Array<[string, MeasurementOutput]> = [];
    const errors: Record<string, string> = {};
    for (const m of todo) {
      if (stopping) break;
      console.error(`[bench] ${m.name}: ${m.description}`);
      try {
        outputs.push([m.name, await m.run(ctx)]);
      } catch (err) {
        errors[m.name] = (err as Error).message;
        console.error(`[bench] ${m.name} failed: ${(err as Error).message}`);
      }
    }
    if (stopping) return 130;
    const machine = machineInfo(loadAtStart);
    printTable(build, machine, outputs);
    const report: BenchReport = {
      build,
      machine,
      temporal: { cli: cliPath, address: server.address },
      results: Object.fromEntries(outputs.map(([name, out]) => [name, out.data])),
      ...(Object.keys(errors).length > 0 ? { errors } : {}),
    };
    console.log(`results written to ${writeReport(root, report)}`);
    return Object.keys(errors).length > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[bench] ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
