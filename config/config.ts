import type { AttachmentKind } from '../channels/envelope.js';
import type { RoutingConfig } from '../channels/routing.js';
import type { CronConfig } from './cron-task.js';
import type { SecretInput } from './secrets.js';

/** The typed configuration every process receives. Mirrors schemas/config.schema.json after defaults. */
export interface Config {
  home: string;
  configFile: string | undefined;
  /**
   * The environment variables (of the README's table) that overrode the file when it was read,
   * so a reload (config/live.ts) applies the same overrides. Absent in hand-made configs.
   */
  envOverrides?: Record<string, string>;
  gateway: {
    host: string;
    port: number;
    token: string | undefined;
    /** The channels this gateway serves (schemas/config.schema.json); absent: all. See servesChannel. */
    channels?: string[];
  };
  temporal: {
    /** Set when Switchyard should connect to an existing cluster instead of starting a dev server. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    tls: TemporalTls | undefined;
    uiUrl: string | undefined;
    /** The payload codec (temporal/codec.ts; docs/encryption.md). */
    encryption: {
      /** Encrypt new payloads (default true). Encrypted history is read either way. */
      enabled: boolean;
      /** The key ring (`<id>:<base64>` entries); default <data dir>/encryption.keys. */
      keys?: SecretInput;
    };
    devServer: {
      ip: string;
      port: number;
      uiPort: number;
      headless: boolean;
      logLevel: 'debug' | 'info' | 'warn' | 'error';
    };
  };
  log: { level: string };
  /** agents, bindings, session and channels (schemas/routing.schema.json; see docs/routing.md). */
  routing: RoutingConfig;
  /** providers, secretsFile and agents[].model, as written (activities/agent/config.ts checks them). */
  models: { providers?: unknown; secretsFile?: unknown; agents?: unknown };
  /** Proactive tasks and the heartbeat (schemas/cron.schema.json; see docs/cron.md). */
  cron: CronConfig;
  /** Attachments: size limits per kind, where the blob store lives and how long it keeps files. */
  media: MediaConfig;
  /** The agent's notes indexed for search (schemas/config.schema.json `memory`; see docs/memory.md). */
  memory: MemoryConfig;
  /** Settings of the agent's built-in tools. */
  tools: {
    webFetch: {
      /** Hosts web_fetch may reach even on loopback/private addresses (lower case). */
      allowHosts: string[];
      /** Every loopback/private address is reachable. */
      allowPrivate: boolean;
    };
    browser: BrowserToolConfig;
    exec: ExecToolConfig;
  };
  /** Skills: which are offered and their settings (docs/skills.md). */
  skills: SkillsConfig;
}

export interface BrowserToolConfig {
  enabled: boolean;
  idleMs: number;
  navigationTimeoutMs: number;
  maxSnapshotChars: number;
}

/** OpenClaw's exec levels: `security` (deny | allowlist | full) and `ask` (off | on-miss | always). */
export interface ExecToolConfig {
  security: 'deny' | 'allowlist' | 'full';
  ask: 'off' | 'on-miss' | 'always';
  /** Globs of resolved binary paths that run without approval. */
  allowlist: string[];
  network: boolean;
  timeoutMs: number;
  maxOutputBytes: number;
}

export interface SkillsConfig {
  entries: Record<string, { enabled?: boolean; env?: Record<string, string> }>;
  allowBundled: string[] | undefined;
  extraDirs: string[];
}

export type EmbeddingProvider = 'local' | 'openai' | 'gemini' | 'ollama' | 'openai-compatible';

export interface MemoryConfig {
  enabled: boolean;
  backend: 'sqlite' | 'qdrant';
  /** `<data dir>/memory`: the embedded indexes and the embedding cache. */
  dir: string;
  embedding: {
    provider: EmbeddingProvider;
    model?: string;
    baseUrl?: string;
    apiKey?: SecretInput;
    dimensions?: number;
    batchSize?: number;
    modelPath?: string;
  };
  chunking: { tokens?: number; overlap?: number };
  search: {
    maxResults: number;
    minScore: number;
    vectorWeight: number;
    textWeight: number;
    candidateMultiplier: number;
  };
  qdrant: { url?: string; apiKey?: SecretInput; collection: string };
  timezone?: string;
}

export interface TemporalTls {
  serverName?: string;
  serverRootCaCertFile?: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

export interface MediaConfig {
  /** The blob store's directory: `<data dir>/media`. */
  dir: string;
  /** Largest file kept per kind, in bytes (`media.maxMB`). */
  maxBytes: Record<AttachmentKind, number>;
  retention: {
    /** Blobs last stored longer ago than this are swept. */
    maxAgeMs: number;
    /** Then the oldest go until the rest fit. */
    maxTotalBytes: number;
  };
  image: { maxSide: number; quality: number; maxPixels: number };
  audio: { maxSeconds: number };
  video: { keyframes: number; maxSeconds: number };
  documents: { maxPages: number; maxChars: number };
  /** Speech-to-text providers in order: `local`, or `<provider>/<model>`. */
  transcription: string[];
  /** Model describing images for agents whose model cannot see. */
  vision?: string;
  /** The ffmpeg program. */
  ffmpeg: string;
}

/**
 * Whether this gateway serves `channel` (its routes or connection and its send task queue).
 * Several gateway hosts on one Temporal namespace split the channels between them with
 * `gateway.channels`, so a reply is always taken from the queue by the host that can deliver it.
 */
export function servesChannel(config: Pick<Config, 'gateway'>, channel: string): boolean {
  return config.gateway.channels === undefined || config.gateway.channels.includes(channel);
}
