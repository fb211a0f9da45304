import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The data directory: SWITCHYARD_HOME, else ~/.switchyard. Everything Switchyard writes lives here. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.SWITCHYARD_HOME?.trim();
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.switchyard');
}

export interface HomePaths {
  home: string;
  configFile: string;
  tokenFile: string;
  logsDir: string;
  temporalDb: string;
  /** The gateway's own SQLite: outbox, pairing, devices. */
  gatewayDb: string;
  /** The media blob store (attachments and what is derived from them). */
  mediaDir: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    configFile: join(home, 'switchyard.yaml'),
    tokenFile: join(home, 'gateway.token'),
    logsDir: join(home, 'logs'),
    temporalDb: join(home, 'temporal.db'),
    gatewayDb: join(home, 'gateway.db'),
    mediaDir: join(home, 'media'),
  };
}

export function ensureHome(home: string): HomePaths {
  const paths = homePaths(home);
  mkdirSync(paths.logsDir, { recursive: true, mode: 0o700 });
  return paths;
}

/** The installed package's root (works from sources under vitest and from dist/ alike). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith(`${sep}dist`)) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the Switchyard package root above config/home');
    dir = parent;
  }
  return dir;
}
