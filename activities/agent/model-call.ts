/**
 * One model call = one activity attempt: stream from the provider with pi-ai, push deltas out
 * of band, heartbeat while tokens arrive, return the finished message (or throw a classified
 * ApplicationFailure). pi-ai's own SDK retries are off: Temporal owns retrying.
 */
import { type Api, type Context, calculateCost, type Model, streamSimple } from '@mariozechner/pi-ai';
import { Context as ActivityContext } from '@temporalio/activity';
import { AgentConfigError, type AgentModelsConfig } from './config.js';
import { configFailure, modelCallFailure, redact } from './errors.js';
import { type KeySources, resolveApiKey, resolveModel } from './models.js';
import type { AgentDelta, ModelCallInput, ModelCallResult } from './types.js';

export type DeltaSink = (runKey: string, delta: AgentDelta) => void | Promise<void>;

export interface ModelCallDeps extends KeySources {
  config: () => AgentModelsConfig;
  onDelta?: DeltaSink;
}

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
  try {
    const stream = streamSimple(model, input.context as Context, {
      apiKey,
      maxRetries: 0,
      signal: activity.cancellationSignal,
      ...(thinking && thinking !== 'off' && model.reasoning ? { reasoning: thinking } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
    });
    for await (const event of stream) {
      activity.heartbeat();
      if (event.type === 'text_delta') send({ type: 'text', delta: event.delta });
      else if (event.type === 'thinking_delta') send({ type: 'thinking', delta: event.delta });
    }
    message = await stream.result();
  } catch (err) {
    // streamSimple throws synchronously for set-up problems (e.g. an unknown api).
    message = errorMessage(model, err);
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
    usage: {
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      totalTokens: 0,
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    },
    stopReason: 'error',
    errorMessage: err instanceof Error ? err.message : String(err),
    timestamp: Date.now(),
  };
}
