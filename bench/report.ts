import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { MeasurementOutput } from './types.js';

export interface BuildInfo {
  commit: string | null;
  /** Uncommitted changes in the work tree when the bench ran. */
  dirty: boolean | null;
  node: string;
  date: string;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string | null;
  memoryMiB: number;
  platform: string;
  arch: string;
  kernel: string;
  /** 1-minute load average when the bench started and ended: high values mean other work shared the CPUs. */
  loadAvg1m: { start: number; end: number };
}

export interface BenchReport {
  build: BuildInfo;
  machine: MachineInfo;
  temporal: { cli: string; address: string };
  results: Record<string, Record<string, unknown>>;
  errors?: Record<string, string>;
}

function git(root: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export function buildInfo(root: string, date = new Date()): BuildInfo {
  const status = git(root, ['status', '--porcelain']);
  return {
    commit: git(root, ['rev-parse', '--short', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
    node: process.version,
    date: date.toISOString(),
  };
}

/** The 1-minute load average now, to two decimals. */
export function load1m(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

export function machineInfo(loadAtStart: number): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? null,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    platform: platform(),
    arch: arch(),
    kernel: release(),
    loadAvg1m: { start: loadAtStart, end: load1m() },
  };
}

export function printTable(
  build: BuildInfo,
  machine: MachineInfo,
  outputs: Array<[name: string, MeasurementOutput]>,
): void {
  const rows = outputs.flatMap(([name, out]) =>
    out.rows.map(([metric, value]) => [name, metric, value] as const),
  );
  const w0 = Math.max(11, ...rows.map((r) => r[0].length));
  const w1 = Math.max(6, ...rows.map((r) => r[1].length));
  const w2 = Math.max(5, ...rows.map((r) => r[2].length));
  const line = (a: string, b: string, c: string) =>
    `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padStart(w2)} |`;
  const rule = `|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}|${'-'.repeat(w2 + 2)}|`;
  console.log(
    `\nSwitchyard bench — commit ${build.commit ?? 'unknown'}${build.dirty ? ' (dirty)' : ''}, node ${build.node}, ` +
      `${machine.cpus} CPUs, ${Math.round(machine.memoryMiB / 1024)} GiB, ${build.date}, ` +
      `load ${machine.loadAvg1m.start} → ${machine.loadAvg1m.end}\n`,
  );
  console.log(line('measurement', 'metric', 'value'));
  console.log(rule);
  for (const r of rows) console.log(line(...r));
  console.log('');
}

/** Writes bench/results/<timestamp>.json and returns its path. */
export function writeReport(root: string, report: BenchReport): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.build.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
