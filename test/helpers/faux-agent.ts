import { randomUUID } from 'node:crypto';
import {
  type Context,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  registerFauxProvider,
} from '@mariozechner/pi-ai';
import { type AgentModelsConfig, loadAgentModelsConfig } from '../../activities/agent/index.js';
import { projectRoot } from '../../config/home.js';

export interface FauxAgent {
  faux: FauxProviderRegistration;
  /** Agent/model configuration naming the faux model; agents listed in `silent` have no model. */
  config: AgentModelsConfig;
  /** From now on every model call answers `reply(last user text)`. */
  answerWith(reply: (prompt: string) => string): void;
  close(): void;
}

/** pi-ai's faux provider (in-process, no network) behind the named agents. */
export function fauxAgent(options: { agents?: string[]; silent?: string[] } = {}): FauxAgent {
  const provider = `faux-${randomUUID().slice(0, 8)}`;
  const faux = registerFauxProvider({ provider });
  const config = loadAgentModelsConfig(
    {
      providers: {
        [provider]: {
          type: 'openai-compatible',
          api: faux.api,
          baseUrl: 'http://127.0.0.1:9',
          apiKey: 'none',
          models: [{ id: 'm', contextWindow: 16000 }],
        },
      },
      agents: [
        ...(options.agents ?? ['main']).map((id) => ({ id, model: `${provider}/m` })),
        ...(options.silent ?? []).map((id) => ({ id })),
      ],
    },
    { home: projectRoot() },
  );
  return {
    faux,
    config,
    answerWith(reply) {
      const step = (context: Context) => fauxAssistantMessage(reply(lastUserText(context)));
      faux.setResponses(Array.from({ length: 2000 }, () => step));
    },
    close: () => faux.unregister(),
  };
}

export function lastUserText(context: Context): string {
  const last = [...context.messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string'
    ? last.content
    : last.content.map((c) => ('text' in c ? c.text : '')).join('');
}
