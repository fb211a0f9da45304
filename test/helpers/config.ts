import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSessionKey } from '../../channels/session-key.js';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/load.js';

/**
 * A fresh data dir and the embedded defaults (plus `yaml` as its switchyard.yaml, when given),
 * pointed at the given Temporal server.
 */
export function testConfig(address: string | undefined, env: NodeJS.ProcessEnv = {}, yaml?: string): Config {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-test-home-'));
  if (yaml !== undefined) writeFileSync(join(home, 'switchyard.yaml'), yaml);
  return loadConfig({ home, env: { ...env, ...(address ? { TEMPORAL_ADDRESS: address } : {}) } });
}

/**
 * Session workflows are conversations: they stay open, with ids from the session key. Tests that
 * share one Temporal server give every chat its own session (per-channel-peer) and pick peers
 * of their own, so no test signals another test's session.
 */
export const SEPARATE_SESSIONS = 'session:\n  dmScope: per-channel-peer\n';

/** Task queues are per test, so tests sharing one Temporal server never steal each other's tasks. */
export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

/** The session an OpenAI API user's messages go to (default agent, the API's own DM scope). */
export function openaiSessionKey(user: string): string {
  return buildSessionKey({
    agentId: 'main',
    channel: 'openai',
    accountId: 'main',
    peer: { kind: 'direct', id: user },
    dmScope: 'per-account-channel-peer',
  });
}
