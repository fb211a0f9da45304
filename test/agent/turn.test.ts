import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type FauxProviderRegistration,
  fauxAssistantMessage,
  fauxToolCall,
  type Message,
  registerFauxProvider,
} from '@mariozechner/pi-ai';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type AgentActivities,
  type AgentDelta,
  type AgentModelsConfig,
  type AgentToolDefinition,
  loadAgentModelsConfig,
} from '../../activities/agent/index.js';
import type { AgentTurnResult, AgentTurnWorkflowInput } from '../../workflows/agent/index.js';
import { uniqueTaskQueue } from '../helpers/config.js';
import {
  type AgentWorker,
  bundleAgentWorkflows,
  connectClient,
  scheduledByType,
  startAgentWorker,
} from './harness.js';

const address = inject('temporalAddress');

describe('agent turn with the pi-ai faux provider on a real Temporal server', () => {
  let bundle: WorkflowBundle;
  let client: Client;
  let faux: FauxProviderRegistration;
  let home: string;
  let config: AgentModelsConfig;
  const seen: { systemPrompts: string[]; toolResults: Message[][] } = { systemPrompts: [], toolResults: [] };

  beforeAll(async () => {
    [bundle, client] = await Promise.all([bundleAgentWorkflows(), connectClient(address)]);
    faux = registerFauxProvider({ provider: 'faux' });
    home = mkdtempSync(join(tmpdir(), 'switchyard-agent-'));
    mkdirSync(join(home, 'agents', 'main'), { recursive: true });
    writeFileSync(join(home, 'agents', 'main', 'SOUL.md'), 'You are Ferris, a careful crab.');
    writeFileSync(join(home, 'agents', 'main', 'USER.md'), 'The user is called Ada.');
    config = loadAgentModelsConfig(
      {
        providers: {
          faux: {
            type: 'openai-compatible',
            api: faux.api,
            baseUrl: 'http://127.0.0.1:9',
            apiKey: 'none',
            models: [{ id: 'faux-1', contextWindow: 8000, cost: { input: 1000, output: 2000 } }],
          },
        },
        agents: [{ id: 'main', model: { primary: 'faux/faux-1', contextReserve: 2000 } }],
      },
      { home },
    );
  });
  afterAll(() => faux?.unregister());

  function sumAndNoteTools(noteFile: string): AgentToolDefinition[] {
    return [
      {
        name: 'add',
        description: 'Adds two numbers.',
        parameters: {
          type: 'object',
          properties: { a: { type: 'number' }, b: { type: 'number' } },
          required: ['a', 'b'],
        },
        async execute(args) {
          return String((args.a as number) + (args.b as number));
        },
      },
      {
        name: 'save_note',
        description: 'Appends a note to the notebook.',
        parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        async execute(args) {
          appendFileSync(noteFile, `${args.text}\n`);
          return 'saved';
        },
      },
    ];
  }

  /** The model: first asks for both tools, then answers from their results. */
  function twoToolScript() {
    faux.setResponses([
      fauxAssistantMessage(
        [fauxToolCall('add', { a: 2, b: 3 }), fauxToolCall('save_note', { text: 'buy kelp' })],
        {
          stopReason: 'toolUse',
        },
      ),
      (context) => {
        seen.systemPrompts.push(context.systemPrompt ?? '');
        const results = context.messages.filter((m) => m.role === 'toolResult');
        seen.toolResults.push(results);
        const sum = results.find((r) => r.role === 'toolResult' && r.toolName === 'add');
        const text =
          sum?.role === 'toolResult' && sum.content[0]?.type === 'text' ? sum.content[0].text : '?';
        return fauxAssistantMessage(`2 + 3 = ${text}, and your note is saved.`);
      },
    ]);
  }

  it('answers a turn with two tool calls: one activity per model call and per tool call, arguments intact', async () => {
    const taskQueue = uniqueTaskQueue('agent-faux');
    const noteFile = join(home, `notes-${taskQueue}.txt`);
    const deltas: AgentDelta[] = [];
    const worker = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: { config, tools: sumAndNoteTools(noteFile), onDelta: (_key, d) => void deltas.push(d) },
    });
    try {
      twoToolScript();
      const handle = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `agent-faux-${taskQueue}`,
        args: [{ args: { prompt: 'What is 2 + 3? Also note: buy kelp.' } } satisfies AgentTurnWorkflowInput],
      });
      const result = (await handle.result()) as AgentTurnResult;

      expect(result.text).toBe('2 + 3 = 5, and your note is saved.');
      expect(result.model).toBe('faux/faux-1');
      // Tool arguments survived validation in the sandbox (the structuredClone shim): no error results.
      const toolResults = seen.toolResults.at(-1)!;
      expect(toolResults.map((r) => r.role === 'toolResult' && [r.toolName, r.isError])).toEqual([
        ['add', false],
        ['save_note', false],
      ]);
      expect(readFileSync(noteFile, 'utf8')).toBe('buy kelp\n');
      // The workspace files became the system prompt.
      expect(seen.systemPrompts.at(-1)).toContain('You are Ferris, a careful crab.');
      expect(seen.systemPrompts.at(-1)).toContain('The user is called Ada.');

      const events = (await handle.fetchHistory()).events ?? [];
      // Preparing the turn is a local activity (a marker); model and tool calls are activities.
      expect(scheduledByType(events, { local: true })).toEqual({
        agentPrepareTurn: 1,
        agentModelCall: 2,
        agentToolCall: 2,
      });
      expect(scheduledByType(events).agentPrepareTurn).toBeUndefined();

      // Messages: user, assistant (tool calls), two tool results, final assistant.
      expect(result.messages.map((m) => m.role)).toEqual([
        'user',
        'assistant',
        'toolResult',
        'toolResult',
        'assistant',
      ]);
      expect(result.transcript).toEqual(result.messages);
      expect(result.usage).toMatchObject({ modelCalls: 2, toolCalls: 2 });
      expect(result.usage.input).toBeGreaterThan(0);
      expect(result.usage.cost).toBeGreaterThan(0);
      const memo = (await handle.describe()).memo as { agentUsage?: { modelCalls: number; cost: number } };
      expect(memo.agentUsage).toMatchObject({ modelCalls: 2, toolCalls: 2, cost: result.usage.cost });
      // Deltas of the final answer were pushed out of band.
      expect(
        deltas
          .filter((d) => d.type === 'text')
          .map((d) => (d.type === 'text' ? d.delta : ''))
          .join(''),
      ).toBe(result.text);
    } finally {
      await worker.shutdown();
    }
  });

  it('runs a side-effecting tool exactly once when the worker stops after it and a new worker finishes the turn', async () => {
    const taskQueue = uniqueTaskQueue('agent-restart');
    const sideEffects = join(home, `effects-${taskQueue}.txt`);
    const modelCallsBy: string[] = [];
    let first: AgentWorker | undefined;
    const record = (name: string) => (base: AgentActivities) => ({
      ...base,
      agentModelCall: (input: Parameters<typeof base.agentModelCall>[0]) => {
        modelCallsBy.push(name);
        return base.agentModelCall(input);
      },
    });
    const appendOnce: AgentToolDefinition = {
      name: 'append_line',
      description: 'Appends a line to a file.',
      parameters: { type: 'object', properties: { line: { type: 'string' } }, required: ['line'] },
      async execute(args) {
        appendFileSync(sideEffects, `${args.line}\n`);
        // The "crash": this worker stops right after the side effect, before the next model call.
        first?.worker.shutdown();
        return 'appended';
      },
    };
    faux.setResponses([
      fauxAssistantMessage([fauxToolCall('append_line', { line: 'exactly once' })], {
        stopReason: 'toolUse',
      }),
      fauxAssistantMessage('Done: the line is in the file.'),
    ]);
    first = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: { config, tools: [appendOnce] },
      activities: record('first'),
    });
    const handle = await client.workflow.start('agentTurnWorkflow', {
      taskQueue,
      workflowId: `agent-restart-${taskQueue}`,
      args: [{ args: { prompt: 'Append the line.' } } satisfies AgentTurnWorkflowInput],
    });
    await first.done;
    const second = await startAgentWorker({
      address,
      taskQueue,
      bundle,
      deps: { config, tools: [appendOnce] },
      activities: record('second'),
    });
    try {
      const result = (await handle.result()) as AgentTurnResult;
      expect(result.text).toBe('Done: the line is in the file.');
      expect(readFileSync(sideEffects, 'utf8')).toBe('exactly once\n');
      expect(modelCallsBy).toEqual(['first', 'second']);
      const events = (await handle.fetchHistory()).events ?? [];
      expect(scheduledByType(events, { local: true })).toEqual({
        agentPrepareTurn: 1,
        agentModelCall: 2,
        agentToolCall: 1,
      });
    } finally {
      await second.shutdown();
    }
  });

  it('compacts a transcript that would overflow the window and returns the new summary', async () => {
    const taskQueue = uniqueTaskQueue('agent-compact');
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps: { config } });
    try {
      const transcript: Message[] = [];
      for (let i = 0; i < 30; i++) {
        transcript.push({ role: 'user', content: `Fact ${i}: ${'x'.repeat(800)}`, timestamp: i });
        transcript.push(fauxAssistantMessage(`Noted fact ${i}.`));
      }
      let summaryPrompt = '';
      faux.setResponses([
        (context) => {
          summaryPrompt = JSON.stringify(context.messages);
          return fauxAssistantMessage('Summary: the user listed facts 0 to 20.');
        },
        (context) =>
          fauxAssistantMessage(context.systemPrompt?.includes('facts 0 to 20') ? 'I remember.' : 'Lost.'),
      ]);
      const handle = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `agent-compact-${taskQueue}`,
        args: [{ args: { prompt: 'What do you remember?', transcript, summary: 'Earlier: hello.' } }],
      });
      const result = (await handle.result()) as AgentTurnResult;
      expect(result.compacted).toBe(true);
      expect(result.summary).toBe('Summary: the user listed facts 0 to 20.');
      expect(result.text).toBe('I remember.');
      expect(summaryPrompt).toContain('Earlier: hello.');
      expect(summaryPrompt).toContain('Fact 0:');
      expect(result.transcript.length).toBeLessThan(transcript.length);
      expect(result.transcript[0]?.role).toBe('user');
      expect(result.usage.modelCalls).toBe(2);
    } finally {
      await worker.shutdown();
    }
  });
  it('keeps a turn inside the window when tool results outgrow it mid-turn: older results are left out, the newest cut', async () => {
    const taskQueue = uniqueTaskQueue('agent-midturn');
    // Each page is ~7.5k tokens: two of them cannot both be sent to an 8k-token window.
    const page: AgentToolDefinition = {
      name: 'read_page',
      description: 'Reads a long page.',
      parameters: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
      async execute(args) {
        return `page ${args.n}: ${'lorem ipsum '.repeat(2500)}`;
      },
    };
    const worker = await startAgentWorker({ address, taskQueue, bundle, deps: { config, tools: [page] } });
    const sent: Array<{ tokens: number; results: string[] }> = [];
    const record = (context: { systemPrompt?: string; messages: Message[] }) => {
      const results = context.messages
        .filter((m) => m.role === 'toolResult')
        .map((m) => (m.role === 'toolResult' && m.content[0]?.type === 'text' ? m.content[0].text : ''));
      // Characters of everything the model reads, at the cautious 4 characters per token.
      const chars = (context.systemPrompt ?? '').length + results.join('').length;
      sent.push({ tokens: Math.ceil(chars / 4), results });
    };
    try {
      faux.setResponses([
        fauxAssistantMessage([fauxToolCall('read_page', { n: 1 })], { stopReason: 'toolUse' }),
        (context) => {
          record(context);
          return fauxAssistantMessage([fauxToolCall('read_page', { n: 2 })], { stopReason: 'toolUse' });
        },
        (context) => {
          record(context);
          return fauxAssistantMessage('Both pages read.');
        },
      ]);
      const handle = await client.workflow.start('agentTurnWorkflow', {
        taskQueue,
        workflowId: `agent-midturn-${taskQueue}`,
        args: [{ args: { prompt: 'Read pages 1 and 2.' } } satisfies AgentTurnWorkflowInput],
      });
      const result = (await handle.result()) as AgentTurnResult;
      expect(result.text).toBe('Both pages read.');
      // Second call: page 1 alone does not fit 8k − 2k reserve either, so it is cut, not dropped.
      expect(sent[0]!.results[0]).toMatch(/^page 1: lorem ipsum/);
      expect(sent[0]!.results[0]).toMatch(/more characters left out to fit the model's context window\]$/);
      // Third call: page 1 was already read, so it is left out; page 2 is cut to what fits.
      expect(sent[1]!.results[0]).toMatch(/^\[The result of read_page \(\d+ characters\) was read earlier/);
      expect(sent[1]!.results[1]).toMatch(/^page 2: lorem ipsum/);
      // Window 8,000 − reserve 2,000.
      for (const call of sent) expect(call.tokens).toBeLessThanOrEqual(6000);
      // The turn's own record keeps the full results.
      const kept = result.messages.filter((m) => m.role === 'toolResult');
      expect(
        kept.map((m) =>
          m.role === 'toolResult' && m.content[0]?.type === 'text' ? m.content[0].text.length : 0,
        ),
      ).toEqual([
        'page 1: '.length + 'lorem ipsum '.length * 2500,
        'page 2: '.length + 'lorem ipsum '.length * 2500,
      ]);
    } finally {
      await worker.shutdown();
    }
  });

  // Real histories recorded from agentTurnWorkflow runs (faux provider: two parallel tools; a 401
  // then the fallback model). A change to workflows/agent that would break a turn in flight fails here.
  it('replays the recorded agent turn histories without a determinism error', async () => {
    const dir = join(import.meta.dirname, 'histories');
    const files = readdirSync(dir).filter((f) => f.startsWith('agent-') && f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const histories = files.map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
    }));
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      expect(result.error, `${result.workflowId}: ${result.error?.message}`).toBeUndefined();
    }
  });
});
