import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, http, sleep } from './util.js';

export type Kind = 'gateway' | 'worker';

/** A `node bin/switchyard.js <kind>` child with its own log file. */
export interface SwitchyardProcess {
  kind: Kind;
  pid: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** SIGTERM by PID, SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Every child still alive, so run.ts can stop them all (by PID) whatever happened. */
const live = new Set<SwitchyardProcess>();
let closed = false;

/** Stops every child still running and refuses to spawn more (the run is ending). */
export async function stopAllProcesses(): Promise<void> {
  closed = true;
  await Promise.all([...live].map((p) => p.stop(5_000).catch(() => {})));
}

export interface SpawnOptions {
  root: string;
  /** SWITCHYARD_HOME for this process (created if missing). */
  home: string;
  temporalAddress: string;
  gatewayPort: number;
  token: string;
  taskQueue: string;
}

/** Environment of a child: the caller's, minus any Switchyard/Temporal settings, plus ours. */
function childEnv(o: SpawnOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SWITCHYARD_') && !key.startsWith('TEMPORAL_')) env[key] = value;
  }
  return {
    ...env,
    SWITCHYARD_HOME: o.home,
    SWITCHYARD_GATEWAY_HOST: '127.0.0.1',
    SWITCHYARD_GATEWAY_PORT: String(o.gatewayPort),
    SWITCHYARD_GATEWAY_TOKEN: o.token,
    TEMPORAL_ADDRESS: o.temporalAddress,
    SWITCHYARD_TASK_QUEUE: o.taskQueue,
  };
}

export function spawnSwitchyard(kind: Kind, o: SpawnOptions): SwitchyardProcess {
  if (closed) throw new Error('the bench is stopping: no new processes');
  mkdirSync(o.home, { recursive: true });
  const logFile = join(o.home, `${kind}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [join(o.root, 'bin', 'switchyard.js'), kind], {
      cwd: o.root,
      env: childEnv(o),
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not spawn switchyard ${kind}`);
  const pid = child.pid;
  let gone = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  }).then((result) => {
    gone = true;
    live.delete(proc);
    return result;
  });
  const proc: SwitchyardProcess = {
    kind,
    pid,
    logFile,
    exited,
    hasExited: () => gone,
    async stop(graceMs = 15_000) {
      if (gone) return;
      signal(pid, 'SIGTERM');
      const timer = setTimeout(() => signal(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  return proc;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A gateway and a worker on one task queue, ready (`/readyz` 200 with workers >= 1). */
export interface Stack {
  gateway: SwitchyardProcess;
  worker: SwitchyardProcess;
  url: string;
  home: string;
  taskQueue: string;
  /** performance.now() when both were spawned and when /readyz first said ready. */
  spawnedAt: number;
  readyAt: number;
  stop(): Promise<void>;
}

export interface StackOptions {
  root: string;
  home: string;
  temporalAddress: string;
  token: string;
  /** Unique per stack: pollers of a stopped worker stay listed on its queue for a while. */
  taskQueue: string;
  pollMs?: number;
  timeoutMs?: number;
}

/** Spawns gateway and worker at the same moment and waits for the first ready `/readyz`. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const gatewayPort = await freePort();
  const spawnOptions: SpawnOptions = { ...o, gatewayPort };
  const url = `http://127.0.0.1:${gatewayPort}`;
  const spawnedAt = performance.now();
  const gateway = spawnSwitchyard('gateway', spawnOptions);
  let worker: SwitchyardProcess | undefined;
  try {
    worker = spawnSwitchyard('worker', spawnOptions);
    const readyAt = await waitReady(url, [gateway, worker], o.pollMs ?? 20, o.timeoutMs ?? 60_000);
    const both = { gateway, worker };
    return {
      ...both,
      url,
      home: o.home,
      taskQueue: o.taskQueue,
      spawnedAt,
      readyAt,
      stop: () => Promise.all([both.gateway.stop(), both.worker.stop()]).then(() => {}),
    };
  } catch (err) {
    await Promise.all([gateway.stop(5_000), worker?.stop(5_000)]);
    throw err;
  }
}

/** Polls GET /readyz every pollMs until 200 with workers >= 1; returns performance.now() of that answer. */
export async function waitReady(
  url: string,
  processes: SwitchyardProcess[],
  pollMs: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    const started = performance.now();
    for (const p of processes) {
      if (p.hasExited())
        throw new Error(`switchyard ${p.kind} exited before ready. Log:\n${tail(p.logFile)}`);
    }
    try {
      const res = await http(`${url}/readyz`, { timeoutMs: 5_000 });
      if (res.status === 200) {
        const body = JSON.parse(res.body) as { workers?: number | null };
        if ((body.workers ?? 0) >= 1) return performance.now();
      }
      last = `${res.status} ${res.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(Math.max(0, started + pollMs - performance.now()));
  }
  throw new Error(`${url}/readyz not ready within ${timeoutMs} ms (last: ${last})`);
}
