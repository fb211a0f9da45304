/**
 * One model call = one activity attempt: stream from the provider with pi-ai, push deltas out
 * of band, heartbeat on a clock while the call is open, return the finished message (or throw a classified
 * ApplicationFailure). pi-ai's own SDK retries are off: Temporal owns retrying.
 */
import { type Api, type Context, calculateCost, type Model, streamSimple } from '@mariozechner/pi-ai';
import { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../engine/failures.js';
import {
  type AgentDelta,
  blobImageSha256,
  type ModelCallInput,
  type ModelCallResult,
  noUsage,
} from '../../workflows/agent/agent-api.js';
import { AgentConfigError, type AgentModelsConfig } from './config.js';
import { configFailure, modelCallFailure, redact } from './errors.js';
import { LLAMA_CPP_API, LocalModelError, type LocalModelSpec, type LocalModels } from './local-model.js';
import { type KeySources, localModelSpec, resolveApiKey, resolveModel } from './models.js';

export type DeltaSink = (runKey: string, delta: AgentDelta) => void | Promise<void>;

export interface ModelCallDeps extends KeySources {
  config: () => AgentModelsConfig;
  onDelta?: DeltaSink;
  /** Bytes of a blob-store image the context refers to (`blob:sha256:…`); absent: images become notes. */
  readBlob?: (sha256: string) => Promise<Buffer>;
  /** The worker's GGUF models (llama-cpp providers); absent: such a model fails with ModelConfigError. */
  local?: LocalModels;
}

/** How often a model call heartbeats while it is open, tokens or not. */
export const HEARTBEAT_EVERY_MS = 3_000;
/** A stream with no event (token, thinking, anything) for this long is abandoned and retried. */
export const STALL_MS = 120_000;

export async function callModel(input: ModelCallInput, deps: ModelCallDeps): Promise<ModelCallResult> {
  const activity = ActivityContext.current();
  const send = (delta: AgentDelta) => pushDelta(deps.onDelta, input.runKey, delta, activity);
  let model: Model<Api>;
  let apiKey: string;
  let local: LocalModelSpec | undefined;
  try {
    const config = deps.config();
    model = resolveModel(input.model, config);
    apiKey = resolveApiKey(input.model, config, deps);
    local = localModelSpec(input.model, config);
  } catch (err) {
    if (err instanceof AgentConfigError) throw configFailure(err);
    throw err;
  }
  if (model.api === LLAMA_CPP_API && (!local || !deps.local)) {
    throw ApplicationFailure.nonRetryable(
      `model ${input.model}: this worker runs no local (llama-cpp) models`,
      Failures.ModelConfigError,
    );
  }

  send({ type: 'start', model: input.model, attempt: activity.info.attempt, purpose: input.purpose });
  const { thinking, maxTokens, temperature } = input.options;
  let message: ModelCallResult;
  // Heartbeat on a clock, not per token: a worker that died mid-call is noticed within the
  // heartbeat timeout, while a provider that goes silent is cut off after STALL_MS and retried.
  const stall = new AbortController();
  let lastEvent = Date.now();
  const pulse = setInterval(() => {
    activity.heartbeat();
    if (Date.now() - lastEvent > STALL_MS) stall.abort();
  }, HEARTBEAT_EVERY_MS);
  try {
    const context = await withImageBytes(input.context as Context, model, input.model, deps.readBlob);
    const signal = AbortSignal.any([activity.cancellationSignal, stall.signal]);
    if (local && deps.local) {
      message = await deps.local.complete(model, local, context, {
        signal,
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        onText: (delta) => {
          lastEvent = Date.now();
          send({ type: 'text', delta });
        },
      });
    } else {
      const stream = streamSimple(model, context, {
        apiKey,
        maxRetries: 0,
        signal,
        ...(thinking && thinking !== 'off' && model.reasoning ? { reasoning: thinking } : {}),
        ...(maxTokens !== undefined ? { maxTokens } : {}),
        ...(temperature !== undefined ? { temperature } : {}),
      });
      for await (const event of stream) {
        lastEvent = Date.now();
        if (event.type === 'text_delta') send({ type: 'text', delta: event.delta });
        else if (event.type === 'thinking_delta') send({ type: 'thinking', delta: event.delta });
      }
      message = await stream.result();
    }
  } catch (err) {
    if (err instanceof LocalModelError) {
      send({ type: 'end', stopReason: 'error' });
      throw ApplicationFailure.nonRetryable(
        `model ${input.model} failed: ${err.message}`,
        Failures.LocalModelUnavailable,
        {
          model: input.model,
          file: err.file,
        },
      );
    }
    // streamSimple throws synchronously for set-up problems (e.g. an unknown api).
    message = errorMessage(model, err);
  } finally {
    clearInterval(pulse);
  }
  if (stall.signal.aborted && !activity.cancellationSignal.aborted) {
    send({ type: 'end', stopReason: 'error' });
    throw ApplicationFailure.retryable(
      `model ${input.model} sent nothing for ${STALL_MS / 1000} s; trying again`,
      Failures.ModelCallRetryable,
    );
  }
  if (message.stopReason === 'error' || message.stopReason === 'aborted') {
    if (message.errorMessage) message.errorMessage = redact(message.errorMessage, [apiKey]);
    send({ type: 'end', stopReason: message.stopReason });
    throw modelCallFailure(input.model, message, model.contextWindow);
  }
  calculateCost(model, message.usage);
  send({ type: 'end', stopReason: message.stopReason });
  return message;
}

/**
 * The images of the context, which history holds as blob-store addresses, as bytes for this one
 * request; for a model that cannot see, a short note in their place.
 */
export async function withImageBytes(
  context: Context,
  model: Model<Api>,
  ref: string,
  readBlob: ModelCallDeps['readBlob'],
): Promise<Context> {
  const sees = model.input.includes('image');
  let changed = false;
  const messages = await Promise.all(
    context.messages.map(async (message) => {
      if (message.role === 'assistant' || typeof message.content === 'string') return message;
      const content = await Promise.all(
        message.content.map(async (block) => {
          const sha256 = block.type === 'image' ? blobImageSha256(block.data) : undefined;
          if (block.type !== 'image' || sha256 === undefined) return block;
          changed = true;
          if (!sees) return { type: 'text' as const, text: `[image not shown: ${ref} does not take images]` };
          if (!readBlob)
            return { type: 'text' as const, text: '[image not shown: this worker has no media store]' };
          try {
            return { ...block, data: (await readBlob(sha256)).toString('base64') };
          } catch {
            return { type: 'text' as const, text: '[image not shown: it is no longer in the media store]' };
          }
        }),
      );
      return { ...message, content } as typeof message;
    }),
  );
  return changed ? { ...context, messages } : context;
}

/** Best effort and never blocking: a lost delta costs a flicker, the answer comes through history. */
function pushDelta(
  sink: DeltaSink | undefined,
  runKey: string,
  delta: AgentDelta,
  activity: ActivityContext,
) {
  if (!sink) return;
  try {
    const result = sink(runKey, delta);
    if (result)
      result.catch((err: unknown) => activity.log.warn('delta sink failed', { error: String(err) }));
  } catch (err) {
    activity.log.warn('delta sink failed', { error: String(err) });
  }
}

function errorMessage(model: Model<Api>, err: unknown): ModelCallResult {
  return {
    role: 'assistant',
    content: [],
    api: model.api,
    provider: model.provider,
    model: model.id,
    usage: noUsage(),
    stopReason: 'error',
    errorMessage: err instanceof Error ? err.message : String(err),
    timestamp: Date.now(),
  };
}
