import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config } from './config.js';
import { homePaths } from './home.js';

/**
 * The gateway's shared secret: from config/env when set, else <home>/gateway.token, created
 * (mode 600) on first use so a fresh install is never left open.
 */
export function gatewayToken(config: Config, { create = true } = {}): string | undefined {
  if (config.gateway.token) return config.gateway.token;
  const { tokenFile } = homePaths(config.home);
  if (existsSync(tokenFile)) return readFileSync(tokenFile, 'utf8').trim();
  if (!create) return undefined;
  const token = randomBytes(24).toString('base64url');
  try {
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch (err) {
    // Another process (gateway and CLI starting together) created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(tokenFile, 'utf8').trim();
    throw err;
  }
}
