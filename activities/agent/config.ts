/**
 * Providers and per-agent models (schemas/providers.schema.json), validated once and typed.
 * Holds no API key: only where each key comes from.
 */
import { isAbsolute, join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { cachedValidator } from '../../config/ajv-cache.js';
import { BUILT_IN_PROVIDERS, validateModelRefs } from '../../config/model-refs.js';
import providersSchema from '../../schemas/providers.schema.json' with { type: 'json' };
import type { ThinkingLevel } from '../../workflows/agent/agent-api.js';

export type ProviderType =
  | 'anthropic'
  | 'openai'
  | 'google'
  | 'openrouter'
  | 'openai-compatible'
  | 'llama-cpp';

export type ApiKeySource = { env: string } | { secret: string } | 'none';

export interface ModelDefinition {
  id: string;
  name?: string;
  contextWindow?: number;
  maxTokens?: number;
  reasoning?: boolean;
  input?: Array<'text' | 'image'>;
  cost?: { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
}

export interface ProviderConfig {
  type?: ProviderType;
  baseUrl?: string;
  api?: string;
  apiKey?: ApiKeySource;
  headers?: Record<string, string>;
  models?: ModelDefinition[];
  /** llama-cpp: the .gguf file (absolute after loading; relative paths are relative to the data directory). */
  model?: string;
  /** llama-cpp: tokens of context to allocate (default 4096). */
  contextSize?: number;
  /** llama-cpp: CPU threads for generation (default: half the cores, at least 1). */
  threads?: number;
}

export interface AgentModelSettings {
  primary: string;
  fallbacks: string[];
  thinking: ThinkingLevel;
  maxTokens?: number;
  temperature?: number;
  contextReserve?: number;
}

export interface AgentSettings {
  id: string;
  /** Directory holding AGENTS.md, SOUL.md, USER.md, IDENTITY.md, TOOLS.md, MEMORY.md. */
  workspace: string;
  model?: AgentModelSettings;
}

/** Everything the agent activities need from switchyard.yaml. */
export interface AgentModelsConfig {
  providers: Record<string, ProviderConfig>;
  /** Absolute path of the secrets file, if any. */
  secretsFile?: string;
  agents: AgentSettings[];
}

/** The raw keys as they appear in switchyard.yaml. */
export interface AgentModelsSource {
  providers?: unknown;
  secretsFile?: unknown;
  agents?: unknown;
}

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid providers/models configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

const validate = cachedValidator(
  { options: { allErrors: true, strict: false }, formats: ['uri'], refs: [providersSchema] },
  {
    type: 'object',
    properties: {
      providers: { $ref: 'https://switchyard.dev/schemas/providers.schema.json#/properties/providers' },
      secretsFile: { $ref: 'https://switchyard.dev/schemas/providers.schema.json#/properties/secretsFile' },
      agents: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string' },
            workspace: { type: 'string' },
            model: { $ref: 'https://switchyard.dev/schemas/providers.schema.json#/$defs/agentModel' },
          },
        },
      },
    },
  },
);

/**
 * Validates the `providers`, `secretsFile` and `agents[].model` keys and fills defaults:
 * relative paths are resolved against the data directory, a workspace defaults to
 * `<home>/agents/<id>`, and without any agent one `main` agent exists.
 */
export function loadAgentModelsConfig(
  source: AgentModelsSource,
  options: { home: string },
): AgentModelsConfig {
  const value = { ...source };
  for (const key of Object.keys(value) as Array<keyof AgentModelsSource>) {
    if (value[key] === undefined) delete value[key];
  }
  if (!validate(value)) throw new AgentConfigError((validate.errors ?? []).map(describe));
  const abs = (p: string) => (isAbsolute(p) ? p : join(options.home, p));
  const providers = Object.fromEntries(
    Object.entries((value.providers ?? {}) as Record<string, ProviderConfig>).map(([name, p]) => [
      name,
      p.model !== undefined ? { ...p, model: abs(p.model) } : p,
    ]),
  );
  const rawAgents = (value.agents ?? [{ id: 'main' }]) as Array<{
    id: string;
    workspace?: string;
    model?: string | Partial<AgentModelSettings>;
  }>;
  const agents = rawAgents.map((a): AgentSettings => {
    const settings: AgentSettings = { id: a.id, workspace: abs(a.workspace ?? join('agents', a.id)) };
    if (a.model !== undefined) settings.model = normaliseModel(a.model);
    return settings;
  });
  // Every model reference must name a configured or built-in provider (also checked by loadConfig).
  const problems = validateModelRefs(value.providers, value.agents);
  if (problems.length > 0) throw new AgentConfigError(problems.map((p) => `${p.path}: ${p.message}`));
  // The secrets file defaults to <data dir>/secrets.json, as for every other credential
  // (config/secrets.ts); it is read only when a key names a secret.
  return {
    providers,
    agents,
    secretsFile: abs(typeof value.secretsFile === 'string' ? value.secretsFile : 'secrets.json'),
  };
}

function normaliseModel(model: string | Partial<AgentModelSettings>): AgentModelSettings {
  if (typeof model === 'string') return { primary: model, fallbacks: [], thinking: 'off' };
  return {
    ...model,
    primary: model.primary!,
    fallbacks: model.fallbacks ?? [],
    thinking: model.thinking ?? 'off',
  };
}

export { BUILT_IN_PROVIDERS };

function describe(error: ErrorObject): string {
  const path = error.instancePath
    .replace(/^\//, '')
    .replace(/\/(\d+)/g, '[$1]')
    .replaceAll('/', '.');
  const detail =
    error.keyword === 'additionalProperties'
      ? `unknown key '${(error.params as { additionalProperty: string }).additionalProperty}'`
      : error.keyword === 'enum'
        ? `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
        : (error.message ?? 'is invalid');
  return `${path || '(root)'}: ${detail}`;
}

/** Splits `<provider>/<model id>` (the model id may itself contain '/'). */
export function parseModelRef(ref: string): { provider: string; id: string } {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) {
    throw new AgentConfigError([`'${ref}' is not a model reference: expected '<provider>/<model id>'`]);
  }
  return { provider: ref.slice(0, slash), id: ref.slice(slash + 1) };
}
