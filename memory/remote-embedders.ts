/**
 * Embeddings from a provider's API, through the providers' own SDKs: OpenAI's `embeddings`
 * endpoint (also Ollama's and any OpenAI-compatible server's `/v1/embeddings`) and Gemini's
 * `embedContent`. Failures are sorted for the caller: unreachable, rate-limited or 5xx is
 * `embedding-unavailable` (retried), a refused key or an unknown model is `config`.
 */
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import {
  approximateTokens,
  DEFAULT_EMBEDDING_MODELS,
  type Embedder,
  normalise,
  remoteEmbedderId,
} from './embedder.js';
import { MemoryError, reason } from './errors.js';

export interface RemoteEmbedderOptions {
  provider: 'openai' | 'gemini' | 'ollama' | 'openai-compatible';
  model?: string;
  baseUrl?: string;
  /** Resolved key (undefined: none, for servers that need none). */
  apiKey?: string;
  dimensions?: number;
  batchSize?: number;
  /** Where the key came from, for messages (`memory.embedding.apiKey`, `OPENAI_API_KEY`…). */
  keySource?: string;
  /** Longest input in tokens (estimated at ~4 characters each). Default 8,000. */
  maxTokens?: number;
}

export function createRemoteEmbedder(options: RemoteEmbedderOptions): Embedder {
  const model = options.model ?? DEFAULT_EMBEDDING_MODELS[options.provider];
  if (!model) {
    throw new MemoryError('config', `memory.embedding.model: ${options.provider} needs a model id`);
  }
  if (options.provider === 'openai-compatible' && !options.baseUrl) {
    throw new MemoryError(
      'config',
      'memory.embedding.baseUrl: openai-compatible needs the server URL (…/v1)',
    );
  }
  const maxTokens = options.maxTokens ?? 8_000;
  const batchSize = options.batchSize ?? 64;
  const where = `${options.provider} embeddings (${model}${options.baseUrl ? ` at ${options.baseUrl}` : ''})`;
  const cut = (text: string) => text.slice(0, maxTokens * 4);
  const call =
    options.provider === 'gemini' ? geminiCall(options, model, where) : openaiCall(options, model, where);
  return {
    id: remoteEmbedderId(options.provider, model, options.dimensions),
    maxTokens,
    countTokens: approximateTokens,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize).map(cut);
        const vectors = await call(batch);
        if (vectors.length !== batch.length) {
          throw new MemoryError(
            'embedding-unavailable',
            `${where} returned ${vectors.length} vectors for ${batch.length} texts`,
          );
        }
        out.push(...vectors.map((v) => normalise(Float32Array.from(v))));
      }
      return out;
    },
  };
}

function openaiCall(options: RemoteEmbedderOptions, model: string, where: string) {
  const baseURL =
    options.baseUrl ?? (options.provider === 'ollama' ? 'http://127.0.0.1:11434/v1' : undefined);
  const client = new OpenAI({
    // The SDK insists on a key; Ollama and most local servers ignore it.
    apiKey: options.apiKey ?? 'none',
    ...(baseURL ? { baseURL } : {}),
    timeout: 60_000,
    maxRetries: 2,
  });
  return async (input: string[]): Promise<number[][]> => {
    try {
      const res = await client.embeddings.create({
        model,
        input,
        encoding_format: 'float',
        ...(options.dimensions ? { dimensions: options.dimensions } : {}),
      });
      return [...res.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    } catch (error) {
      throw classify(error, where, options, (error as { status?: number }).status);
    }
  };
}

function geminiCall(options: RemoteEmbedderOptions, model: string, where: string) {
  if (!options.apiKey) {
    throw new MemoryError(
      'config',
      `${where}: no API key: set GEMINI_API_KEY or memory.embedding.apiKey in switchyard.yaml`,
    );
  }
  const ai = new GoogleGenAI({
    apiKey: options.apiKey,
    ...(options.baseUrl ? { httpOptions: { baseUrl: options.baseUrl } } : {}),
  });
  return async (input: string[]): Promise<number[][]> => {
    try {
      const res = await ai.models.embedContent({
        model,
        contents: input,
        ...(options.dimensions ? { config: { outputDimensionality: options.dimensions } } : {}),
      });
      return (res.embeddings ?? []).map((e) => e.values ?? []);
    } catch (error) {
      throw classify(error, where, options, (error as { status?: number }).status);
    }
  };
}

function classify(
  error: unknown,
  where: string,
  options: RemoteEmbedderOptions,
  status?: number,
): MemoryError {
  if (status === 401 || status === 403) {
    return new MemoryError(
      'config',
      `${where} refused the API key (${status}): check ${options.keySource ?? 'memory.embedding.apiKey'}`,
      { cause: error },
    );
  }
  if (
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    status !== 408 &&
    status !== 409 &&
    status !== 429
  ) {
    return new MemoryError(
      'config',
      `${where} rejected the request (${status}): ${reason(error)}; check memory.embedding.model and memory.embedding.dimensions`,
      { cause: error },
    );
  }
  const what = status === undefined ? 'is not reachable' : `answered ${status}`;
  return new MemoryError(
    'embedding-unavailable',
    `${where} ${what}: ${reason(error)}. Check that the server runs and memory.embedding.baseUrl points at it, or switch memory.embedding.provider`,
    { cause: error },
  );
}
