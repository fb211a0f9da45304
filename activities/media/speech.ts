/**
 * Speech-to-text providers by name, as `media.transcription` lists them: `local` (the worker's
 * engine) or `<provider>/<model>` of the config's providers, reached over OpenAI's
 * /audio/transcriptions with the provider's base URL and key (read at call time, never logged).
 */
import { MediaError } from '../../media/errors.js';
import type { LocalWhisper } from '../../media/stt/local.js';
import { transcribeOpenAI } from '../../media/stt/openai.js';
import type { SpeechProvider } from '../../media/stt/transcribe.js';
import { AgentConfigError, type AgentModelsConfig } from '../agent/config.js';
import { redact } from '../agent/errors.js';
import { resolveApiKey, resolveModel } from '../agent/models.js';

export interface SpeechDeps {
  local?: LocalWhisper;
  models?: () => AgentModelsConfig;
  env: NodeJS.ProcessEnv;
}

export function speechProviders(names: readonly string[], deps: SpeechDeps): SpeechProvider[] {
  return names.map((name): SpeechProvider => {
    if (name === 'local') {
      return {
        name,
        transcribe: (wav, options) => {
          if (!deps.local) throw new MediaError('missing-tool', 'this process runs no local speech engine');
          return deps.local.transcribe(wav, options);
        },
      };
    }
    return {
      name,
      transcribe: async (wav, options) => {
        const config = deps.models?.();
        if (!config) throw new MediaError('missing-tool', `no providers are configured for ${name}`);
        let target: { baseUrl: string; apiKey: string; model: string; headers?: Record<string, string> };
        try {
          const model = resolveModel(name, config);
          target = {
            baseUrl: model.baseUrl,
            apiKey: resolveApiKey(name, config, { env: deps.env }),
            model: model.id,
            ...(model.headers ? { headers: model.headers } : {}),
          };
        } catch (error) {
          if (error instanceof AgentConfigError)
            throw new MediaError('missing-tool', error.problems.join('; '));
          throw error;
        }
        try {
          return await transcribeOpenAI(target, wav, options);
        } catch (error) {
          if (error instanceof Error) error.message = redact(error.message, [target.apiKey]);
          throw error;
        }
      },
    };
  });
}
