/**
 * Where a worker or gateway process writes what. Its console (stdout, which `switchyard up`
 * shows prefixed with the process name) carries Switchyard's own concise lines; everything
 * else — the Temporal SDK's logs (workers, workflows, activities and the native core, through
 * `Runtime.install({ logger })`) and fastify's — goes as JSON lines to
 * `<data dir>/logs/<process>.log`, at `log.level`. A warning or error from Switchyard's own code
 * (a workflow's `log.warn`, the gateway's `app.log.error`) also reaches the console, as one line:
 * its message, what it concerns and the error's first line. The SDK's own warnings (an
 * activity attempt failed, a queue with no workflows to poll) and every stack trace stay in the
 * file.
 */
import { join } from 'node:path';
import type { LogLevel, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import pino from 'pino';
import type { Config } from '../config/config.js';
import { homePaths } from '../config/home.js';

export interface ProcessLog {
  /** The process's logger (the gateway hands it to fastify). */
  logger: pino.Logger;
  /** `<data dir>/logs/<process>.log`. */
  file: string;
  /** Shut the Temporal runtime down and flush the file. Call once, before the process exits. */
  close(): Promise<void>;
}

const TEMPORAL_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/** Installs the process's logging: the file, the console, and the Temporal runtime's logger. */
export function installProcessLog(name: 'worker' | 'gateway', config: Config): ProcessLog {
  const file = join(homePaths(config.home).logsDir, `${name}.log`);
  const level = config.log.level;
  const fileStream = pino.destination({ dest: file, append: true, mkdir: true, sync: false });
  const logger = pino(
    { level, serializers: { err: serializeError, error: serializeError } },
    pino.multistream([
      { level: level === 'silent' ? 'fatal' : (level as pino.Level), stream: fileStream },
      { level: 'warn', stream: { write: (line: string) => printForConsole(line) } },
    ]),
  );
  const runtime = Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: TEMPORAL_LEVELS[level] ?? 'INFO', other: 'ERROR' }, forward: {} },
    },
  });
  return {
    logger,
    file,
    async close() {
      // A runtime that went idle was shut down and may have been re-created; shut down the current one.
      await (Runtime._instance ?? runtime).shutdown();
      await new Promise<void>((resolve) => fileStream.flush(() => resolve()));
    },
  };
}

/** The Temporal SDK's logger interface over pino: its metadata becomes the entry's fields. */
function temporalLogger(logger: pino.Logger): TemporalLogger & { flush(): void } {
  const write = (level: LogLevel, message: string, meta?: Record<string | symbol, unknown>) => {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    logger[method](meta ?? {}, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
    flush: () => logger.flush(),
  };
}

/** Errors keep their stack in the file; a Temporal failure's `type` (what `catch:` matches) is kept too. */
function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const failureType = (value as { type?: unknown }).type;
  return { ...pino.stdSerializers.err(value), ...(typeof failureType === 'string' ? { failureType } : {}) };
}

/** Components whose warnings are the SDK's own bookkeeping, not news for the person at the console. */
const SDK_COMPONENTS = new Set(['worker', 'core', 'nexus']);

function printForConsole(line: string): void {
  let entry: LogEntry;
  try {
    entry = JSON.parse(line) as LogEntry;
  } catch {
    return;
  }
  const text = consoleLine(entry);
  if (text !== undefined) process.stdout.write(`${text}\n`);
}

export interface LogEntry {
  level: number;
  msg?: string;
  sdkComponent?: string;
  sessionKey?: string;
  taskId?: string;
  activityType?: string;
  workflowType?: string;
  workflowId?: string;
  err?: unknown;
  error?: unknown;
  [key: string]: unknown;
}

const WARN = 40;
const ERROR = 50;

/**
 * The one console line for a log entry, or undefined when it belongs in the file only:
 * `<message> (<what it concerns>): <the error's first line>`, errors prefixed `error:`.
 */
export function consoleLine(entry: LogEntry): string | undefined {
  if (entry.level < WARN) return undefined;
  if (entry.sdkComponent && SDK_COMPONENTS.has(entry.sdkComponent) && entry.level < ERROR) return undefined;
  const about = [
    entry.sessionKey && `session ${entry.sessionKey}`,
    entry.taskId && `task ${entry.taskId}`,
    entry.activityType && `activity ${entry.activityType}`,
    !entry.sessionKey &&
      !entry.taskId &&
      entry.workflowType &&
      `${entry.workflowType} ${entry.workflowId ?? ''}`.trim(),
  ].filter(Boolean);
  const error = errorLine(entry.err ?? entry.error);
  return [
    entry.level >= ERROR ? 'error: ' : '',
    entry.msg ?? '',
    about.length > 0 ? ` (${about.join(', ')})` : '',
    error ? `: ${error}` : '',
  ].join('');
}

function errorLine(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return firstLine(error);
  if (typeof error === 'object') {
    const { failureType, type, message } = error as {
      failureType?: unknown;
      type?: unknown;
      message?: unknown;
    };
    const name = typeof failureType === 'string' ? failureType : typeof type === 'string' ? type : undefined;
    const text = typeof message === 'string' ? firstLine(message) : undefined;
    if (text) return name && !text.startsWith(name) ? `${name}: ${text}` : text;
    if (name) return name;
  }
  return firstLine(String(error));
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}
