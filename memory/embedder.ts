/**
 * An embedding model: text in, one vector per text out. The local model is the default (no
 * network, no key); providers are chosen in switchyard.yaml (`memory.embedding`).
 */
export interface Embedder {
  /**
   * Names the vectors (provider, model, dimensions). Vectors of two ids never meet in one index:
   * a store that finds another id re-indexes from the markdown files.
   */
  readonly id: string;
  /** Most tokens one input may carry; longer inputs are cut (never an error). */
  readonly maxTokens: number;
  /** Tokens of a text as this model counts them (the local model: wordpieces; providers: ~4 chars each). */
  countTokens(text: string): number;
  /** One vector per text, in order. Throws MemoryError (`embedding-unavailable` or `config`). */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Loads what countTokens needs (called before chunking; embedders built lazily use it). */
  prepare?(): Promise<void>;
  close?(): Promise<void>;
}

export const LOCAL_MODEL_ID = 'local:all-MiniLM-L6-v2-int8';

export const DEFAULT_EMBEDDING_MODELS: Record<string, string | undefined> = {
  openai: 'text-embedding-3-small',
  gemini: 'gemini-embedding-001',
  ollama: 'nomic-embed-text',
};

/** The id of a provider's vectors: provider, model and (when shortened) dimensions. */
export function remoteEmbedderId(provider: string, model: string | undefined, dimensions?: number): string {
  return `${provider}:${model ?? DEFAULT_EMBEDDING_MODELS[provider] ?? '?'}${dimensions ? `@${dimensions}` : ''}`;
}

/** Cosine similarity of two vectors of the same length. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Scales a vector to length 1 in place (and returns it). */
export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const len = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i]! /= len;
  return v;
}

/** Rough token count for providers whose tokenizer we do not ship (OpenClaw's estimate too). */
export function approximateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
