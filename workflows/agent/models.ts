/**
 * The loop's `streamFn`: each model call is one `agentModelCall` activity (retried by Temporal
 * on 429/5xx/timeouts), and when a model fails for good the next fallback model is tried.
 * When every model fails the turn fails with one message that names each model's error.
 */
import type { StreamFn } from '@mariozechner/pi-agent-core';
import { type AssistantMessage, type Context, createAssistantMessageEventStream } from '@mariozechner/pi-ai';
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { Failures } from '../../engine/failures.js';
import { failureText, type ModelCallPolicy, modelActivity } from './activity-options.js';
import type { ModelCallInput, ModelContext, ModelInfo } from './agent-api.js';

export interface ModelChain {
  agent: string;
  models: ModelInfo[];
  options: ModelCallInput['options'];
  runKey: string;
  policy: ModelCallPolicy;
  /** Sees every answer (usage accounting). */
  onAnswer(message: AssistantMessage, model: string): void;
}

export async function callModels(
  chain: ModelChain,
  context: ModelContext,
  purpose: ModelCallInput['purpose'],
  options: ModelCallInput['options'] = chain.options,
): Promise<AssistantMessage> {
  const failures: string[] = [];
  for (const model of chain.models) {
    const call = modelActivity(chain.policy, `${purpose === 'turn' ? 'model' : 'compaction'} ${model.ref}`);
    try {
      const message = await call({ model: model.ref, context, options, runKey: chain.runKey, purpose });
      chain.onAnswer(message, model.ref);
      return message;
    } catch (err) {
      if (isCancellation(err)) throw err;
      failures.push(failureText(err));
    }
  }
  throw ApplicationFailure.create({
    type: Failures.AgentModelsFailed,
    nonRetryable: true,
    message: `Agent '${chain.agent}' got no answer: ${failures.length === 1 ? 'its model failed' : `all ${failures.length} models failed`} — ${failures.join('; ')}`,
  });
}

/** Only plain data reaches the activity: tools lose `execute`, options lose every callback. */
export function modelContext(context: Context): ModelContext {
  return {
    ...(context.systemPrompt !== undefined ? { systemPrompt: context.systemPrompt } : {}),
    messages: context.messages,
    ...(context.tools?.length
      ? {
          tools: context.tools.map((t) => ({
            name: t.name,
            description: t.description,
            parameters: t.parameters as unknown as Record<string, unknown>,
          })),
        }
      : {}),
  };
}

export function durableStreamFn(chain: ModelChain): StreamFn {
  // The loop's own options (convertToLlm, getApiKey, signal, …) are deliberately ignored.
  return async (_model, context) => {
    const message = await callModels(chain, modelContext(context), 'turn');
    const stream = createAssistantMessageEventStream();
    stream.push({ type: 'done', reason: message.stopReason as 'stop' | 'length' | 'toolUse', message });
    stream.end(message);
    return stream;
  };
}
