/**
 * An image described in words by a vision model (pi-ai, any provider of the config), for an agent
 * whose own model cannot see it. Failures are classified like any model call's (rate limits and
 * outages retried, a refused key not). Used by the mediaDescribe activity and `switchyard media describe`.
 */
import { type Api, completeSimple, type Model } from '@mariozechner/pi-ai';
import type { AgentModelsConfig } from '../agent/config.js';
import { AgentConfigError } from '../agent/config.js';
import { configFailure, modelCallFailure, redact } from '../agent/errors.js';
import { resolveApiKey, resolveModel } from '../agent/models.js';

export const DESCRIBE_PROMPT =
  'Describe this image for someone who cannot see it, in at most three sentences. ' +
  'Copy out any text in it exactly.';

export async function describeImage(
  ref: string,
  config: AgentModelsConfig,
  env: NodeJS.ProcessEnv,
  image: Buffer,
  mime: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  let model: Model<Api>;
  let apiKey: string;
  try {
    model = resolveModel(ref, config);
    apiKey = resolveApiKey(ref, config, { env });
  } catch (error) {
    if (error instanceof AgentConfigError) throw configFailure(error);
    throw error;
  }
  const answer = await completeSimple(
    model,
    {
      messages: [
        {
          role: 'user',
          timestamp: Date.now(),
          content: [
            { type: 'text', text: DESCRIBE_PROMPT },
            { type: 'image', data: image.toString('base64'), mimeType: mime },
          ],
        },
      ],
    },
    { apiKey, maxTokens: 400, maxRetries: 0, ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (answer.stopReason === 'error' || answer.stopReason === 'aborted') {
    if (answer.errorMessage) answer.errorMessage = redact(answer.errorMessage, [apiKey]);
    throw modelCallFailure(ref, answer, model.contextWindow);
  }
  return answer.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('')
    .trim();
}
