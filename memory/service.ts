/**
 * Memory for every agent of a process (a worker, the CLI): one embedder and one embedding cache
 * shared by all, one AgentMemory per agent opened on first use, each with its own backend (an
 * SQLite file per agent, or Qdrant collections per agent). Built from `memory:` of
 * switchyard.yaml; nothing is opened or loaded before it is needed.
 */
import { join } from 'node:path';
import type { MemoryConfig } from '../config/config.js';
import { resolveSecret, type SecretSources } from '../config/secrets.js';
import { AgentMemory, type AgentMemorySettings, type MemoryLog } from './agent-memory.js';
import type { MemoryBackend } from './backend.js';
import { type Embedder, LOCAL_MODEL_ID, remoteEmbedderId } from './embedder.js';
import { type EmbeddingCache, openEmbeddingCache } from './embedding-cache.js';
import { MemoryError, reason } from './errors.js';

export interface MemoryServiceDeps {
  /** The agent's workspace directory; throws for an unknown agent. */
  workspaceOf: (agentId: string) => string;
  /** Where `{ env }` and `{ secret }` credentials are read. */
  secrets: SecretSources;
  log?: MemoryLog;
  /** Replaces the embedder the config names (tests, the benchmark). */
  embedder?: Embedder;
  /** Replaces the backend the config names (the contract tests). */
  backend?: (agentId: string) => MemoryBackend;
}

export interface MemoryService {
  readonly enabled: boolean;
  /** The memory of an agent (opened on first use). */
  agent(agentId: string): AgentMemory;
  /** Names the embedder and backend the config asks for (checks settings, opens nothing). */
  describe(): { embedder: string; backend: string };
  close(): Promise<void>;
}

export function createMemoryService(config: MemoryConfig, deps: MemoryServiceDeps): MemoryService {
  checkSettings(config);
  const local = config.embedding.provider === 'local';
  const settings: AgentMemorySettings = {
    search: config.search,
    chunkTokens: config.chunking.tokens ?? (local ? 240 : 400),
    chunkOverlap: config.chunking.overlap ?? (local ? 40 : 80),
    freshnessWaitMs: 5_000,
    maxQueryChars: 2_000,
    ...(config.timezone ? { timeZone: config.timezone } : {}),
  };
  let embedder: Promise<Embedder> | undefined = deps.embedder ? Promise.resolve(deps.embedder) : undefined;
  let cache: EmbeddingCache | undefined;
  const agents = new Map<string, AgentMemory>();

  const getEmbedder = (): Promise<Embedder> => {
    embedder ??= buildEmbedder(config, deps.secrets);
    embedder.catch(() => {
      embedder = undefined;
    });
    return embedder;
  };
  // Backends and embedders are imported when first used: a worker that never recalls loads
  // neither ONNX nor the Qdrant client.
  const openBackend = (agentId: string): MemoryBackend => {
    if (deps.backend) return deps.backend(agentId);
    if (config.backend === 'qdrant') {
      const apiKey = config.qdrant.apiKey
        ? secret(config.qdrant.apiKey, deps.secrets, 'memory.qdrant.apiKey')
        : undefined;
      return lazyBackend('qdrant', async () =>
        (await import('./qdrant-backend.js')).openQdrantBackend({
          url: config.qdrant.url!,
          ...(apiKey ? { apiKey } : {}),
          collectionPrefix: `${config.qdrant.collection}-${agentId.toLowerCase()}`,
        }),
      );
    }
    return lazyBackend('sqlite', async () =>
      (await import('./sqlite-backend.js')).openSqliteBackend(
        join(config.dir, `${agentId.toLowerCase()}.sqlite`),
        {
          onRecovered: (why) => deps.log?.('warn', `memory: ${why}`),
        },
      ),
    );
  };

  return {
    enabled: config.enabled,
    agent(agentId) {
      const key = agentId.toLowerCase();
      let memory = agents.get(key);
      if (!memory) {
        const workspace = deps.workspaceOf(agentId);
        cache ??= openEmbeddingCache(join(config.dir, 'embedding-cache.sqlite'));
        memory = new AgentMemory({
          agentId: key,
          workspace,
          backend: openBackend(key),
          embedder: deps.embedder ?? lazyEmbedder(getEmbedder, embedderId(config)),
          cache,
          settings,
          ...(deps.log ? { log: deps.log } : {}),
        });
        agents.set(key, memory);
      }
      return memory;
    },
    describe() {
      return {
        embedder: deps.embedder?.id ?? embedderId(config),
        backend: config.backend === 'qdrant' ? `qdrant at ${config.qdrant.url}` : `sqlite in ${config.dir}`,
      };
    },
    async close() {
      await Promise.allSettled([...agents.values()].map((a) => a.close()));
      agents.clear();
      await (await embedder?.catch(() => undefined))?.close?.();
      cache?.close();
      cache = undefined;
    },
  };
}

/** The settings a schema cannot check alone, refused with what to set. */
function checkSettings(config: MemoryConfig): void {
  if (config.backend === 'qdrant' && !config.qdrant.url) {
    throw new MemoryError(
      'config',
      'memory.backend is qdrant but memory.qdrant.url is not set: set it in switchyard.yaml (e.g. http://127.0.0.1:6333) or SWITCHYARD_QDRANT_URL',
    );
  }
  if (config.embedding.provider === 'openai-compatible' && !config.embedding.baseUrl) {
    throw new MemoryError(
      'config',
      'memory.embedding.baseUrl: openai-compatible needs the server URL (…/v1)',
    );
  }
  if (config.timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: config.timezone });
    } catch {
      throw new MemoryError(
        'config',
        `memory.timezone: '${config.timezone}' is not an IANA time zone (e.g. Europe/Berlin)`,
      );
    }
  }
}

/** The id vectors are stored under, without building the embedder (no model load, no key read). */
function embedderId(config: MemoryConfig): string {
  const e = config.embedding;
  return e.provider === 'local' ? LOCAL_MODEL_ID : remoteEmbedderId(e.provider, e.model, e.dimensions);
}

/** An embedder built on first use, so a workspace without notes never loads a model or reads a key. */
function lazyEmbedder(get: () => Promise<Embedder>, id: string): Embedder {
  let ready: Embedder | undefined;
  const loaded = (): Embedder => {
    if (!ready) throw new Error('memory: embedder used before prepare()');
    return ready;
  };
  return {
    id,
    get maxTokens() {
      return loaded().maxTokens;
    },
    countTokens: (text) => loaded().countTokens(text),
    async prepare() {
      ready ??= await get();
    },
    async embed(texts) {
      ready ??= await get();
      return ready.embed(texts);
    },
  };
}

/** A backend whose module is imported on its first call. */
function lazyBackend(name: MemoryBackend['name'], open: () => Promise<MemoryBackend>): MemoryBackend {
  let backend: Promise<MemoryBackend> | undefined;
  const get = () => {
    backend ??= open();
    backend.catch(() => {
      backend = undefined;
    });
    return backend;
  };
  return {
    name,
    useModel: async (model) => (await get()).useModel(model),
    files: async () => (await get()).files(),
    replaceFile: async (path, hash, chunks) => (await get()).replaceFile(path, hash, chunks),
    removeFile: async (path) => (await get()).removeFile(path),
    vectorSearch: async (vector, limit) => (await get()).vectorSearch(vector, limit),
    textSearch: async (terms, limit) => (await get()).textSearch(terms, limit),
    status: async () => (await get()).status(),
    clear: async () => (await get()).clear(),
    close: async () => {
      if (backend) await (await backend.catch(() => undefined))?.close();
    },
  };
}

function remoteOptions(config: MemoryConfig) {
  const e = config.embedding;
  return {
    provider: e.provider as 'openai' | 'gemini' | 'ollama' | 'openai-compatible',
    ...(e.model ? { model: e.model } : {}),
    ...(e.baseUrl ? { baseUrl: e.baseUrl } : {}),
    ...(e.dimensions ? { dimensions: e.dimensions } : {}),
    ...(e.batchSize ? { batchSize: e.batchSize } : {}),
  };
}

async function buildEmbedder(config: MemoryConfig, secrets: SecretSources): Promise<Embedder> {
  const e = config.embedding;
  if (e.provider === 'local') {
    const { createLocalEmbedder } = await import('./local-embedder.js');
    return createLocalEmbedder({
      ...(e.modelPath ? { modelPath: e.modelPath } : {}),
      ...(e.batchSize ? { batchSize: e.batchSize } : {}),
    });
  }
  const defaultEnv =
    e.provider === 'openai' ? 'OPENAI_API_KEY' : e.provider === 'gemini' ? 'GEMINI_API_KEY' : undefined;
  const input = e.apiKey ?? (defaultEnv ? { env: defaultEnv } : undefined);
  const keySource = e.apiKey ? 'memory.embedding.apiKey' : defaultEnv;
  const apiKey = input ? secret(input, secrets, 'memory.embedding.apiKey') : undefined;
  const { createRemoteEmbedder } = await import('./remote-embedders.js');
  return createRemoteEmbedder({
    ...remoteOptions(config),
    ...(apiKey ? { apiKey } : {}),
    ...(keySource ? { keySource } : {}),
  });
}

function secret(input: Parameters<typeof resolveSecret>[0], sources: SecretSources, key: string): string {
  try {
    return resolveSecret(input, sources, key);
  } catch (error) {
    throw new MemoryError('config', reason(error), { cause: error });
  }
}
