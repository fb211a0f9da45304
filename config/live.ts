// switchyard.yaml as it is now, for processes that run for days (the worker, the gateway).
// `current()` looks at the file and the secrets file each time it is asked — a stat, no parse
// unless one of them changed — so an activity that starts after an edit always sees the edit,
// with no window where a watcher has not caught up yet. fs.watch makes a change known when
// nobody asks (connectors restart, schedules reconcile, a bad edit is reported at once).
// A bad edit is reported once, with file:line, and the previous configuration stays in effect.
import { type FSWatcher, type Stats, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config } from './config.js';
import { ConfigError } from './errors.js';
import { homePaths } from './home.js';
import { loadConfig } from './load.js';
import { secretsFileOf } from './secrets.js';

/** What changed, for listeners: the new and previous config and the top-level keys that differ. */
export interface ConfigChange {
  config: Config;
  previous: Config;
  /** Top-level keys of switchyard.yaml whose effective value changed, plus `secrets` when the secrets file did. */
  changed: string[];
  /** Keys that changed but only take effect when the process restarts (see RESTART_KEYS). */
  needsRestart: string[];
}

export interface LiveConfig {
  /** The configuration in effect now (re-read first if the file changed since the last look). */
  current(): Config;
  /** Called after every applied change (not for refused edits). Returns an unsubscribe function. */
  onChange(listener: (change: ConfigChange) => void): () => void;
  close(): void;
}

export interface LiveConfigOptions {
  /** Environment overrides to apply; default: those the initial config was read with. */
  env?: NodeJS.ProcessEnv;
  /** What a process checks beyond the schema (the worker: providers and models); throw to refuse. */
  check?: (config: Config) => void;
  /** An edit that was refused, with every problem; reported once per version of the file. */
  onInvalid?: (error: Error, file: string) => void;
  /** Watch the data directory for changes (default true); `current()` stays exact without it. */
  watch?: boolean;
}

/**
 * Keys read once when a process starts: the gateway's listening socket and token, the Temporal
 * connection and the log level. A change to them is applied at the next start, and said so.
 */
export const RESTART_KEYS = [
  'gateway.host',
  'gateway.port',
  'gateway.token',
  'gateway.channels',
  'temporal',
  'log.level',
] as const;

export function liveConfig(initial: Config, options: LiveConfigOptions = {}): LiveConfig {
  // The same environment overrides as when the process read it first (its own environment).
  const env = options.env ?? initial.envOverrides ?? process.env;
  const configFile = homePaths(initial.home).configFile;
  const listeners = new Set<(change: ConfigChange) => void>();
  let config = initial;
  let seen = signature(config);
  let refused: string | undefined;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;

  function current(): Config {
    const now = signature(config);
    if (now === seen || now === refused) return config;
    let next: Config;
    try {
      next = loadConfig({ home: initial.home, env });
      options.check?.(next);
    } catch (error) {
      refused = now;
      (options.onInvalid ?? defaultReport)(error as Error, configFile);
      return config;
    }
    const previous = config;
    const before = seen;
    config = next;
    // The stamp from before the read: a write racing the read only causes one more reload.
    seen = now;
    refused = undefined;
    const changed = changedKeys(previous, next, before, now);
    watchSecrets();
    if (changed.length > 0) {
      const change: ConfigChange = { config, previous, changed, needsRestart: restartKeys(previous, next) };
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (error) {
          (options.onInvalid ?? defaultReport)(error as Error, configFile);
        }
      }
    }
    return config;
  }

  /** One watcher per directory holding a watched file (editors save by rename, so not the file). */
  function watchSecrets(): void {
    if (options.watch === false) return;
    const dirs = new Set([dirname(configFile)]);
    const secrets = secretsFileOf(config) ?? `${initial.home}/secrets.json`;
    dirs.add(dirname(secrets));
    const names = new Set([basename(configFile), basename(secrets)]);
    for (const w of watchers) w.close();
    watchers = [];
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, (_event, name) => {
          if (name && !names.has(String(name))) return;
          clearTimeout(timer);
          timer = setTimeout(() => current(), 100);
          timer.unref();
        });
        watcher.unref();
        watcher.on('error', () => undefined);
        watchers.push(watcher);
      } catch {
        // A data directory that does not exist yet: `current()` still sees the file once it does.
      }
    }
  }

  watchSecrets();
  return {
    current,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
      listeners.clear();
    },
  };

  /** The state of switchyard.yaml and of the secrets file, as cheap to read as a stat. */
  function signature(of: Config): string {
    const secrets = secretsFileOf(of) ?? `${of.home}/secrets.json`;
    return `${stamp(configFile)}|${stamp(secrets)}`;
  }
}

function stamp(file: string): string {
  let stats: Stats;
  try {
    stats = statSync(file, { bigint: false });
  } catch {
    return 'absent';
  }
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** Top-level keys whose value differs (and `secrets` when only the secrets file changed). */
function changedKeys(previous: Config, next: Config, before: string, after: string): string[] {
  const raw = (c: Config): Record<string, unknown> => ({
    gateway: c.gateway,
    temporal: c.temporal,
    log: c.log,
    agents: c.routing.agents,
    bindings: c.routing.bindings,
    session: c.routing.session,
    channels: c.routing.channels,
    providers: c.models.providers,
    secretsFile: c.models.secretsFile,
    cron: c.cron,
    tools: c.tools,
    skills: c.skills,
  });
  const a = raw(previous);
  const b = raw(next);
  const keys = Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  const secretsBefore = before.split('|')[1];
  const secretsAfter = after.split('|')[1];
  if (secretsBefore !== secretsAfter) keys.push('secrets');
  return keys;
}

function restartKeys(previous: Config, next: Config): string[] {
  const at = (c: Config, key: string): unknown =>
    key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], c);
  return RESTART_KEYS.filter((key) => JSON.stringify(at(previous, key)) !== JSON.stringify(at(next, key)));
}

function defaultReport(error: Error, file: string): void {
  console.error(describeRefusedEdit(error, file));
}

/**
 * One line for a refused edit: what was refused, that the previous config stays, and the first
 * problem with its file:line (a ConfigError lists them all; the rest follow on their own lines).
 */
export function describeRefusedEdit(error: Error, file: string): string {
  if (error instanceof ConfigError) {
    const [first, ...rest] = error.problems;
    const where = (p: (typeof error.problems)[number]) =>
      `${p.where}: ${p.key ? `${p.key}: ` : ''}${p.message}`;
    return `${file} was edited but is invalid; the previous configuration stays in effect: ${first ? where(first) : error.message}${
      rest.length > 0 ? ` (and ${rest.length} more: ${rest.map(where).join('; ')})` : ''
    }`;
  }
  return `${file} was edited but cannot be used; the previous configuration stays in effect: ${error.message.replaceAll('\n', ' ')}`;
}
