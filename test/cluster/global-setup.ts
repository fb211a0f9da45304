// Starts ONE real Temporal cluster for the cluster tier with scripts/cluster.sh (server v1.32.2
// on a private PostgreSQL, the repository's temporal/cluster/config), and stops what it started.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { projectRoot } from '../../config/home.js';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterAddress: string;
    /** SWITCHYARD_CLUSTER_* for scripts/cluster.sh stop-temporal / start-temporal. */
    clusterEnv: Record<string, string>;
  }
}

export const CLUSTER_SCRIPT = join(projectRoot(), 'scripts', 'cluster.sh');

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-'));
  const clusterEnv = {
    SWITCHYARD_CLUSTER_DIR: dir,
    SWITCHYARD_CLUSTER_PORT: process.env.SWITCHYARD_CLUSTER_PORT ?? '17433',
    SWITCHYARD_CLUSTER_PG_PORT: process.env.SWITCHYARD_CLUSTER_PG_PORT ?? '55532',
  };
  const env = { ...process.env, ...clusterEnv };
  const run = (command: string) =>
    execFileSync(CLUSTER_SCRIPT, [command], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const out = run('up');
    const address = /TEMPORAL_ADDRESS=(\S+)/.exec(out)?.[1];
    if (!address) throw new Error(`scripts/cluster.sh up printed no TEMPORAL_ADDRESS:\n${out}`);
    project.provide('clusterAddress', address);
    project.provide('clusterEnv', clusterEnv);
  } catch (error) {
    run('down');
    throw error;
  }
  return async () => {
    run('down');
    rmSync(dir, { recursive: true, force: true });
  };
}
