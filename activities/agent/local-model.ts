/**
 * A GGUF model run inside the worker process with node-llama-cpp (`providers.<name>: { type:
 * llama-cpp, model: <file> }`). One `LocalModels` per worker process: each file is loaded once,
 * on its first call, and kept until `close()` (the worker's shutdown). Calls to one model run one
 * at a time (one context sequence; the machine's cores are the limit anyway), streaming text as
 * it is generated. Nothing is downloaded: node-llama-cpp's prebuilt CPU binary comes with its npm
 * package, and `build: 'never'` forbids it to fetch and compile llama.cpp instead.
 *
 * Tools are not offered to a local model (the small models this is for cannot call them
 * reliably): tool calls and results earlier in the conversation are shown to it as text.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { Api, AssistantMessage, Context, Model } from '@mariozechner/pi-ai';
import type { ChatHistoryItem, Llama, LlamaContext, LlamaModel } from 'node-llama-cpp';

export { bundledLocalModelPath } from '../../config/bundled-model.js';

import { noUsage } from '../../workflows/agent/agent-api.js';

/** The pi-ai `api` name of models served by this module. */
export const LLAMA_CPP_API = 'llama-cpp';
/** Context size when the provider does not set `contextSize`. */
export const DEFAULT_LOCAL_CONTEXT = 4096;
/** Answer length when neither the agent nor the model definition says. */
export const DEFAULT_LOCAL_MAX_TOKENS = 1024;

export interface LocalModelSpec {
  /** Absolute path of the .gguf file. */
  file: string;
  contextSize: number;
  /** CPU threads for generation; default defaultLocalThreads(). */
  threads?: number;
}

/**
 * Half the cores, at least one. node-llama-cpp's own default asks for at least 4 threads; on a
 * 2-core machine shared with Temporal and other work, llama.cpp's threads then spin waiting for
 * each other and generation all but stops (measured: 24 tokens in ~1 s with 1 thread, 5-9 s with
 * 2, over 60 s with the default, on 2 cores at load 6: docs/benchmarks.md).
 */
export function defaultLocalThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/** The model file cannot be used; `fix` says what to do about it. Not worth retrying. */
export class LocalModelError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`cannot load ${file}: ${reason}. Fix: ${fix}`);
    this.name = 'LocalModelError';
  }
}

export interface LocalCallOptions {
  maxTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
  onText?: (delta: string) => void;
}

export interface LocalModelsOptions {
  /** Where load failures and llama.cpp's own errors are reported (the worker's log). */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  loadMs: number;
  /** The tail of the queue of calls to this model (one at a time). */
  queue: Promise<unknown>;
}

export class LocalModels {
  private llama?: Promise<Llama>;
  private readonly models = new Map<string, Promise<Loaded>>();
  /** llama.cpp's recent error lines: they say why a file did not load. */
  private nativeErrors: string[] = [];
  private closed?: Promise<void>;

  constructor(private readonly options: LocalModelsOptions = {}) {}

  /** Loads the model now (once per process); rejects with LocalModelError when the file is unusable. */
  async load(spec: LocalModelSpec): Promise<{ loadMs: number }> {
    const loaded = await this.loaded(spec);
    return { loadMs: loaded.loadMs };
  }

  /** Whether this file is loaded in this process. */
  isLoaded(spec: LocalModelSpec): boolean {
    return this.models.has(key(spec));
  }

  /**
   * One completion: the context as a chat (the model's own chat template), text streamed to
   * `onText`, the finished message returned. A load failure rejects with LocalModelError; a
   * failure while generating comes back as a message with stopReason 'error' (or 'aborted').
   */
  async complete(
    model: Model<Api>,
    spec: LocalModelSpec,
    context: Context,
    options: LocalCallOptions = {},
  ): Promise<AssistantMessage> {
    const loaded = await this.loaded(spec);
    const run = loaded.queue.then(() => this.generate(loaded, model, context, options));
    loaded.queue = run.catch(() => {});
    return run;
  }

  /** Frees every loaded model and the llama.cpp runtime; later calls load again. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    const models = [...this.models.values()];
    const llama = this.llama;
    this.models.clear();
    this.llama = undefined;
    this.closed = (async () => {
      let released = 0;
      for (const pending of models) {
        const loaded = await pending.catch(() => undefined);
        if (!loaded) continue;
        await loaded.queue;
        await loaded.context.dispose();
        await loaded.model.dispose();
        released++;
      }
      const runtime = await llama?.catch(() => undefined);
      await runtime?.dispose();
      if (released > 0) this.options.log?.('info', `local model: released ${released} model(s)`);
    })().finally(() => {
      this.closed = undefined;
    });
    return this.closed;
  }

  private runtime(): Promise<Llama> {
    this.llama ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) => {
      keepGracefulShutdown();
      return getLlama({
        gpu: false,
        // Never download and compile llama.cpp: use the prebuilt binary from npm or fail.
        build: 'never',
        logLevel: LlamaLogLevel.error,
        logger: (_level, message) => {
          const line = message.trim();
          if (!line) return;
          this.nativeErrors = [...this.nativeErrors.slice(-9), line];
        },
      });
    });
    return this.llama;
  }

  private loaded(spec: LocalModelSpec): Promise<Loaded> {
    const k = key(spec);
    let pending = this.models.get(k);
    if (!pending) {
      pending = this.loadNow(spec);
      this.models.set(k, pending);
      // A failed load is not kept: the next call tries again (the file may have been fixed).
      pending.catch(() => {
        if (this.models.get(k) === pending) this.models.delete(k);
      });
    }
    return pending;
  }

  private async loadNow(spec: LocalModelSpec): Promise<Loaded> {
    const started = performance.now();
    const fail = (reason: string, fix: string) => {
      const error = new LocalModelError(spec.file, reason, fix);
      this.options.log?.('error', `local model: ${error.message}`);
      return error;
    };
    const refetch =
      'point the provider\u2019s model: at a complete .gguf file (the bundled one is installed by `npm run setup`)';
    let size: number;
    try {
      const info = await stat(spec.file);
      if (!info.isFile()) throw fail('it is not a file', refetch);
      size = info.size;
    } catch (err) {
      if (err instanceof LocalModelError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw fail(code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(err)})`, refetch);
    }
    const llama = await this.runtime();
    this.nativeErrors = [];
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: spec.file });
    } catch (err) {
      const native = this.nativeErrors.filter((l) => !/failed to load model$/.test(l)).at(-1);
      const message = (err as Error).message;
      const reason = /GGUF magic/i.test(message)
        ? `not a GGUF file (${message})`
        : `not a valid or complete GGUF model (${native ?? message}; ${size} bytes)`;
      throw fail(reason, `${refetch}; a download cut short or a wrong file gives this`);
    }
    try {
      const context = await model.createContext({
        contextSize: spec.contextSize,
        sequences: 1,
        threads: spec.threads ?? defaultLocalThreads(),
      });
      const loadMs = Math.round(performance.now() - started);
      this.options.log?.('info', `local model: loaded ${spec.file} in ${loadMs} ms`);
      return { model, context, loadMs, queue: Promise.resolve() };
    } catch (err) {
      await model.dispose();
      throw fail(
        `no room for a context of ${spec.contextSize} tokens (${(err as Error).message})`,
        'lower the provider\u2019s contextSize, or free memory',
      );
    }
  }

  private async generate(
    loaded: Loaded,
    model: Model<Api>,
    context: Context,
    options: LocalCallOptions,
  ): Promise<AssistantMessage> {
    const { LlamaChat } = await import('node-llama-cpp');
    const usage = noUsage();
    const base = {
      role: 'assistant' as const,
      api: model.api,
      provider: model.provider,
      model: model.id,
      usage,
      timestamp: Date.now(),
    };
    if (options.signal?.aborted) return { ...base, content: [], stopReason: 'aborted' };
    const sequence = loaded.context.getSequence();
    const chat = new LlamaChat({ contextSequence: sequence });
    const meter = sequence.tokenMeter.getState();
    try {
      const result = await chat.generateResponse(toChatHistory(context), {
        maxTokens: options.maxTokens ?? model.maxTokens,
        // A tiny model left at temperature 0 loops; a little sampling and a repeat penalty keep it on track.
        temperature: options.temperature ?? 0.3,
        topP: 0.9,
        repeatPenalty: { penalty: 1.1 },
        ...(options.signal ? { signal: options.signal } : {}),
        onTextChunk: (text) => {
          if (text) options.onText?.(text);
        },
      });
      const used = sequence.tokenMeter.diff(meter);
      usage.input = used.usedInputTokens;
      usage.output = used.usedOutputTokens;
      usage.totalTokens = usage.input + usage.output;
      const text = result.response;
      return {
        ...base,
        content: text ? [{ type: 'text', text }] : [],
        stopReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
      };
    } catch (err) {
      if (options.signal?.aborted) return { ...base, content: [], stopReason: 'aborted' };
      return { ...base, content: [], stopReason: 'error', errorMessage: (err as Error).message };
    } finally {
      chat.dispose({ disposeSequence: true });
    }
  }
}

/**
 * node-llama-cpp imports proper-lockfile, which installs signal-exit 3 at load: on SIGTERM or
 * SIGINT, when its listener is the last one left (Temporal's runtime listens once), it sends the
 * signal again at once and the process dies — a worker that had used a local model then exited by
 * SIGTERM in ~60 ms instead of draining its activities and freeing the model (exit 0). Lock files
 * are only used when node-llama-cpp builds or downloads, which Switchyard never lets it do.
 */
function keepGracefulShutdown(): void {
  try {
    const fromLlama = createRequire(import.meta.resolve('node-llama-cpp'));
    const fromLockfile = createRequire(fromLlama.resolve('proper-lockfile'));
    (fromLockfile('signal-exit') as { unload?: () => void }).unload?.();
  } catch {
    // A node-llama-cpp without it: nothing to undo.
  }
}

function key(spec: LocalModelSpec): string {
  return `${spec.file}\u0000${spec.contextSize}\u0000${spec.threads ?? ''}`;
}

/**
 * pi-ai's context as node-llama-cpp's chat history: the system prompt, user turns, the model's
 * earlier answers; tool calls and their results as plain text (the model is offered no tools).
 */
export function toChatHistory(context: Context): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  if (context.systemPrompt?.trim()) items.push({ type: 'system', text: context.systemPrompt });
  const user = (text: string) => {
    const last = items.at(-1);
    if (last?.type === 'user') last.text = `${last.text}\n\n${text}`;
    else items.push({ type: 'user', text });
  };
  for (const message of context.messages) {
    if (message.role === 'user') {
      const text =
        typeof message.content === 'string'
          ? message.content
          : message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
      user(text);
    } else if (message.role === 'assistant') {
      const text = message.content
        .map((b) =>
          b.type === 'text'
            ? b.text
            : b.type === 'toolCall'
              ? `[called ${b.name} ${JSON.stringify(b.arguments)}]`
              : '',
        )
        .filter(Boolean)
        .join('\n');
      if (text) items.push({ type: 'model', response: [text] });
    } else if (message.role === 'toolResult') {
      const text = message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
      user(`[${message.isError ? 'error from' : 'result of'} ${message.toolName}]: ${text}`);
    }
  }
  items.push({ type: 'model', response: [] });
  return items;
}
