import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { validateChannelsConfig } from '../channels/connector-configs.js';
import type { AttachmentKind } from '../channels/envelope.js';
import { type RoutingConfig, validateRoutingConfig } from '../channels/routing.js';
import { syntaxErrorStart } from '../engine/source.js';
import schema from '../schemas/config.schema.json' with { type: 'json' };
import cronSchema from '../schemas/cron.schema.json' with { type: 'json' };
import providersSchema from '../schemas/providers.schema.json' with { type: 'json' };
import routingSchema from '../schemas/routing.schema.json' with { type: 'json' };
import { cachedValidator } from './ajv-cache.js';
import type {
  BrowserToolConfig,
  Config,
  ExecToolConfig,
  MediaConfig,
  MemoryConfig,
  SkillsConfig,
} from './config.js';
import type { CronConfig } from './cron-task.js';
import { validateCronConfig } from './cron-validate.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { homePaths, resolveHome } from './home.js';
import { validateModelRefs } from './model-refs.js';
import { pointerSegments, positionOf } from './yaml-positions.js';

const validate = cachedValidator(
  {
    options: { allErrors: true, useDefaults: true, strict: false, verbose: true },
    formats: ['uri'],
    refs: [providersSchema, routingSchema, cronSchema],
  },
  schema,
);

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides the data directory (otherwise SWITCHYARD_HOME or ~/.switchyard). */
  home?: string;
}

/**
 * Reads <home>/switchyard.yaml (absent is fine: embedded defaults apply), validates it, then
 * applies environment overrides. Throws ConfigError naming every bad key with its line.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const home = options.home ?? resolveHome(env);
  const { configFile } = homePaths(home);
  const present = existsSync(configFile);
  const raw = present ? parseConfigSource(readFileSync(configFile, 'utf8'), configFile) : {};
  const withEnv = applyEnvOverrides(raw, env);
  const config = toConfig(validatedWithEnv(withEnv, configFile), home, present ? configFile : undefined);
  const overrides = Object.fromEntries(
    ENV_KEYS.flatMap(([name]) => (env[name]?.trim() ? [[name, env[name]!.trim()]] : [])),
  );
  return { ...config, envOverrides: overrides };
}

/** Parses YAML source and validates it; exported for the gateway's config.get and tests. */
export function parseConfigSource(source: string, file: string): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const start = syntaxErrorStart(doc, e);
        const pos = lines.linePos(start?.offset ?? e.pos[0]);
        return {
          where: `${file}:${pos.line}:${pos.col}`,
          key: '',
          message: `${e.message.split('\n')[0]!}${start ? `; ${start.what}` : ''}`,
        };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS() ?? {};
  } catch (error) {
    // A document that parses but cannot become data: an alias to no anchor (`*x`), an alias loop.
    throw new ConfigError([
      {
        where: `${file}:1:1`,
        key: '',
        message: `cannot read the YAML: ${(error as Error).message.split('\n')[0]}`,
      },
    ]);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError([
      { where: `${file}:1:1`, key: '', message: 'expected a mapping of keys (gateway:, temporal:, …)' },
    ]);
  }
  const copy = structuredClone(value) as Record<string, unknown>;
  if (!validate(copy)) {
    throw new ConfigError(
      (validate.errors ?? []).map((err) => {
        const key = errorKey(err);
        const pos = positionOf(doc, lines, pointerSegments(err.instancePath), additionalKey(err));
        return { where: pos ? `${file}:${pos.line}:${pos.column}` : file, key, message: describe(err) };
      }),
    );
  }
  // Cross-references the schema cannot express (duplicate agent ids, bindings to unknown agents,
  // model references to unknown providers, cron expressions and time zones, duplicate task ids).
  const routing = validateRoutingConfig({
    agents: copy.agents,
    bindings: copy.bindings,
    session: copy.session,
    channels: copy.channels,
  });
  const cron = validateCronConfig(copy.cron);
  const issues = [
    ...(routing.ok ? [] : routing.errors),
    ...validateChannelsConfig(copy.channels),
    ...validateModelRefs(copy.providers, copy.agents),
    ...(cron.ok ? [] : cron.errors.map((e) => ({ ...e, path: `cron.${e.path}` }))),
  ];
  if (issues.length > 0) {
    throw new ConfigError(
      issues.map((issue) => {
        const segments = issue.path.split(/[.[\]]+/).filter(Boolean);
        const pos = issue.atKey
          ? positionOf(doc, lines, segments.slice(0, -1), segments.at(-1))
          : positionOf(doc, lines, segments);
        return {
          where: pos ? `${file}:${pos.line}:${pos.column}` : file,
          key: segments.join('.'),
          message: issue.message,
        };
      }),
    );
  }
  return value as Record<string, unknown>;
}

function validatedWithEnv(value: Record<string, unknown>, file: string): Record<string, unknown> {
  const copy = structuredClone(value);
  if (!validate(copy)) {
    // Only environment overrides can get here (the file was checked on its own above).
    throw new ConfigError(
      (validate.errors ?? []).map((err) => ({
        where: envVarFor(errorKey(err)) ?? file,
        key: errorKey(err),
        message: describe(err),
      })),
    );
  }
  return copy;
}

const ENV_KEYS: Array<[string, string[], 'int' | 'bool' | 'string' | 'list']> = [
  ['SWITCHYARD_GATEWAY_HOST', ['gateway', 'host'], 'string'],
  ['SWITCHYARD_GATEWAY_PORT', ['gateway', 'port'], 'int'],
  ['SWITCHYARD_GATEWAY_TOKEN', ['gateway', 'token'], 'string'],
  ['SWITCHYARD_GATEWAY_CHANNELS', ['gateway', 'channels'], 'list'],
  ['TEMPORAL_ADDRESS', ['temporal', 'address'], 'string'],
  ['TEMPORAL_NAMESPACE', ['temporal', 'namespace'], 'string'],
  ['TEMPORAL_API_KEY', ['temporal', 'apiKey'], 'string'],
  ['TEMPORAL_UI_URL', ['temporal', 'uiUrl'], 'string'],
  ['SWITCHYARD_TASK_QUEUE', ['temporal', 'taskQueue'], 'string'],
  ['SWITCHYARD_TEMPORAL_PORT', ['temporal', 'devServer', 'port'], 'int'],
  ['SWITCHYARD_TEMPORAL_UI_PORT', ['temporal', 'devServer', 'uiPort'], 'int'],
  ['SWITCHYARD_ENCRYPTION', ['temporal', 'encryption', 'enabled'], 'bool'],
  ['SWITCHYARD_ENCRYPTION_KEYS', ['temporal', 'encryption', 'keys'], 'string'],
  ['SWITCHYARD_LOG_LEVEL', ['log', 'level'], 'string'],
  ['SWITCHYARD_MEMORY_BACKEND', ['memory', 'backend'], 'string'],
  ['SWITCHYARD_QDRANT_URL', ['memory', 'qdrant', 'url'], 'string'],
];

function envVarFor(key: string): string | undefined {
  // A list's item (gateway.channels.1) came from the list's variable.
  return ENV_KEYS.find(([, path]) => key === path.join('.') || key.startsWith(`${path.join('.')}.`))?.[0];
}

function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  const problems: ConfigProblem[] = [];
  for (const [name, path, kind] of ENV_KEYS) {
    const text = env[name]?.trim();
    if (!text) continue;
    let value: unknown = text;
    if (kind === 'int') {
      if (!/^\d+$/.test(text)) {
        problems.push({ where: name, key: path.join('.'), message: `must be a whole number, got "${text}"` });
        continue;
      }
      value = Number(text);
    } else if (kind === 'list') {
      value = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    } else if (kind === 'bool') {
      const on = ['on', 'true', '1', 'yes'].includes(text.toLowerCase());
      if (!on && !['off', 'false', '0', 'no'].includes(text.toLowerCase())) {
        problems.push({ where: name, key: path.join('.'), message: `must be on or off, got "${text}"` });
        continue;
      }
      value = on;
    }
    let target = out;
    for (const segment of path.slice(0, -1)) {
      const next = target[segment];
      target[segment] = next && typeof next === 'object' ? next : {};
      target = target[segment] as Record<string, unknown>;
    }
    target[path.at(-1)!] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

function errorKey(err: ErrorObject): string {
  const segments = pointerSegments(err.instancePath);
  const extra =
    additionalKey(err) ?? (err.keyword === 'required' ? String(err.params.missingProperty) : undefined);
  return [...segments, ...(extra ? [extra] : [])].join('.');
}

function additionalKey(err: ErrorObject): string | undefined {
  return err.keyword === 'additionalProperties' ? String(err.params.additionalProperty) : undefined;
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'additionalProperties':
      return `unknown key; allowed here: ${Object.keys(subschemaAt(err.schemaPath) ?? {}).join(', ') || 'none'}`;
    case 'enum':
      return `must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(err.data)}`;
    case 'type':
      return `must be ${err.params.type}, got ${JSON.stringify(err.data)}`;
    case 'pattern':
      return `must look like host:port (e.g. temporal.example.com:7233), got ${JSON.stringify(err.data)}`;
    default:
      return `${err.message ?? 'is invalid'}${err.data !== undefined && typeof err.data !== 'object' ? `, got ${JSON.stringify(err.data)}` : ''}`;
  }
}

/** The `properties` object of the schema node an error's schemaPath points into. */
function subschemaAt(schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const segment of pointerSegments(schemaPath.replace(/^#/, '')).slice(0, -1)) {
    node = (node as Record<string, unknown>)?.[segment];
  }
  return (node as { properties?: Record<string, unknown> })?.properties;
}

function toConfig(v: Record<string, unknown>, home: string, configFile: string | undefined): Config {
  const c = v as unknown as Omit<
    Config,
    'home' | 'configFile' | 'routing' | 'models' | 'cron' | 'tools' | 'media' | 'memory' | 'skills'
  > &
    RoutingConfig & {
      providers?: unknown;
      secretsFile?: unknown;
      cron?: unknown;
      tools?: {
        webFetch?: { allowHosts?: string[]; allowPrivate?: boolean };
        browser?: RawBrowser;
        exec?: RawExec;
      };
      skills?: RawSkills;
      media: RawMediaConfig;
      memory: Omit<MemoryConfig, 'dir'>;
    };
  return {
    home,
    configFile,
    gateway: {
      host: c.gateway.host,
      port: c.gateway.port,
      token: c.gateway.token,
      ...(c.gateway.channels ? { channels: c.gateway.channels } : {}),
    },
    temporal: {
      address: c.temporal.address,
      namespace: c.temporal.namespace,
      taskQueue: c.temporal.taskQueue,
      apiKey: c.temporal.apiKey,
      tls: c.temporal.tls,
      uiUrl: c.temporal.uiUrl,
      encryption: c.temporal.encryption,
      devServer: c.temporal.devServer,
    },
    log: c.log,
    routing: { agents: c.agents, bindings: c.bindings, session: c.session, channels: c.channels },
    models: { providers: c.providers, secretsFile: c.secretsFile, agents: c.agents },
    cron: (c.cron ?? {}) as CronConfig,
    media: mediaConfig(c.media, home),
    memory: { ...c.memory, dir: join(home, 'memory') },
    tools: {
      webFetch: {
        allowHosts: (c.tools?.webFetch?.allowHosts ?? []).map((h) => h.toLowerCase()),
        allowPrivate: c.tools?.webFetch?.allowPrivate === true,
      },
      browser: browserConfig(c.tools?.browser ?? {}),
      exec: execConfig(c.tools?.exec ?? {}),
    },
    skills: {
      entries: c.skills?.entries ?? {},
      allowBundled: c.skills?.allowBundled,
      extraDirs: c.skills?.load?.extraDirs ?? [],
    },
  };
}

interface RawBrowser {
  enabled?: boolean;
  idleMinutes?: number;
  navigationTimeoutSeconds?: number;
  maxSnapshotChars?: number;
}

interface RawExec {
  security?: ExecToolConfig['security'];
  ask?: ExecToolConfig['ask'];
  allowlist?: string[];
  network?: boolean;
  timeoutSeconds?: number;
  maxOutputKB?: number;
}

interface RawSkills {
  entries?: SkillsConfig['entries'];
  allowBundled?: string[];
  load?: { extraDirs?: string[] };
}

function browserConfig(raw: RawBrowser): BrowserToolConfig {
  return {
    enabled: raw.enabled !== false,
    idleMs: Math.round((raw.idleMinutes ?? 10) * 60_000),
    navigationTimeoutMs: Math.round((raw.navigationTimeoutSeconds ?? 30) * 1000),
    maxSnapshotChars: raw.maxSnapshotChars ?? 20_000,
  };
}

function execConfig(raw: RawExec): ExecToolConfig {
  return {
    security: raw.security ?? 'deny',
    ask: raw.ask ?? 'on-miss',
    allowlist: raw.allowlist ?? [],
    network: raw.network === true,
    timeoutMs: Math.round((raw.timeoutSeconds ?? 60) * 1000),
    maxOutputBytes: (raw.maxOutputKB ?? 1024) * 1024,
  };
}

interface RawMediaConfig {
  maxMB: Record<AttachmentKind, number>;
  retention: { days: number; maxTotalMB: number };
  image: { maxSide: number; quality: number; maxMegapixels: number };
  audio: { maxMinutes: number };
  video: { keyframes: number; maxMinutes: number };
  documents: { maxPages: number; maxChars: number };
  transcription?: string[];
  vision?: string;
  ffmpeg: string;
}

const MB = 1024 * 1024;

function mediaConfig(raw: RawMediaConfig, home: string): MediaConfig {
  const maxBytes = Object.fromEntries(
    Object.entries(raw.maxMB).map(([kind, mb]) => [kind, Math.floor(mb * MB)]),
  ) as Record<AttachmentKind, number>;
  return {
    dir: homePaths(home).mediaDir,
    maxBytes,
    retention: {
      maxAgeMs: raw.retention.days * 24 * 60 * 60_000,
      maxTotalBytes: Math.floor(raw.retention.maxTotalMB * MB),
    },
    image: {
      maxSide: raw.image.maxSide,
      quality: raw.image.quality,
      maxPixels: Math.floor(raw.image.maxMegapixels * 1_000_000),
    },
    audio: { maxSeconds: Math.round(raw.audio.maxMinutes * 60) },
    video: { keyframes: raw.video.keyframes, maxSeconds: Math.round(raw.video.maxMinutes * 60) },
    documents: { maxPages: raw.documents.maxPages, maxChars: raw.documents.maxChars },
    transcription: raw.transcription ?? ['local'],
    ...(raw.vision ? { vision: raw.vision } : {}),
    ffmpeg: raw.ffmpeg,
  };
}
