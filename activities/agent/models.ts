/**
 * From a model reference in the config to a pi-ai Model and its API key. Runs only inside
 * activities, at call time: keys never reach the workflow, its history or a log line.
 */
import { type Api, getModel, type KnownProvider, type Model } from '@mariozechner/pi-ai';
import { readSecretsFile } from '../../config/secrets.js';
import type { ModelInfo } from '../../workflows/agent/agent-api.js';
import {
  AgentConfigError,
  type AgentModelsConfig,
  type ProviderConfig,
  type ProviderType,
  parseModelRef,
} from './config.js';
import {
  DEFAULT_LOCAL_CONTEXT,
  DEFAULT_LOCAL_MAX_TOKENS,
  LLAMA_CPP_API,
  type LocalModelSpec,
} from './local-model.js';

const DEFAULTS: Record<ProviderType, { api: string; baseUrl: string; keyEnv?: string }> = {
  anthropic: { api: 'anthropic-messages', baseUrl: 'https://api.anthropic.com', keyEnv: 'ANTHROPIC_API_KEY' },
  openai: { api: 'openai-responses', baseUrl: 'https://api.openai.com/v1', keyEnv: 'OPENAI_API_KEY' },
  google: {
    api: 'google-generative-ai',
    baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    keyEnv: 'GEMINI_API_KEY',
  },
  openrouter: {
    api: 'openai-completions',
    baseUrl: 'https://openrouter.ai/api/v1',
    keyEnv: 'OPENROUTER_API_KEY',
  },
  'openai-compatible': { api: 'openai-completions', baseUrl: '' },
  // Runs in the worker (local-model.ts); its "base URL" is the model file.
  'llama-cpp': { api: LLAMA_CPP_API, baseUrl: '' },
};

function providerType(name: string, provider: ProviderConfig | undefined): ProviderType {
  if (provider?.type) return provider.type;
  return name in DEFAULTS ? (name as ProviderType) : 'openai-compatible';
}

/** pi-ai's Model for a reference: its catalogue entry when it knows the model, else one built from config. */
export function resolveModel(ref: string, config: AgentModelsConfig): Model<Api> {
  const { provider: name, id } = parseModelRef(ref);
  const provider = config.providers[name];
  const type = providerType(name, provider);
  if (!provider && !(name in DEFAULTS && type !== 'openai-compatible')) {
    throw new AgentConfigError([`model '${ref}': no provider '${name}' under providers:`]);
  }
  if (type === 'llama-cpp') return localModel(name, id, provider!);
  const defaults = DEFAULTS[type];
  const known = type === 'openai-compatible' ? undefined : catalogue(type, id);
  const defined = provider?.models?.find((m) => m.id === id);
  const baseUrl = provider?.baseUrl ?? known?.baseUrl ?? defaults.baseUrl;
  if (!baseUrl)
    throw new AgentConfigError([`providers.${name}: an openai-compatible provider needs a baseUrl`]);
  const cost = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, ...known?.cost, ...defined?.cost };
  const model: Model<Api> = {
    id,
    name: defined?.name ?? known?.name ?? id,
    api: provider?.api ?? known?.api ?? defaults.api,
    provider: type === 'openai-compatible' ? name : type,
    baseUrl,
    reasoning: defined?.reasoning ?? known?.reasoning ?? false,
    input: defined?.input ?? known?.input ?? ['text'],
    cost,
    contextWindow: defined?.contextWindow ?? known?.contextWindow ?? 128_000,
    maxTokens: defined?.maxTokens ?? known?.maxTokens ?? 8192,
  };
  if (known?.compat) model.compat = known.compat;
  if (known?.headers || provider?.headers) model.headers = { ...known?.headers, ...provider?.headers };
  return model;
}

/** A model in a GGUF file, run by the worker: any id names the provider's one file. */
function localModel(name: string, id: string, provider: ProviderConfig): Model<Api> {
  if (!provider.model)
    throw new AgentConfigError([
      `providers.${name}: a llama-cpp provider needs model: <path to a .gguf file>`,
    ]);
  const defined = provider.models?.find((m) => m.id === id);
  const contextWindow = provider.contextSize ?? DEFAULT_LOCAL_CONTEXT;
  return {
    id,
    name: defined?.name ?? id,
    api: LLAMA_CPP_API,
    provider: name,
    baseUrl: provider.model,
    reasoning: false,
    input: ['text'],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow,
    maxTokens: Math.min(defined?.maxTokens ?? DEFAULT_LOCAL_MAX_TOKENS, contextWindow),
  };
}

/** What the worker loads for a llama-cpp model reference (undefined for any other provider). */
export function localModelSpec(ref: string, config: AgentModelsConfig): LocalModelSpec | undefined {
  const { provider: name } = parseModelRef(ref);
  const provider = config.providers[name];
  if (providerType(name, provider) !== 'llama-cpp' || !provider?.model) return undefined;
  return {
    file: provider.model,
    contextSize: provider.contextSize ?? DEFAULT_LOCAL_CONTEXT,
    ...(provider.threads ? { threads: provider.threads } : {}),
  };
}

function catalogue(type: ProviderType, id: string): Model<Api> | undefined {
  // getModel's types only admit catalogue ids; config ids are plain strings.
  return (getModel as (p: KnownProvider, id: string) => Model<Api> | undefined)(type as KnownProvider, id);
}

export function modelInfo(ref: string, model: Model<Api>): ModelInfo {
  return {
    ref,
    provider: model.provider,
    id: model.id,
    api: model.api,
    contextWindow: model.contextWindow,
    maxTokens: model.maxTokens,
    reasoning: model.reasoning,
    input: [...model.input],
  };
}

export interface KeySources {
  env: NodeJS.ProcessEnv;
}

/**
 * The API key of a provider, read now from the environment or the secrets file. Local
 * openai-compatible servers usually need none; the OpenAI SDK still wants a non-empty string.
 */
export function resolveApiKey(ref: string, config: AgentModelsConfig, sources: KeySources): string {
  const { provider: name } = parseModelRef(ref);
  const provider = config.providers[name];
  const type = providerType(name, provider);
  const source = provider?.apiKey ?? (DEFAULTS[type].keyEnv ? { env: DEFAULTS[type].keyEnv! } : 'none');
  if (source === 'none') return 'none';
  if ('env' in source) {
    const key = sources.env[source.env]?.trim();
    if (!key)
      throw new AgentConfigError([`provider '${name}': environment variable ${source.env} is not set`]);
    return key;
  }
  if (!config.secretsFile) {
    throw new AgentConfigError([
      `provider '${name}': apiKey names secret '${source.secret}' but no secretsFile is configured`,
    ]);
  }
  const key = readSecrets(config.secretsFile)[source.secret];
  if (typeof key !== 'string' || !key.trim()) {
    throw new AgentConfigError([
      `provider '${name}': secret '${source.secret}' is missing from ${config.secretsFile}`,
    ]);
  }
  return key.trim();
}

function readSecrets(file: string): Record<string, unknown> {
  try {
    return readSecretsFile(file);
  } catch (err) {
    throw new AgentConfigError([(err as Error).message]);
  }
}
