import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fauxAssistantMessage } from '@mariozechner/pi-ai';
import { describe, expect, it } from 'vitest';
import { AgentConfigError, loadAgentModelsConfig } from '../../activities/agent/config.js';
import { classifyProviderError } from '../../activities/agent/errors.js';
import { localModelSpec, resolveApiKey, resolveModel } from '../../activities/agent/models.js';

const home = '/srv/switchyard';

describe('providers and per-agent models config', () => {
  it('accepts the documented example and fills defaults', () => {
    const config = loadAgentModelsConfig(
      {
        providers: {
          anthropic: {},
          ollama: {
            baseUrl: 'http://127.0.0.1:11434/v1',
            models: [{ id: 'llama3.1:8b', contextWindow: 131072, maxTokens: 4096 }],
          },
          openrouter: { apiKey: { secret: 'openrouter' } },
        },
        secretsFile: 'secrets.json',
        agents: [
          {
            id: 'main',
            model: {
              primary: 'anthropic/claude-sonnet-4-5',
              fallbacks: ['openai/gpt-4.1', 'ollama/llama3.1:8b'],
              thinking: 'low',
              maxTokens: 4096,
              temperature: 0.3,
            },
          },
          { id: 'quick', workspace: '/data/quick', model: 'ollama/llama3.1:8b' },
        ],
      },
      { home },
    );
    expect(config.secretsFile).toBe('/srv/switchyard/secrets.json');
    expect(config.agents).toEqual([
      {
        id: 'main',
        workspace: '/srv/switchyard/agents/main',
        model: {
          primary: 'anthropic/claude-sonnet-4-5',
          fallbacks: ['openai/gpt-4.1', 'ollama/llama3.1:8b'],
          thinking: 'low',
          maxTokens: 4096,
          temperature: 0.3,
        },
      },
      {
        id: 'quick',
        workspace: '/data/quick',
        model: { primary: 'ollama/llama3.1:8b', fallbacks: [], thinking: 'off' },
      },
    ]);
    expect(resolveModel('anthropic/claude-sonnet-4-5', config)).toMatchObject({
      api: 'anthropic-messages',
      contextWindow: 200000,
    });
    expect(resolveModel('openai/gpt-4.1', config)).toMatchObject({
      api: 'openai-responses',
      provider: 'openai',
    });
    expect(resolveModel('ollama/llama3.1:8b', config)).toMatchObject({
      api: 'openai-completions',
      provider: 'ollama',
      baseUrl: 'http://127.0.0.1:11434/v1',
      contextWindow: 131072,
    });
  });

  it('names the bad key and the unknown provider', () => {
    expect(() =>
      loadAgentModelsConfig(
        {
          providers: { ollama: { baseUrl: 'not a url', colour: 'red' } },
          agents: [{ id: 'main', model: { primary: 'nowhere/x', thinking: 'extreme' } }],
        },
        { home },
      ),
    ).toThrow(AgentConfigError);
    expect(() => loadAgentModelsConfig({ agents: [{ id: 'main', model: 'nowhere/x' }] }, { home })).toThrow(
      "'nowhere/x' names provider 'nowhere'",
    );
    expect(() => loadAgentModelsConfig({ providers: { ollama: { colour: 'red' } } }, { home })).toThrow(
      "providers.ollama: unknown key 'colour'",
    );
  });

  it('a llama-cpp provider names a GGUF file, relative to the data directory; no key, its own window', () => {
    expect(() => loadAgentModelsConfig({ providers: { local: { type: 'llama-cpp' } } }, { home })).toThrow(
      "providers.local: must have required property 'model'",
    );
    const config = loadAgentModelsConfig(
      {
        providers: { local: { type: 'llama-cpp', model: 'models/tiny.gguf', contextSize: 2048, threads: 1 } },
        agents: [{ id: 'main', model: 'local/tiny' }],
      },
      { home },
    );
    expect(config.providers.local!.model).toBe('/srv/switchyard/models/tiny.gguf');
    expect(resolveModel('local/tiny', config)).toMatchObject({
      api: 'llama-cpp',
      provider: 'local',
      baseUrl: '/srv/switchyard/models/tiny.gguf',
      contextWindow: 2048,
      maxTokens: 1024,
      input: ['text'],
    });
    expect(resolveApiKey('local/tiny', config, { env: {} })).toBe('none');
    expect(localModelSpec('local/tiny', config)).toEqual({
      file: '/srv/switchyard/models/tiny.gguf',
      contextSize: 2048,
      threads: 1,
    });
  });

  it('reads API keys from the environment or the secrets file, at call time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-secrets-'));
    const config = loadAgentModelsConfig(
      {
        providers: {
          openrouter: { apiKey: { secret: 'or' } },
          local: { baseUrl: 'http://127.0.0.1:8080/v1' },
        },
      },
      { home: dir },
    );
    config.secretsFile = join(dir, 'secrets.json');
    writeFileSync(config.secretsFile, JSON.stringify({ or: 'sk-or-1' }));
    expect(resolveApiKey('openrouter/x', config, { env: {} })).toBe('sk-or-1');
    writeFileSync(config.secretsFile, JSON.stringify({ or: 'sk-or-2' }));
    expect(resolveApiKey('openrouter/x', config, { env: {} })).toBe('sk-or-2');
    expect(resolveApiKey('anthropic/x', config, { env: { ANTHROPIC_API_KEY: 'sk-ant' } })).toBe('sk-ant');
    expect(resolveApiKey('local/qwen', config, { env: {} })).toBe('none');
    expect(() => resolveApiKey('openai/gpt-4.1', config, { env: {} })).toThrow(/OPENAI_API_KEY is not set/);
  });
});

describe('provider error classification', () => {
  const failed = (errorMessage: string) => fauxAssistantMessage([], { stopReason: 'error', errorMessage });
  it.each([
    ['429 Rate limit reached', true, 'ModelCallRetryable'],
    ['500 internal boom', true, 'ModelCallRetryable'],
    ['529 {"type":"error","error":{"type":"overloaded_error"}}', true, 'ModelCallRetryable'],
    ['Request timed out.', true, 'ModelCallRetryable'],
    ['Connection error.', true, 'ModelCallRetryable'],
    ['401 Incorrect API key provided', false, 'ModelAuthError'],
    ['403 forbidden', false, 'ModelAuthError'],
    ['400 invalid tool schema', false, 'ModelRequestInvalid'],
    ['400 prompt is too long: 210000 tokens > 200000 maximum', false, 'ModelContextOverflow'],
    ["This model's maximum context length is 8192 tokens", false, 'ModelContextOverflow'],
  ])('%s → retryable %s (%s)', (message, retryable, type) => {
    expect(classifyProviderError(failed(message))).toMatchObject({ retryable, type });
  });
});
