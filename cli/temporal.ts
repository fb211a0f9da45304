import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { connectionOptions } from '../temporal/connection.js';
import { loadConfigOrExit } from './load.js';

/** A Temporal client for one CLI command, the config it came from, and how to let it go. */
export interface OpenedClient {
  client: Client;
  config: Config;
  close(): Promise<void>;
}

/** Connects to the configured Temporal, or fails with a sentence saying what to check. */
export async function connectFromConfig(): Promise<OpenedClient> {
  const config = loadConfigOrExit();
  const options = connectionOptions(config);
  const connection = await Connection.connect(options).catch((error: Error) => {
    throw new Error(
      `cannot reach Temporal at ${options.address}: ${error.message}. Is \`switchyard up\` running?`,
    );
  });
  return {
    client: new Client({ connection, namespace: config.temporal.namespace }),
    config,
    close: () => connection.close(),
  };
}

/**
 * Runs `fn` with an opened connection and always closes it. Errors the user can act on — a
 * failed connection, or one that `known` maps to an error code — end the command with their
 * message (exit 1); anything else is a bug and propagates.
 */
export async function withOpened<O extends { close(): Promise<void> }, T>(
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
    return cmd.error((error as Error).message, { code: `${prefix}.connect` });
  }
  try {
    return await fn(opened);
  } catch (error) {
    const code = known(error);
    if (code) cmd.error((error as Error).message, { code: `${prefix}.${code}` });
    throw error;
  } finally {
    await opened.close();
  }
}
