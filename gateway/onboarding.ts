/**
 * Onboarding: from "no model" to a working one, as a short dialogue — pick a provider, give its
 * key (or URL), a real test call, then the config is written. The web chat runs it in the gateway
 * before any turn starts (so a key never enters a message, a turn, Temporal history or the
 * transcript, and nothing fails in the Temporal UI); `switchyard onboard` runs the same dialogue
 * in a terminal. The key goes to the secrets file (0600), switchyard.yaml only names it, and the
 * file is written through editConfigFile (validated like any load, file:line errors).
 */
import { basename } from 'node:path';
import type { Document } from 'yaml';
import { AgentConfigError, loadAgentModelsConfig, type ProviderConfig } from '../activities/agent/config.js';
import { resolveApiKey, resolveModel } from '../activities/agent/models.js';
import { type ProbeResult, probeModel } from '../activities/agent/probe.js';
import type { SetupField, SetupView } from '../channels/webchat/protocol.js';
import type { Config } from '../config/config.js';
import { editConfigFile, writeSecret } from '../config/edit.js';
import { ConfigError } from '../config/errors.js';
import { secretsFileOf } from '../config/secrets.js';

export type { SetupField, SetupView } from '../channels/webchat/protocol.js';

interface ProviderChoice {
  id: string;
  label: string;
  /** Cloud providers: the usual environment variable of the key, the default model, where keys are made. */
  keyEnv?: string;
  model?: string;
  keyUrl?: string;
}

const CLOUD: ProviderChoice[] = [
  {
    id: 'anthropic',
    label: 'Anthropic (Claude)',
    keyEnv: 'ANTHROPIC_API_KEY',
    model: 'claude-sonnet-4-5',
    keyUrl: 'https://console.anthropic.com/settings/keys',
  },
  {
    id: 'openai',
    label: 'OpenAI (GPT)',
    keyEnv: 'OPENAI_API_KEY',
    model: 'gpt-4.1',
    keyUrl: 'https://platform.openai.com/api-keys',
  },
  {
    id: 'google',
    label: 'Google (Gemini)',
    keyEnv: 'GEMINI_API_KEY',
    model: 'gemini-2.5-flash',
    keyUrl: 'https://aistudio.google.com/apikey',
  },
  {
    id: 'openrouter',
    label: 'OpenRouter (many models, one key)',
    keyEnv: 'OPENROUTER_API_KEY',
    model: 'anthropic/claude-sonnet-4.5',
    keyUrl: 'https://openrouter.ai/keys',
  },
];
const SERVER: ProviderChoice = {
  id: 'openai-compatible',
  label: 'Ollama, LM Studio or another OpenAI-compatible server (its URL)',
};
const LOCAL_ID = 'local';

/** A GGUF model this installation can run in the worker (offered only when it answers coherently). */
export interface LocalModelOffer {
  file: string;
  label: string;
}

export interface OnboardingDeps {
  /** The config in effect now. */
  config: () => Config;
  /** Where `{ env }` keys are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The test call (default: probeModel, a real call over the provider's wire protocol). */
  probe?: typeof probeModel;
  /** The bundled local model, when there is one worth offering. */
  localModel?: () => LocalModelOffer | undefined;
  /**
   * 'chat' (default): a message waits for the model and goes on when it works.
   * 'command': `switchyard onboard`, nothing waits.
   */
  context?: 'chat' | 'command';
}

/**
 * Why an agent cannot answer yet (no model, or its model's key or provider is missing), or
 * undefined when it can. An invalid config is not onboarding's business: the turn reports it.
 */
export function setupReason(
  config: Config,
  agentId: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  let models: ReturnType<typeof loadAgentModelsConfig>;
  try {
    models = loadAgentModelsConfig(config.models, { home: config.home });
  } catch {
    return undefined;
  }
  const agent = models.agents.find((a) => a.id.toLowerCase() === agentId.toLowerCase());
  if (!agent) return undefined;
  if (!agent.model) return `agent '${agent.id}' has no model yet`;
  const ref = agent.model.primary;
  try {
    resolveModel(ref, models);
    resolveApiKey(ref, models, { env });
  } catch (error) {
    if (error instanceof AgentConfigError) return `${ref} cannot be used yet: ${error.problems.join('; ')}`;
    throw error;
  }
  return undefined;
}

export interface OnboardingSession {
  /** What to show now. */
  view(): SetupView;
  choose(provider: string): SetupView;
  /** Tests the answers with a real call; on success writes secrets and config. */
  submit(values: Partial<Record<SetupField['name'], string>>): Promise<SetupView>;
  back(): SetupView;
  /** True once the config is written (the waiting messages can go). */
  readonly done: boolean;
}

/** One person's way through onboarding, for agent `agentId`; `reason` is what setupReason said. */
export function createOnboarding(deps: OnboardingDeps, agentId: string, reason: string): OnboardingSession {
  const env = deps.env ?? process.env;
  const probe = deps.probe ?? probeModel;
  let current: SetupView = providerView();
  let provider: ProviderChoice | undefined;
  let done = false;
  let busy = false;
  const show = (view: SetupView): SetupView => {
    current = view;
    return view;
  };

  function choices(): ProviderChoice[] {
    const local = deps.localModel?.();
    return [
      ...CLOUD,
      SERVER,
      ...(local ? [{ id: LOCAL_ID, label: `${local.label} — runs on this machine, no key` }] : []),
    ];
  }

  function providerView(error?: string): SetupView {
    const text =
      deps.context === 'command'
        ? `Setting up the model agent '${agentId}' answers with (${reason}). Pick a provider.`
        : `Before I can answer, I need a language model to think with (${reason}). ` +
          'Pick a provider; your message waits and is answered as soon as the model works.';
    return {
      step: 'provider',
      text,
      choices: choices().map(({ id, label }) => ({ id, label })),
      ...(error ? { error } : {}),
    };
  }

  function detailsView(
    choice: ProviderChoice,
    error?: string,
    keep?: Partial<Record<string, string>>,
  ): SetupView {
    const fields: SetupField[] = [];
    let text: string;
    if (choice.id === LOCAL_ID) {
      const local = deps.localModel?.();
      text = `${choice.label}. It runs inside the worker: slower and much less capable than a cloud model.`;
      fields.push({
        name: 'modelFile',
        label: 'GGUF model file',
        required: true,
        value: keep?.modelFile ?? local?.file ?? '',
      });
    } else if (choice.id === SERVER.id) {
      text = 'The URL of the server’s OpenAI-compatible API and the model it should run.';
      fields.push(
        {
          name: 'baseUrl',
          label: 'API URL',
          required: true,
          value: keep?.baseUrl ?? 'http://127.0.0.1:11434/v1',
        },
        {
          name: 'model',
          label: 'Model',
          required: true,
          placeholder: 'llama3.1:8b',
          ...(keep?.model ? { value: keep.model } : {}),
        },
        { name: 'apiKey', label: 'API key (if the server wants one)', required: false, secret: true },
      );
    } else {
      const fromEnv = choice.keyEnv && env[choice.keyEnv]?.trim();
      text =
        `${choice.label}: paste an API key (${choice.keyUrl}). It is kept in the secrets file, readable only by you, ` +
        'and never shown again.';
      fields.push(
        {
          name: 'apiKey',
          label: 'API key',
          required: !fromEnv,
          secret: true,
          ...(fromEnv ? { placeholder: `leave empty to use ${choice.keyEnv} from the environment` } : {}),
        },
        { name: 'model', label: 'Model', required: true, value: keep?.model ?? choice.model ?? '' },
        {
          name: 'baseUrl',
          label: 'Endpoint (optional: a proxy or gateway in front of the provider)',
          required: false,
          ...(keep?.baseUrl ? { value: keep.baseUrl } : {}),
        },
      );
    }
    return { step: 'details', provider: choice.id, text, fields, ...(error ? { error } : {}) };
  }

  async function submit(values: Partial<Record<SetupField['name'], string>>): Promise<SetupView> {
    if (!provider || current.step !== 'details' || done) return current;
    if (busy) return current;
    busy = true;
    try {
      const choice = provider;
      const v = Object.fromEntries(Object.entries(values).map(([k, x]) => [k, (x ?? '').trim()])) as Record<
        string,
        string
      >;
      const keep = { model: v.model ?? '', baseUrl: v.baseUrl ?? '', modelFile: v.modelFile ?? '' };
      const planned = plan(choice, v, env);
      if (typeof planned === 'string') return show(detailsView(choice, planned, keep));
      const config = deps.config();
      let models: ReturnType<typeof loadAgentModelsConfig>;
      try {
        models = loadAgentModelsConfig(
          {
            providers: { ...(config.models.providers as object | undefined), [planned.name]: planned.entry },
            agents: [{ id: agentId, model: planned.ref }],
          },
          { home: config.home },
        );
      } catch (error) {
        return show(detailsView(choice, (error as Error).message, keep));
      }
      const tested: ProbeResult = await probe(planned.ref, models, {
        env,
        ...(planned.key ? { apiKey: planned.key } : {}),
      });
      if (!tested.ok) {
        return show(detailsView(choice, `The test call failed: ${tested.error}`, keep));
      }
      try {
        save(config, planned);
      } catch (error) {
        const message =
          error instanceof ConfigError
            ? error.problems.map((p) => `${p.where}: ${p.key}: ${p.message}`).join('; ')
            : (error as Error).message;
        return show(detailsView(choice, `The configuration could not be written: ${message}`, keep));
      }
      done = true;
      const where = secretsFileOf(deps.config());
      return show({
        step: 'done',
        model: planned.ref,
        text:
          `Done: ${planned.ref} answered the test call${tested.text ? ` (“${clip(tested.text)}”)` : ''}. ` +
          `switchyard.yaml now names it${planned.key ? `, and the key is in ${where ?? 'the secrets file'} (readable only by you)` : ''}. ` +
          (deps.context === 'command'
            ? 'A running worker and gateway use it from now on, no restart needed.'
            : 'Your message is on its way.'),
      });
    } finally {
      busy = false;
    }
  }

  /** Writes the key (if one was typed), then the provider and the agent's model. */
  function save(config: Config, planned: Planned): void {
    if (planned.key) {
      const file = secretsFileOf(config) ?? `${config.home}/secrets.json`;
      writeSecret(file, planned.name, planned.key);
    }
    editConfigFile(config.home, (doc) => {
      doc.setIn(['providers', planned.name], doc.createNode(planned.entry));
      setAgentModel(doc, agentId, planned.ref);
    });
  }

  return {
    view: () => current,
    choose(id) {
      if (done) return current;
      const choice = choices().find((c) => c.id === id);
      if (!choice) return show(providerView(`'${id}' is not one of the choices`));
      provider = choice;
      return show(detailsView(choice));
    },
    submit,
    back() {
      if (done) return current;
      provider = undefined;
      return show(providerView());
    },
    get done() {
      return done;
    },
  };
}

interface Planned {
  /** Provider name under providers: */
  name: string;
  entry: ProviderConfig & { type?: string; model?: string };
  ref: string;
  /** The key as typed (written to the secrets file), if any. */
  key?: string;
}

/** What the answers mean for the config, or what is wrong with them. */
function plan(choice: ProviderChoice, v: Record<string, string>, env: NodeJS.ProcessEnv): Planned | string {
  if (choice.id === LOCAL_ID) {
    if (!v.modelFile) return 'Give the path of the GGUF model file.';
    const id = basename(v.modelFile)
      .replace(/\.gguf$/i, '')
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-');
    return {
      name: LOCAL_ID,
      entry: { type: 'llama-cpp', model: v.modelFile } as never,
      ref: `${LOCAL_ID}/${id}`,
    };
  }
  if (v.baseUrl && !/^https?:\/\/[^\s/]+/.test(v.baseUrl)) return `“${v.baseUrl}” is not an http(s) URL.`;
  if (!v.model) return 'Name the model.';
  if (v.apiKey && /\s/.test(v.apiKey)) return 'The key has spaces in it; paste it again, just the key.';
  if (choice.id === SERVER.id) {
    if (!v.baseUrl) return 'Give the server’s API URL, e.g. http://127.0.0.1:11434/v1.';
    const name = serverName(v.baseUrl);
    const entry: ProviderConfig = {
      type: 'openai-compatible',
      baseUrl: v.baseUrl,
      apiKey: v.apiKey ? { secret: name } : 'none',
      models: [{ id: v.model }],
    };
    return { name, entry, ref: `${name}/${v.model}`, ...(v.apiKey ? { key: v.apiKey } : {}) };
  }
  if (!v.apiKey && !(choice.keyEnv && env[choice.keyEnv]?.trim())) return 'Paste the API key.';
  const entry: ProviderConfig = {
    ...(v.apiKey ? { apiKey: { secret: choice.id } } : {}),
    ...(v.baseUrl ? { baseUrl: v.baseUrl } : {}),
  };
  return { name: choice.id, entry, ref: `${choice.id}/${v.model}`, ...(v.apiKey ? { key: v.apiKey } : {}) };
}

/** A provider name people recognise: ollama and lmstudio by their usual ports. */
function serverName(url: string): string {
  if (/:11434(\/|$)/.test(url)) return 'ollama';
  if (/:1234(\/|$)/.test(url)) return 'lmstudio';
  return 'server';
}

/** Sets the agent's model (its primary, when the model is written out as a mapping), adding the agent if needed. */
function setAgentModel(doc: Document, agentId: string, ref: string): void {
  const agents = doc.get('agents', true) as { items?: unknown[] } | undefined;
  const list = (doc.toJS() as { agents?: Array<{ id?: string; model?: unknown }> }).agents;
  if (!agents || !Array.isArray(list)) {
    doc.set('agents', doc.createNode([{ id: agentId, model: ref }]));
    return;
  }
  const index = list.findIndex((a) => a?.id?.toLowerCase() === agentId.toLowerCase());
  if (index < 0) {
    doc.addIn(['agents'], doc.createNode({ id: agentId, model: ref }));
    return;
  }
  const model = list[index]?.model;
  if (model && typeof model === 'object') doc.setIn(['agents', index, 'model', 'primary'], ref);
  else doc.setIn(['agents', index, 'model'], ref);
}

function clip(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}
