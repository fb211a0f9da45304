/**
 * One real call to a model, outside any turn: does this provider, URL and key answer? Used by
 * onboarding before it writes the config. The same path as a turn's model call (resolveModel,
 * resolveApiKey, pi-ai over the provider's wire protocol), without Temporal: nothing here is
 * recorded anywhere, and the key is scrubbed from every error text.
 */
import { type Api, completeSimple, type Model } from '@mariozechner/pi-ai';
import { AgentConfigError, type AgentModelsConfig } from './config.js';
import { redact } from './errors.js';
import { LLAMA_CPP_API, LocalModels } from './local-model.js';
import { type KeySources, localModelSpec, resolveApiKey, resolveModel } from './models.js';

export type ProbeResult = { ok: true; text: string; model: Model<Api> } | { ok: false; error: string };

export interface ProbeOptions extends KeySources {
  /** Default 45 s: a cold local server may need a while for its first token. */
  timeoutMs?: number;
  /** The key to use instead of the one the config names (the one being tested, not yet stored). */
  apiKey?: string;
}

export async function probeModel(
  ref: string,
  config: AgentModelsConfig,
  options: ProbeOptions,
): Promise<ProbeResult> {
  let model: Model<Api>;
  let apiKey: string;
  try {
    model = resolveModel(ref, config);
    apiKey = options.apiKey ?? resolveApiKey(ref, config, options);
  } catch (error) {
    if (error instanceof AgentConfigError) return { ok: false, error: error.problems.join('; ') };
    throw error;
  }
  const timeoutMs = options.timeoutMs ?? 45_000;
  const question = {
    messages: [{ role: 'user' as const, content: 'Reply with one word: ready', timestamp: Date.now() }],
  };
  const local = model.api === LLAMA_CPP_API ? localModelSpec(ref, config) : undefined;
  // A GGUF model is loaded here, in the process that asks (the gateway or the CLI), for this one
  // call, and freed again: the worker loads its own copy on its first turn.
  const runtime = local ? new LocalModels() : undefined;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const answer =
      local && runtime
        ? await runtime.complete(model, local, question, { maxTokens: 16, signal })
        : await completeSimple(model, question, { apiKey, maxRetries: 0, maxTokens: 64, signal });
    if (answer.stopReason === 'error' || answer.stopReason === 'aborted') {
      const why =
        answer.stopReason === 'aborted'
          ? `no answer within ${timeoutMs / 1000} s`
          : (answer.errorMessage ?? 'unknown error');
      return { ok: false, error: redact(`${model.baseUrl}: ${why}`, [apiKey]) };
    }
    const text = answer.content
      .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
      .map((c) => c.text)
      .join('')
      .trim();
    return { ok: true, text, model };
  } catch (error) {
    const message = (error as Error).message;
    return { ok: false, error: local ? message : redact(`${model.baseUrl}: ${message}`, [apiKey]) };
  } finally {
    await runtime?.close();
  }
}
