/**
 * Providers and per-agent models (schemas/providers.schema.json), validated once and typed.
 * Holds no API key: only where each key comes from.
 */
import { isAbsolute, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import formats from 'ajv-formats';
import providersSchema from '../../schemas/providers.schema.json' with { type: 'json' };
import type { ThinkingLevel } from '../../workflows/agent/agent-api.js';

export type ProviderType = 'anthropic' | 'openai' | 'google' | 'openrouter' | 'openai-compatible';

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

const ajv = new Ajv({ allErrors: true, strict: false });
// ajv-formats is CommonJS: under NodeNext its default import is the module object.
formats.default(ajv, ['uri']);
ajv.addSchema(providersSchema);
const validate = ajv.compile({
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
});

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
  const providers = (value.providers ?? {}) as Record<string, ProviderConfig>;
  const rawAgents = (value.agents ?? [{ id: 'main' }]) as Array<{
    id: string;
    workspace?: string;
    model?: string | Partial<AgentModelSettings>;
  }>;
  const abs = (p: string) => (isAbsolute(p) ? p : join(options.home, p));
  const agents = rawAgents.map((a): AgentSettings => {
    const settings: AgentSettings = { id: a.id, workspace: abs(a.workspace ?? join('agents', a.id)) };
    if (a.model !== undefined) settings.model = normaliseModel(a.model);
    return settings;
  });
  const problems = checkModelRefs(agents, providers);
  if (problems.length > 0) throw new AgentConfigError(problems);
  return {
    providers,
    agents,
    ...(typeof value.secretsFile === 'string' ? { secretsFile: abs(value.secretsFile) } : {}),
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

export const BUILT_IN_PROVIDERS: readonly ProviderType[] = ['anthropic', 'openai', 'google', 'openrouter'];

/** Every model reference must name a configured or built-in provider. */
function checkModelRefs(agents: AgentSettings[], providers: Record<string, ProviderConfig>): string[] {
  const problems: string[] = [];
  agents.forEach((agent, i) => {
    if (!agent.model) return;
    for (const ref of [agent.model.primary, ...agent.model.fallbacks]) {
      const provider = ref.slice(0, ref.indexOf('/'));
      if (!providers[provider] && !BUILT_IN_PROVIDERS.includes(provider as ProviderType)) {
        problems.push(
          `agents[${i}].model: '${ref}' names provider '${provider}', which is neither configured under providers: nor built in (${BUILT_IN_PROVIDERS.join(', ')})`,
        );
      }
    }
  });
  return problems;
}

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
