import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';

/** A fresh data dir and the embedded defaults, pointed at the given Temporal server. */
export function testConfig(address: string | undefined, env: NodeJS.ProcessEnv = {}): Config {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-test-home-'));
  return loadConfig({ home, env: { ...env, ...(address ? { TEMPORAL_ADDRESS: address } : {}) } });
}

/** Task queues are per test, so tests sharing one Temporal server never steal each other's tasks. */
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}
