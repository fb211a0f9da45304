// Provider embeddings through the providers' own SDKs, against local servers speaking their wire
// protocol (OpenAI's POST /v1/embeddings, Gemini's batchEmbedContents): notes are indexed and
// searched with the provider's vectors, and an unreachable provider or a refused key fails with
// an error that says what to fix.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryConfig } from '../../config/config.js';
import { MemoryError } from '../../memory/errors.js';
import { createMemoryService } from '../../memory/service.js';
import { memoryConfig, writeWorkspace } from './fixtures.js';

/** A toy embedding: counts of a few topic words, so related texts point the same way. */
const TOPICS = ['daughter', 'invoice', 'dentist', 'recycling', 'phoenix', 'boiler', 'running', 'metric'];
function toy(text: string): number[] {
  const t = text.toLowerCase();
  return TOPICS.map((w) => (t.includes(w) ? 1 : 0.01));
}

interface Seen {
  path: string;
  auth?: string;
  body: Record<string, unknown>;
}

async function startProvider(status = 200): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    seen.push({
      path: req.url ?? '',
      auth: req.headers.authorization ?? String(req.headers['x-goog-api-key'] ?? ''),
      body,
    });
    res.setHeader('content-type', 'application/json');
    if (status !== 200) {
      res.writeHead(status).end(JSON.stringify({ error: { message: 'invalid api key', code: status } }));
      return;
    }
    if ((req.url ?? '').includes('/embeddings')) {
      const input = body.input as string[];
      res.end(
        JSON.stringify({
          object: 'list',
          model: body.model,
          data: input.map((text, index) => ({ object: 'embedding', index, embedding: toy(text) })),
          usage: { prompt_tokens: 1, total_tokens: 1 },
        }),
      );
    } else if ((req.url ?? '').includes(':batchEmbedContents')) {
      const requests = body.requests as Array<{ content: { parts: Array<{ text: string }> } }>;
      res.end(
        JSON.stringify({ embeddings: requests.map((r) => ({ values: toy(r.content.parts[0]!.text) })) }),
      );
    } else {
      res.writeHead(404).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function serviceFor(embedding: MemoryConfig['embedding'], env: NodeJS.ProcessEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-provider-emb-'));
  const workspace = join(home, 'ws');
  writeWorkspace(workspace);
  return createMemoryService(memoryConfig(home, { embedding }), {
    workspaceOf: () => workspace,
    secrets: { env },
  });
}

describe('provider embeddings at the wire', () => {
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let refusing: Awaited<ReturnType<typeof startProvider>>;
  beforeAll(async () => {
    provider = await startProvider();
    refusing = await startProvider(401);
  });
  afterAll(() => {
    provider.server.close();
    refusing.server.close();
  });

  it('indexes and searches with OpenAI embeddings (the key from OPENAI_API_KEY)', async () => {
    const service = serviceFor(
      { provider: 'openai', baseUrl: `${provider.url}/v1` },
      { OPENAI_API_KEY: 'sk-test' },
    );
    const memory = service.agent('main');
    const hit = (await memory.search('the dentist appointment')).hits[0];
    expect(hit).toMatchObject({ path: 'memory/2026-03-04.md' });
    const calls = provider.seen.filter((s) => s.path === '/v1/embeddings');
    expect(calls[0]).toMatchObject({ auth: 'Bearer sk-test', body: { model: 'text-embedding-3-small' } });
    expect((await memory.status()).model).toBe('openai:text-embedding-3-small');
    await service.close();
  });

  it('indexes and searches with Gemini embeddings', async () => {
    const service = serviceFor({ provider: 'gemini', baseUrl: provider.url, apiKey: 'g-key' });
    const hit = (await service.agent('main').search('Phoenix launch')).hits[0];
    expect(hit).toMatchObject({ path: 'memory/2026-03-02.md' });
    expect(provider.seen.some((s) => s.path.includes('gemini-embedding-001:batchEmbedContents'))).toBe(true);
    await service.close();
  });

  it('re-indexes every note when the embedding model changes, never mixing the two models', async () => {
    const home = mkdtempSync(join(tmpdir(), 'switchyard-model-change-'));
    const workspace = join(home, 'ws');
    writeWorkspace(workspace);
    const open = (embedding: MemoryConfig['embedding']) =>
      createMemoryService(memoryConfig(home, { embedding }), {
        workspaceOf: () => workspace,
        secrets: { env: { OPENAI_API_KEY: 'sk-test' } },
      });
    const first = open({ provider: 'openai', baseUrl: `${provider.url}/v1` });
    expect((await first.agent('main').sync()).indexed).toHaveLength(4);
    await first.close();
    const second = open({ provider: 'gemini', baseUrl: provider.url, apiKey: 'g-key', dimensions: 8 });
    const report = await second.agent('main').sync();
    expect(report).toMatchObject({ rebuilt: true });
    expect(report.indexed).toHaveLength(4);
    expect(await second.agent('main').status()).toMatchObject({
      model: 'gemini:gemini-embedding-001@8',
      chunks: 5,
    });
    await second.close();
  });

  it('names the server to start or the setting to fix when the provider is unreachable', async () => {
    const service = serviceFor({ provider: 'ollama', baseUrl: 'http://127.0.0.1:9/v1' });
    const error = await service
      .agent('main')
      .search('dentist')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryError);
    expect(error).toMatchObject({ kind: 'embedding-unavailable' });
    expect((error as Error).message).toMatch(
      /ollama embeddings \(nomic-embed-text at http:\/\/127\.0\.0\.1:9\/v1\) is not reachable.*memory\.embedding\.baseUrl/,
    );
    await service.close();
  });

  it('says which key was refused, and does not retry a refused key', async () => {
    const service = serviceFor(
      { provider: 'openai', baseUrl: `${refusing.url}/v1` },
      { OPENAI_API_KEY: 'sk-bad' },
    );
    const error = await service
      .agent('main')
      .search('dentist')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'config' });
    expect((error as Error).message).toMatch(/refused the API key \(401\): check OPENAI_API_KEY/);
    await service.close();
  });

  it('refuses a missing key before calling anyone', async () => {
    const service = serviceFor({ provider: 'openai', baseUrl: `${provider.url}/v1` }, {});
    const error = await service
      .agent('main')
      .search('dentist')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'config' });
    expect((error as Error).message).toMatch(/OPENAI_API_KEY is not set/);
    await service.close();
  });
});
