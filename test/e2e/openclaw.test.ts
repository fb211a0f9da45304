// OpenClaw's protocol carrying a real conversation: chat.send and agent over the WebSocket become
// turns of session workflows on the real dev server (faux model), streamed back as chat events;
// every frame the gateway sends is checked against @openclaw/gateway-protocol.
import { fauxAssistantMessage, fauxToolCall } from '@mariozechner/pi-ai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentToolDefinition } from '../../activities/agent/index.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { type ConversationStack, startConversationStack } from '../helpers/conversation-stack.js';
import { connectParams, RawClient, TOKEN } from '../protocol/harness.js';

/** A tool the faux model calls in the tool-stream test. */
const tideTool: AgentToolDefinition = {
  name: 'tide_table',
  description: 'Tells when the tide is high.',
  parameters: { type: 'object', properties: {} },
  execute: async () => 'high tide at 14:02',
};

describe('OpenClaw clients converse through session workflows', () => {
  const address = inject('temporalAddress');
  const sessionKey = `agent:main:openclaw-e2e-${Date.now()}`;
  const mainKey = `hooks-${Date.now()}`;
  let base: string;
  let stack: ConversationStack;
  let wsUrl: string;

  beforeAll(async () => {
    // A main session of its own (hooks/wake talks to the main session).
    const config = testConfig(
      address,
      { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('oc') },
      `session:\n  mainKey: ${mainKey}\n`,
    );
    stack = await startConversationStack(
      config,
      TOKEN,
      (prompt) => `Switchyard heard "${prompt}" and answers at some length, in pieces.`,
      { tools: [tideTool] },
    );
    base = stack.base;
    wsUrl = base.replace(/^http/, 'ws');
  });
  afterAll(async () => stack?.close());

  async function connected(scopes?: string[]): Promise<RawClient> {
    const client = await RawClient.open(wsUrl);
    await client.challenge();
    const hello = await client.request('c', 'connect', connectParams(scopes ? { scopes } : {}));
    expect(hello.ok).toBe(true);
    return client;
  }

  it('chat.send acks once, streams chat deltas, ends with the final answer, and chat.history has the turn', async () => {
    const client = await connected();
    try {
      const ack = await client.request('s1', 'chat.send', {
        sessionKey,
        message: 'hello gateway',
        idempotencyKey: 'run-one',
      });
      expect(ack).toMatchObject({ ok: true, payload: { runId: 'run-one', status: 'started' } });
      const answer = 'Switchyard heard "hello gateway" and answers at some length, in pieces.';
      const final = await client.next((f) => f.event === 'chat' && f.payload?.state === 'final', 30_000);
      expect(final.payload).toMatchObject({
        runId: 'run-one',
        sessionKey,
        message: { content: [{ type: 'text', text: answer }] },
      });
      const deltas = client.frames.filter((f) => f.event === 'chat' && f.payload?.state === 'delta');
      expect(deltas.length).toBeGreaterThan(0);
      expect(answer.startsWith(deltas.at(-1)!.payload.message.content[0].text)).toBe(true);

      await expect
        .poll(
          async () =>
            (await client.request(`h${Date.now()}`, 'chat.history', { sessionKey })).payload?.messages
              ?.length,
          {
            timeout: 10_000,
          },
        )
        .toBe(2);
      const listed = await client.request('l1', 'sessions.list', {});
      expect(listed.payload.sessions.map((s: { key: string }) => s.key)).toContain(sessionKey);
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('lists the agents and (as an admin) resets a session, forgetting its transcript', async () => {
    const client = await connected(['operator.read', 'operator.write', 'operator.admin']);
    try {
      const agents = await client.request('g1', 'agents.list', {});
      expect(agents.payload).toMatchObject({ defaultId: 'main', agents: [{ id: 'main' }] });
      const reset = await client.request('r1', 'sessions.reset', { key: sessionKey });
      expect(reset).toMatchObject({ ok: true, payload: { ok: true, key: sessionKey } });
      const history = await client.request('h1', 'chat.history', { sessionKey });
      expect(history.payload.messages).toEqual([]);
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('agent answers twice on one request id: accepted, then the final result', async () => {
    const client = await connected();
    try {
      client.send({
        type: 'req',
        id: 'a1',
        method: 'agent',
        params: { sessionKey, message: 'second question', idempotencyKey: 'run-two' },
      });
      const accepted = await client.next((f) => f.type === 'res' && f.id === 'a1');
      expect(accepted.payload).toMatchObject({ runId: 'run-two', status: 'accepted' });
      const done = await client.next(
        (f) => f.type === 'res' && f.id === 'a1' && f.payload?.status === 'ok',
        30_000,
      );
      expect(done.payload.result.payloads[0].text).toBe(
        'Switchyard heard "second question" and answers at some length, in pieces.',
      );
      expect(client.problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('streams the tool calls of a turn as agent events of stream tool (start, then result) before the answer', async () => {
    const client = await connected();
    try {
      stack.agent.faux.setResponses([
        fauxAssistantMessage([fauxToolCall('tide_table', {}, { id: 'call-tide' })], {
          stopReason: 'toolUse',
        }),
        fauxAssistantMessage('High tide is at 14:02.'),
      ]);
      const toolSession = `${sessionKey}-tools`;
      const ack = await client.request('t1', 'chat.send', {
        sessionKey: toolSession,
        message: 'when is high tide?',
        idempotencyKey: 'run-tools',
      });
      expect(ack.ok).toBe(true);
      const final = await client.next((f) => f.event === 'chat' && f.payload?.state === 'final', 30_000);
      expect(final.payload.message.content[0].text).toBe('High tide is at 14:02.');
      const events = client.frames.filter((f) => f.event === 'agent' && f.payload?.runId === 'run-tools');
      const tool = events.filter((f) => f.payload.stream === 'tool').map((f) => f.payload.data);
      expect(tool).toEqual([
        { phase: 'start', name: 'tide_table', toolCallId: 'call-tide' },
        { phase: 'result', name: 'tide_table', toolCallId: 'call-tide', isError: false },
      ]);
      // In order: lifecycle start, the tool, the answer's text, lifecycle end; seq only grows.
      const streams = events.map((f) => f.payload.stream);
      expect(streams[0]).toBe('lifecycle');
      expect(streams.indexOf('tool')).toBeLessThan(streams.indexOf('assistant'));
      expect(streams.at(-1)).toBe('lifecycle');
      const seqs = events.map((f) => f.payload.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(client.problems).toEqual([]);
    } finally {
      stack.agent.answerWith(
        (prompt) => `Switchyard heard "${prompt}" and answers at some length, in pieces.`,
      );
      client.close();
    }
  });

  it('a turn that cannot be answered ends as an error: error events with the apology, agent settles as error', async () => {
    const client = await connected();
    try {
      const failed = () =>
        fauxAssistantMessage('', { stopReason: 'error', errorMessage: 'the model is down' });
      stack.agent.faux.setResponses([failed, failed, failed]);
      const failSession = `${sessionKey}-fail`;
      client.send({
        type: 'req',
        id: 'f1',
        method: 'agent',
        params: { sessionKey: failSession, message: 'are you there?', idempotencyKey: 'run-fail' },
      });
      const done = await client.next(
        (f) => f.type === 'res' && f.id === 'f1' && f.payload?.status === 'error',
        30_000,
      );
      expect(done.payload.error).toMatch(/^Sorry, I could not answer that: Agent 'main' got no answer/);
      const chatEvents = client.frames.filter((f) => f.event === 'chat' && f.payload?.runId === 'run-fail');
      expect(chatEvents.map((f) => f.payload.state)).toEqual(['error']);
      expect(chatEvents[0]!.payload.errorMessage).toBe(done.payload.error);
      const streams = client.frames
        .filter((f) => f.event === 'agent' && f.payload?.runId === 'run-fail')
        .map((f) => `${f.payload.stream}:${f.payload.data.phase ?? ''}`);
      expect(streams).toEqual(['lifecycle:start', 'error:', 'lifecycle:error']);
      expect(client.problems).toEqual([]);
    } finally {
      stack.agent.answerWith(
        (prompt) => `Switchyard heard "${prompt}" and answers at some length, in pieces.`,
      );
      client.close();
    }
  });

  describe('webhooks (/hooks/agent, /hooks/wake)', () => {
    const post = (path: string, body: unknown, token = TOKEN) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'x-openclaw-token': token, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('/hooks/agent runs a turn in a session of its own and its answer can be fetched', async () => {
      const res = await post('/hooks/agent', { message: 'summarise the news' });
      expect(res.status).toBe(202);
      const { runId, sessionKey: hookSession } = (await res.json()) as { runId: string; sessionKey: string };
      expect(hookSession).toMatch(/^hook:/);
      await expect
        .poll(
          async () =>
            (await fetch(`${base}/hooks/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } }))
              .status,
          {
            timeout: 30_000,
          },
        )
        .toBe(200);
      const answer = await (
        await fetch(`${base}/hooks/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json();
      expect(answer).toMatchObject({
        text: 'Switchyard heard "summarise the news" and answers at some length, in pieces.',
      });
    });

    it('/hooks/wake puts the text into the main session', async () => {
      const res = await post('/hooks/wake', { text: 'wake up and check the calendar' });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ ok: true, sessionKey: `agent:main:${mainKey}` });
      const client = await connected();
      try {
        await expect
          .poll(
            async () =>
              (
                await client.request(`w${Date.now()}`, 'chat.history', {
                  sessionKey: `agent:main:${mainKey}`,
                })
              ).payload?.messages?.[0]?.content,
            { timeout: 30_000 },
          )
          .toBe('wake up and check the calendar');
      } finally {
        client.close();
      }
    });

    it('refuses a wrong token and a malformed body, starting nothing', async () => {
      expect((await post('/hooks/agent', { message: 'x' }, 'wrong-token')).status).toBe(401);
      const bad = await post('/hooks/agent', { text: 'no message field' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toMatch(
        /must have required property 'message'/,
      );
    });
  });
});
