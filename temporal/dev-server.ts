import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import type { Connection } from '@temporalio/client';

export interface DevServerOptions {
  cliPath: string;
  /** SQLite file: workflows survive a restart of the server. */
  dbFile: string;
  logFile: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  headless?: boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** The Web UI's remote codec (`--ui-codec-endpoint`): the gateway's, so the UI shows encrypted payloads. */
  uiCodecEndpoint?: string;
  /** Extra search attributes to register, e.g. { SwitchyardSession: 'Keyword' }. */
  searchAttributes?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Run it in its own process group (`switchyard up`: Ctrl-C reaches the supervisor only). */
  detached?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  pid: number;
  dbFile: string;
  logFile: string;
  /** Resolves when the process has gone (SIGTERM, then SIGKILL after graceMs). */
  stop(graceMs?: number): Promise<void>;
  /** Resolves with the exit code/signal when the process ends for any reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    what: string,
  ) {
    super(
      `Port ${port} (${what}) is already in use. Another Temporal server may be running: ` +
        `use it with TEMPORAL_ADDRESS=127.0.0.1:${port}, stop it, or pick other ports with ` +
        'temporal.devServer.port / temporal.devServer.uiPort in switchyard.yaml ' +
        '(SWITCHYARD_TEMPORAL_PORT / SWITCHYARD_TEMPORAL_UI_PORT).',
    );
    this.name = 'PortInUseError';
  }
}

/** How the dev server's SQLite file is opened (`--sqlite-pragma`). */
export const SQLITE_PRAGMAS = ['journal_mode=WAL', 'synchronous=NORMAL'];

/** Where a dev server started with these options serves (known before it starts). */
export function devServerAddress(options: Pick<DevServerOptions, 'ip' | 'port'>): string {
  return `${options.ip ?? '127.0.0.1'}:${options.port ?? 7233}`;
}

/** Its Web UI, unless headless (known before it starts). */
export function devServerUiUrl(
  options: Pick<DevServerOptions, 'ip' | 'port' | 'uiPort' | 'headless'>,
): string | undefined {
  if (options.headless) return undefined;
  const ip = options.ip ?? '127.0.0.1';
  const uiPort = options.uiPort ?? (options.port ?? 7233) + 1000;
  return `http://${ip === '0.0.0.0' ? '127.0.0.1' : ip}:${uiPort}`;
}

/** Starts `temporal server start-dev` and resolves once its frontend answers health checks. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? port + 1000;
  await assertPortFree(ip, port, 'Temporal frontend');
  if (!options.headless) await assertPortFree(ip, uiPort, 'Temporal Web UI');

  mkdirSync(dirname(options.dbFile), { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFile,
    '--ip',
    ip,
    '--port',
    String(port),
    '--log-level',
    options.logLevel ?? 'warn',
    // SQLite in WAL mode, synced at checkpoints: the default rollback journal cost the server
    // ~80–110 ms of CPU per turn (docs/benchmarks.md). WAL with synchronous=NORMAL never corrupts
    // the file; a power cut can lose the last commits (a process crash loses nothing).
    ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...(options.headless ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(options.uiCodecEndpoint && !options.headless ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...Object.entries(options.searchAttributes ?? {}).flatMap(([k, v]) => [
      '--search-attribute',
      `${k}=${v}`,
    ]),
  ];
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.cliPath, args, {
      stdio: ['ignore', log, log],
      detached: options.detached ?? false,
    });
  } finally {
    closeSync(log);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  const address = devServerAddress(options);
  const server: DevServer = {
    address,
    uiUrl: devServerUiUrl(options),
    pid: child.pid ?? -1,
    dbFile: options.dbFile,
    logFile: options.logFile,
    exited,
    stop: (graceMs = 10_000) => stopChild(child, exited, graceMs),
  };
  try {
    await waitUntilServing(address, exited, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await server.stop(2_000);
    throw new Error(
      `${(err as Error).message}\nLast lines of ${options.logFile}:\n${tail(options.logFile, 15)}`,
    );
  }
  return server;
}

async function waitUntilServing(address: string, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`temporal server start-dev exited before it was ready (${address})`);
    if (await isServing(address)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`temporal server start-dev did not become ready on ${address} within ${timeoutMs} ms`);
}

/** One gRPC health check against a Temporal frontend; false on any failure. */
export async function isServing(address: string, timeoutMs = 1_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    // Loaded here, not at import: `switchyard up` starts the gateway before it needs the client.
    const { Connection } = await import('@temporalio/client');
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    const res = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.healthService.check({}),
    );
    return res.status === 1; // SERVING
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

function assertPortFree(host: string, port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, what) : err),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
