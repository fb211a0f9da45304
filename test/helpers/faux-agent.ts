import { randomUUID } from 'node:crypto';
import {
  type Context,
  type FauxProviderRegistration,
  fauxAssistantMessage,
  registerFauxProvider,
  type StreamOptions,
} from '@mariozechner/pi-ai';
import { type AgentModelsConfig, loadAgentModelsConfig } from '../../activities/agent/index.js';
import { projectRoot } from '../../config/home.js';

export interface FauxAgent {
  faux: FauxProviderRegistration;
  /** Agent/model configuration naming the faux model; agents listed in `silent` have no model. */
  config: AgentModelsConfig;
  /** From now on every model call answers `reply(last user text)`. */
  answerWith(reply: (prompt: string) => string): void;
  /** What every model call answered through `answerWith` was sent (its messages, as JSON text). */
  requests: string[];
  /**
   * From now on every model call answered through `answerWith` waits (until `release()`, or
   * until its request is aborted, e.g. because its turn was cancelled) before it answers;
   * `waiting` resolves with the prompt of the first call that waits. The model is then really
   * busy: nothing streams meanwhile.
   */
  hold(): ModelHold;
  close(): void;
}

export interface ModelHold {
  waiting: Promise<string>;
  release(): void;
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
  let gate: { arrived(prompt: string): void; opened: Promise<void> } | undefined;
  const requests: string[] = [];
  return {
    faux,
    config,
    requests,
    answerWith(reply) {
      const step = async (context: Context, options?: StreamOptions) => {
        const prompt = lastUserText(context);
        requests.push(JSON.stringify(context.messages));
        const held = gate;
        if (held) {
          held.arrived(prompt);
          await Promise.race([held.opened, aborted(options?.signal)]);
        }
        return fauxAssistantMessage(reply(prompt));
      };
      faux.setResponses(Array.from({ length: 2000 }, () => step));
    },
    hold() {
      let arrived!: (prompt: string) => void;
      let open!: () => void;
      const waiting = new Promise<string>((resolve) => {
        arrived = resolve;
      });
      const current = { arrived, opened: new Promise<void>((resolve) => (open = resolve)) };
      gate = current;
      return {
        waiting,
        release() {
          if (gate === current) gate = undefined;
          open();
        },
      };
    },
    close: () => faux.unregister(),
  };
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function lastUserText(context: Context): string {
  const last = [...context.messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  return typeof last.content === 'string'
    ? last.content
    : last.content.map((c) => ('text' in c ? c.text : '')).join('');
}
