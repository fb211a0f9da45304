/**
 * What OpenClaw's apps read about the gateway's configuration: `agents.list` (the configured
 * agents), `models.list` (the models the config names, with provider and context window) and
 * `config.get` (the effective switchyard.yaml, redacted). Nothing here ever holds a key: the
 * config names where keys come from, and every value under a secret-looking key (tokens,
 * passwords, API keys, secrets, HTTP headers) is replaced by OpenClaw's redaction marker.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelChoice, ModelsListParams } from '@openclaw/gateway-protocol';
import { stringify } from 'yaml';
import {
  AgentConfigError,
  type AgentModelsConfig,
  loadAgentModelsConfig,
} from '../../activities/agent/config.js';
import { resolveModel } from '../../activities/agent/models.js';
import type { Config } from '../../config/config.js';
import { parseConfigSource } from '../../config/load.js';
import { GatewayMethodError, type GatewayServices, type JsonObject } from './protocol/services.js';

/** OpenClaw's marker for a value config.get will not show. */
export const REDACTED = '__OPENCLAW_REDACTED__';

export interface OpenclawConfigOptions {
  /** The config in effect now (switchyard.yaml is re-read when it changes). */
  config: () => Config;
  /** The gateway's shared token as in effect (it may come from the data dir, not the config). */
  token: string;
  /** The configured agents and the default one (`agents.list`). */
  agents: () => { defaultId: string; agents: Array<{ id: string; name?: string }> };
  env?: NodeJS.ProcessEnv;
}

export interface OpenclawConfig {
  services: Pick<GatewayServices, 'agentsList' | 'modelsList' | 'configGet'>;
}

export function createOpenclawConfig(options: OpenclawConfigOptions): OpenclawConfig {
  const { config } = options;
  return {
    services: {
      async agentsList() {
        const { defaultId, agents } = options.agents();
        return {
          defaultId,
          mainKey: 'main',
          scope: 'per-sender',
          agents: agents.map((a) => ({ id: a.id, ...(a.name ? { name: a.name } : {}) })),
        };
      },
      async modelsList(params: ModelsListParams) {
        return { models: listModels(loadModels(config()), params.agentId) };
      },
      async configGet() {
        return configSnapshot(config(), knownSecrets(options));
      },
    },
  };
}

function loadModels(config: Config): AgentModelsConfig {
  try {
    return loadAgentModelsConfig(config.models, { home: config.home });
  } catch (err) {
    if (err instanceof AgentConfigError) throw new GatewayMethodError('UNAVAILABLE', err.message);
    throw err;
  }
}

/**
 * Every model the config names: those listed under `providers.<name>.models`, then the agents'
 * primary and fallback models (catalogue facts for built-in providers), each once. With
 * `agentId`, only that agent's models.
 */
function listModels(models: AgentModelsConfig, agentId: string | undefined): ModelChoice[] {
  const refs: string[] = [];
  if (agentId === undefined) {
    for (const [provider, settings] of Object.entries(models.providers)) {
      for (const model of settings.models ?? []) refs.push(`${provider}/${model.id}`);
    }
  }
  const agents =
    agentId === undefined
      ? models.agents
      : models.agents.filter((a) => a.id.toLowerCase() === agentId.trim().toLowerCase());
  if (agentId !== undefined && agents.length === 0) {
    throw new GatewayMethodError(
      'INVALID_REQUEST',
      `unknown agent '${agentId}' (agents: ${models.agents.map((a) => a.id).join(', ')})`,
      { code: 'UNKNOWN_AGENT_ID' },
    );
  }
  for (const agent of agents) {
    if (agent.model) refs.push(agent.model.primary, ...agent.model.fallbacks);
  }
  return [...new Set(refs)].map((ref) => modelChoice(ref, models));
}

function modelChoice(ref: string, models: AgentModelsConfig): ModelChoice {
  const slash = ref.indexOf('/');
  const provider = ref.slice(0, slash);
  const id = ref.slice(slash + 1);
  try {
    const model = resolveModel(ref, models);
    const input = model.input.filter((i): i is 'text' | 'image' => i === 'text' || i === 'image');
    return {
      id,
      name: model.name || id,
      provider,
      contextWindow: model.contextWindow,
      reasoning: model.reasoning,
      ...(input.length > 0 ? { input } : {}),
    };
  } catch {
    // A model the worker could not call either (e.g. a provider without baseUrl): named, no facts.
    return { id, name: id, provider };
  }
}

/** OpenClaw's config.get shape over switchyard.yaml: the file as written and the effective config. */
function configSnapshot(config: Config, secrets: string[]): JsonObject {
  const path = config.configFile ?? join(config.home, 'switchyard.yaml');
  const exists = existsSync(path);
  let parsed: unknown = null;
  const issues: Array<{ path: string; message: string }> = [];
  if (exists) {
    try {
      parsed = redact(parseConfigSource(readFileSync(path, 'utf8'), path), secrets);
    } catch {
      // The message could quote a bad value (a token, say): only say where to look.
      issues.push({ path, message: 'the file no longer validates: run `switchyard doctor` to see where' });
    }
  }
  const effective = redact(effectiveConfig(config), secrets) as JsonObject;
  const hash = createHash('sha256').update(JSON.stringify(effective)).digest('base64url');
  return {
    path,
    exists,
    raw: parsed === null ? null : stringify(parsed),
    parsed,
    resolved: effective,
    config: effective,
    valid: issues.length === 0,
    hash: `sha256:${hash}`,
    issues,
    warnings: [],
  };
}

/** The typed config in switchyard.yaml's own layout (defaults and environment overrides applied). */
function effectiveConfig(config: Config): JsonObject {
  const { agents, bindings, session, channels } = config.routing;
  const { providers, secretsFile } = config.models;
  const defined = (entries: JsonObject) =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
  return defined({
    // The gateway always has a token in effect (generated when the config names none).
    gateway: { ...config.gateway, token: REDACTED },
    temporal: defined({ ...config.temporal }),
    log: config.log,
    agents,
    bindings,
    session,
    channels,
    providers,
    secretsFile,
    cron: config.cron,
  });
}

/** Key names whose values are secret: botToken, webhookSecret, apiKey, password, … (not maxTokens). */
const SECRET_KEY =
  /(token|secrets?|password|passwd|apikey|authorization|credentials?|privatekey|cookie)$|^(tokens|keys)$/;
const isSecretKey = (key: string) => SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));

/**
 * A copy of `value` without secrets: values under secret-looking keys and all HTTP header
 * values become REDACTED, URL credentials are dropped, and any string containing a known
 * secret value is redacted wherever it sits.
 */
export function redact(value: unknown, secrets: readonly string[], key = ''): unknown {
  if (value === undefined || value === null) return value;
  if (isSecretKey(key)) return REDACTED;
  if (typeof value === 'string') {
    if (secrets.some((s) => value.includes(s))) return REDACTED;
    return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1');
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets));
  if (typeof value === 'object') {
    const headers = /^headers$/i.test(key);
    return Object.fromEntries(
      Object.entries(value as JsonObject).map(([k, v]) => [k, headers ? REDACTED : redact(v, secrets, k)]),
    );
  }
  return value;
}

/** Secret values the gateway knows of (at least 6 characters, to not redact every short word). */
function knownSecrets(options: OpenclawConfigOptions): string[] {
  const env = options.env ?? process.env;
  const config = options.config();
  const telegram = config.routing.channels?.telegram as JsonObject | undefined;
  return [
    options.token,
    config.gateway.token,
    config.temporal.apiKey,
    telegram?.botToken,
    telegram?.webhookSecret,
    env.TELEGRAM_BOT_TOKEN,
    env.SLACK_BOT_TOKEN,
    env.SLACK_APP_TOKEN,
    env.SLACK_SIGNING_SECRET,
    env.DISCORD_BOT_TOKEN,
    env.SWITCHYARD_GATEWAY_TOKEN,
    env.TEMPORAL_API_KEY,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 6);
}
