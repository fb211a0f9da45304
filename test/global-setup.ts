import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findTemporalCli, HOW_TO_GET_THE_CLI } from '../temporal/cli-path.js';
import { type DevServer, startDevServer } from '../temporal/dev-server.js';
import { freePort } from './helpers/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
  }
}

/** Starts ONE real `temporal server start-dev` for the whole run and stops it (by PID) at the end. */
export default async function setup(project: TestProject) {
  const cliPath = findTemporalCli();
  if (!cliPath) throw new Error(HOW_TO_GET_THE_CLI);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-temporal-'));
  const server: DevServer = await startDevServer({
    cliPath,
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    port: await freePort(),
    headless: true,
  });
  console.log(`[global-setup] real Temporal dev server (${cliPath}) pid ${server.pid} on ${server.address}`);
  project.provide('temporalAddress', server.address);
  project.provide('temporalCli', cliPath);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
