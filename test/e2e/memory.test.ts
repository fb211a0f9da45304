// Memory across conversations, channels and a worker restart. Real processes: `switchyard worker`
// is spawned (its production memory: the embedded store and the local embedding model) and
// restarted between the conversations; the gateway runs in this process; the model is a local
// server speaking OpenAI's streaming protocol, with tool calls. Conversation A (the
// OpenAI-compatible API) states a fact and the model stores it with memory_append; conversation
// B (a webhook, another channel) asks for it: the default pipeline's recall puts the fact into
// the model's request, and the model's memory_search finds it too.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { wireModelYaml } from '../../bench/fake-model.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { startWireServer, type WireReply, type WireServer } from '../agent/wire-servers.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';

const TOKEN = 'memory-e2e-token-0123456789abcdef';
const FACT = 'Ada’s daughter is called Ana.';
const QUESTION = 'What is my daughter called?';

interface ChatRequest {
  messages: Array<{ role: string; content?: unknown; tool_calls?: Array<{ function: { name: string } }> }>;
  tools?: Array<{ function: { name: string } }>;
}

const text = (m: { content?: unknown }) =>
  typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');

/** The model: stores the fact when told it, searches memory when asked, then answers. */
function answer(body: ChatRequest): WireReply {
  const user = body.messages
    .filter((m) => m.role === 'user')
    .map(text)
    .join('\n');
  const tools = body.messages.filter((m) => m.role === 'tool');
  if (user.includes('Remember this')) {
    if (tools.length === 0) {
      return {
        toolCalls: [
          { id: 'call_remember', name: 'memory_append', arguments: { text: FACT, target: 'long-term' } },
        ],
      };
    }
    return { text: 'Noted: your daughter is Ana.' };
  }
  if (tools.length === 0) {
    return {
      toolCalls: [{ id: 'call_search', name: 'memory_search', arguments: { query: 'daughter name' } }],
    };
  }
  return { text: text(tools[0]!).includes('Ana') ? 'Your daughter is called Ana.' : 'I do not know.' };
}

describe('memory across conversations, channels and a worker restart', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('memory-e2e');
  const workers: Spawned[] = [];
  let model: WireServer;
  let gateway: Gateway;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let home: string;

  beforeAll(async () => {
    model = await startWireServer('openai', (request) => answer(request.body as unknown as ChatRequest));
    home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-memory-'));
    writeFileSync(join(home, 'switchyard.yaml'), wireModelYaml(model.url));
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: taskQueue,
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
      SWITCHYARD_GATEWAY_PORT: String(port),
    };
    gateway = await buildGateway({
      config: loadConfig({ home, env }),
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await gateway?.close();
    await model?.close();
  });

  const startWorker = async () => {
    const worker = spawnSwitchyard(['worker'], env);
    workers.push(worker);
    await worker.waitFor(/worker ready/);
    return worker;
  };
  const requests = () => model.requests.map((r) => r.body as unknown as ChatRequest);

  it('stores a fact in conversation A, and after a restart conversation B on another channel recalls it', async () => {
    const first = await startWorker();
    const a = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'main',
        user: 'ada',
        messages: [{ role: 'user', content: `Remember this: my daughter is called Ana.` }],
      }),
    });
    expect(a.status).toBe(200);
    const aBody = (await a.json()) as { choices: Array<{ message: { content: string } }> };
    expect(aBody.choices[0]!.message.content).toBe('Noted: your daughter is Ana.');
    // The fact is in the workspace's MEMORY.md, once.
    const notes = readFileSync(join(home, 'agents', 'main', 'MEMORY.md'), 'utf8');
    expect(notes.split(FACT).length - 1).toBe(1);
    expect(requests()[0]!.tools?.map((t) => t.function.name)).toEqual(
      expect.arrayContaining(['memory_search', 'memory_get', 'memory_append']),
    );

    await first.kill('SIGTERM');
    await first.exited;
    await startWorker();
    const before = model.requests.length;

    const hook = await fetch(`${base}/hooks/agent`, {
      method: 'POST',
      headers: { 'x-openclaw-token': TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ message: QUESTION }),
    });
    expect(hook.status).toBe(202);
    const { runId } = (await hook.json()) as { runId: string };
    const run = async () =>
      fetch(`${base}/hooks/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await expect.poll(async () => (await run()).status, { timeout: 90_000, interval: 500 }).toBe(200);
    expect(await (await run()).json()).toMatchObject({ text: 'Your daughter is called Ana.' });

    const [recalled, searched] = requests().slice(before);
    // The pipeline's recall put the fact into the model's context, with the question.
    const prompt = recalled!.messages
      .filter((m) => m.role === 'user')
      .map(text)
      .join('\n');
    expect(prompt).toContain(QUESTION);
    expect(prompt).toMatch(/\[Things you remember\][\s\S]*daughter is called Ana/);
    // The model's memory_search found it as well: path, line range, score, snippet.
    const tool = searched!.messages.find((m) => m.role === 'tool')!;
    const result = JSON.parse(text(tool).startsWith('"') ? JSON.parse(text(tool)) : text(tool)) as {
      results: Array<{ path: string; startLine: number; endLine: number; score: number; snippet: string }>;
    };
    expect(result.results[0]).toMatchObject({ path: 'MEMORY.md', snippet: expect.stringContaining('Ana') });
    expect(result.results[0]!.score).toBeGreaterThan(0);
    expect(result.results[0]!.endLine).toBeGreaterThanOrEqual(result.results[0]!.startLine);
  }, 240_000);
});
