import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { connectionOptions } from '../temporal/connection.js';
import { dataConverterOf } from '../temporal/data-converter.js';
import { loadConfigOrExit } from './load.js';

/** A Temporal client for one CLI command, the config it came from, and how to let it go. */
export interface OpenedClient {
  client: Client;
  config: Config;
  /** Where it is connected and which task queue the worker serves (for error messages). */
  address: string;
  taskQueue: string;
  close(): Promise<void>;
}

/** An error whose message is one line a person can act on: printed as it is, exit 1. */
export class CliProblem extends Error {
  override readonly name = 'CliProblem';
}

export interface TemporalWhere {
  address?: string;
  taskQueue?: string;
}

/**
 * One actionable line for a failure to reach Temporal or to get an answer from a worker (a query
 * needs a worker polling the workflow's task queue); undefined for anything else.
 */
export function temporalProblem(error: unknown, where: TemporalWhere = {}): string | undefined {
  const text = messagesOf(error).join(' | ');
  const at = where.address ? ` at ${where.address}` : '';
  if (/no poller seen for task queue|timed out before a worker could process/i.test(text)) {
    const queue = where.taskQueue ? ` "${where.taskQueue}"` : '';
    const on = where.address ? ` on ${where.address}` : '';
    return `no worker is running for task queue${queue}${on}: start \`switchyard up\` or \`switchyard worker\``;
  }
  if (/namespace[^|]*not found/i.test(text)) {
    return `Temporal${at} has no such namespace: create it (temporal operator namespace create <name>) or set TEMPORAL_NAMESPACE`;
  }
  if (
    /\bUNAVAILABLE\b|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|DEADLINE_EXCEEDED|Failed to connect|No connection established|connection refused|Connection dropped/i.test(
      text,
    )
  ) {
    const why = /ECONNREFUSED|connection refused/i.test(text)
      ? ' (connection refused)'
      : /ENOTFOUND/i.test(text)
        ? ' (unknown host)'
        : /DEADLINE_EXCEEDED/i.test(text)
          ? ' (timed out)'
          : '';
    return `cannot reach Temporal${at}${why}: start \`switchyard up\` (it starts Temporal too), or point TEMPORAL_ADDRESS at a running server`;
  }
  return undefined;
}

/** The messages and gRPC details of an error and its causes. */
function messagesOf(error: unknown): string[] {
  const found: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const e = current as { message?: unknown; details?: unknown; code?: unknown; cause?: unknown };
    if (typeof e.message === 'string') found.push(e.message);
    if (typeof e.details === 'string') found.push(e.details);
    if (e.code === 14) found.push('UNAVAILABLE');
    if (e.code === 4) found.push('DEADLINE_EXCEEDED');
    current = e.cause;
  }
  return found;
}

/** Connects to the configured Temporal, or fails with a sentence saying what to check. */
export async function connectFromConfig(): Promise<OpenedClient> {
  const config = loadConfigOrExit();
  const options = connectionOptions(config);
  const connection = await Connection.connect(options).catch((error: Error) => {
    throw new CliProblem(
      temporalProblem(error, { address: options.address }) ??
        `cannot reach Temporal at ${options.address}: ${error.message.split('\n')[0]}`,
    );
  });
  return {
    client: new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: dataConverterOf(config),
    }),
    config,
    address: options.address,
    taskQueue: config.temporal.taskQueue,
    close: () => connection.close(),
  };
}

/**
 * Runs `fn` with an opened connection and always closes it. Errors the user can act on — a
 * failed connection, no worker to answer, or one that `known` maps to an error code — end the
 * command with one line (exit 1); anything else is a bug and propagates.
 */
export async function withOpened<O extends { close(): Promise<void> } & TemporalWhere, T>(
  cmd: Command,
  connect: () => Promise<O>,
  prefix: string,
  known: (error: unknown) => string | undefined,
  fn: (opened: O) => Promise<T>,
): Promise<T> {
  let opened: O;
  try {
    opened = await connect();
  } catch (error) {
    const line = error instanceof CliProblem ? error.message : temporalProblem(error);
    return cmd.error(`error: ${line ?? (error as Error).message}`, { code: `${prefix}.connect` });
  }
  try {
    return await fn(opened);
  } catch (error) {
    const code = known(error);
    if (code) cmd.error((error as Error).message, { code: `${prefix}.${code}` });
    const problem = temporalProblem(error, opened);
    if (problem) cmd.error(`error: ${problem}`, { code: `${prefix}.temporal` });
    throw error;
  } finally {
    await opened.close();
  }
}
