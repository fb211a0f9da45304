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
  type ModelCallInput,
  type ModelCallResult,
  noUsage,
} from '../../workflows/agent/agent-api.js';
import { AgentConfigError, type AgentModelsConfig } from './config.js';
import { configFailure, modelCallFailure, redact } from './errors.js';
import { type KeySources, resolveApiKey, resolveModel } from './models.js';

export type DeltaSink = (runKey: string, delta: AgentDelta) => void | Promise<void>;

export interface ModelCallDeps extends KeySources {
  config: () => AgentModelsConfig;
  onDelta?: DeltaSink;
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
  try {
    const config = deps.config();
    model = resolveModel(input.model, config);
    apiKey = resolveApiKey(input.model, config, deps);
  } catch (err) {
    if (err instanceof AgentConfigError) throw configFailure(err);
    throw err;
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
    const stream = streamSimple(model, input.context as Context, {
      apiKey,
      maxRetries: 0,
      signal: AbortSignal.any([activity.cancellationSignal, stall.signal]),
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
  } catch (err) {
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
