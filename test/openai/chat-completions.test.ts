import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeltaSink, type DeltaSink } from '../../activities/stream/sink.js';
import { openaiPlugin } from '../../gateway/openai/plugin.js';
import { PendingReplies } from '../../gateway/openai/replies.js';
import { createDeltaHub } from '../../gateway/stream/hub.js';
import { DELTA_RELAY_PATH, deltaRelayPlugin } from '../../gateway/stream/relay.js';
import { freePort } from '../helpers/ports.js';
import { type StandInTurns, standInTurns } from '../stream/stand-in-turns.js';

const TOKEN = 'openai-test-token-0123456789';
const AGENTS = [
  { id: 'main', name: 'Main' },
  { id: 'coder', name: 'Coder' },
];

interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}
interface Chunk {
  id: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
}
const json = async <T = Record<string, unknown>>(res: Response) => (await res.json()) as T;

describe('OpenAI-compatible API', () => {
  let app: FastifyInstance;
  let base: string;
  let sink: DeltaSink;
  let turns: StandInTurns;
  const hub = createDeltaHub();
  const replies = new PendingReplies();

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sink = createDeltaSink({ url: `ws://127.0.0.1:${port}${DELTA_RELAY_PATH}`, token: TOKEN });
    turns = standInTurns({
      sink,
      senders: AGENTS.map((agent) => replies.sender(agent.id)),
      answer: (msg) =>
        msg.text === 'stuck'
          ? null
          : { deltas: ['Hel', 'lo ', 'the', 're'], final: `Hello there! (${msg.text})` },
    });
    app = Fastify({ logger: false });
    await app.register(websocket);
    await app.register(deltaRelayPlugin, { hub, token: TOKEN });
    await app.register(openaiPlugin, {
      // The stand-in answers through the channel's sender, as a worker without `session.turn` would.
      ingest: async (msg) => {
        await turns.ingest(msg);
        return undefined;
      },
      hub,
      token: TOKEN,
      agents: () => AGENTS,
      replies,
      replyTimeoutMs: 2000,
    });
    await app.listen({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await turns?.idle();
    await sink?.close();
    await app?.close();
    turns?.close();
  });

  const post = (body: unknown, token = TOKEN) =>
    fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it('lists the agents as models', async () => {
    const res = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = await json<{ object: string; data: Array<{ id: string }> }>(res);
    expect(body.object).toBe('list');
    expect(body.data.map((m: { id: string }) => m.id)).toEqual(['main', 'coder']);
    expect(body.data[1]).toMatchObject({ object: 'model', owned_by: 'switchyard', name: 'Coder' });
  });

  it('answers a non-stream completion with the reply the channel sender delivered', async () => {
    const res = await post({
      model: 'coder',
      user: 'alice',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'earlier question' },
        { role: 'assistant', content: 'earlier answer' },
        { role: 'user', content: [{ type: 'text', text: 'what is new?' }] },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<{ id: string }>(res);
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'coder',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there! (what is new?)' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
    expect(body.id).toMatch(/^chatcmpl-/);
    const msg = turns.turns.find((m) => m.text === 'what is new?');
    expect(msg).toMatchObject({
      channel: 'openai',
      accountId: 'coder',
      chat: { id: 'alice', kind: 'direct' },
      sender: { id: 'alice' },
      wasMentioned: true,
    });
  });

  it('streams deltas as chat.completion.chunk events, completes them from the final reply, then [DONE]', async () => {
    const res = await post({
      model: 'main',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream please' }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((block) => block.trim() !== '')
      .map((block) => {
        expect(block.startsWith('data: ')).toBe(true);
        return block.slice('data: '.length);
      });

    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Chunk);
    for (const chunk of chunks)
      expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'main' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const contents = chunks.flatMap((c) => {
      const content = c.choices[0]?.delta.content;
      return content === undefined ? [] : [content];
    });
    // The four live deltas in order, then the rest of the final text.
    expect(contents).toEqual(['', 'Hel', 'lo ', 'the', 're', '! (stream please)']);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason === 'stop');
    expect(finish!.choices[0]!.delta).toEqual({});
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 0 } });
    const msg = turns.turns.find((m) => m.text === 'stream please')!;
    expect(msg.chat.id).toMatch(/^request-/); // no `user`: a conversation of its own
  });

  it('refuses a wrong or missing token with 401 in OpenAI’s error shape', async () => {
    const wrong = await post({ model: 'main', messages: [{ role: 'user', content: 'hi' }] }, 'nope');
    expect(wrong.status).toBe(401);
    expect((await json<ErrorBody>(wrong)).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    });
    const missing = await fetch(`${base}/v1/models`);
    expect(missing.status).toBe(401);
    expect(turns.turns.some((m) => m.text === 'hi')).toBe(false);
  });

  it('rejects invalid bodies with 400 and an unknown model with 404, starting no turn', async () => {
    const before = turns.turns.length;
    const cases = [
      { model: 'main' },
      { model: 'main', messages: [] },
      { model: 'main', messages: [{ role: 'robot', content: 'x' }] },
      { model: 'main', messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
      { model: 'main', messages: [{ role: 'system', content: 'only a system prompt' }] },
    ];
    for (const body of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = (await json<ErrorBody>(res)).error;
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toEqual(expect.any(String));
    }
    const notJson = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{"model":',
    });
    expect(notJson.status).toBe(400);
    expect((await json<ErrorBody>(notJson)).error.type).toBe('invalid_request_error');

    const unknown = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(unknown.status).toBe(404);
    expect((await json<ErrorBody>(unknown)).error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(turns.turns.length).toBe(before);
  });

  it('answers 504 with an OpenAI-style error when no reply arrives in time, streamed or not', async () => {
    const plain = await post({ model: 'main', messages: [{ role: 'user', content: 'stuck' }] });
    expect(plain.status).toBe(504);
    expect((await json<ErrorBody>(plain)).error).toMatchObject({ type: 'timeout', code: 'reply_timeout' });

    const streamed = await post({
      model: 'main',
      stream: true,
      messages: [{ role: 'user', content: 'stuck' }],
    });
    expect(streamed.status).toBe(504);
    expect((await json<ErrorBody>(streamed)).error.code).toBe('reply_timeout');
  });

  it('stops streaming at a lost delta and completes the text from the final reply', async () => {
    const response = post({
      model: 'main',
      stream: true,
      user: 'bob',
      messages: [{ role: 'user', content: 'by hand' }],
    });
    const deadline = Date.now() + 5000;
    while (!turns.turns.some((m) => m.text === 'by hand')) {
      if (Date.now() > deadline) throw new Error('the request never reached ingest');
      await new Promise((r) => setTimeout(r, 10));
    }
    const msg = turns.turns.find((m) => m.text === 'by hand')!;
    const runKey = `openai:bob:${msg.messageId}`;
    hub.publish({ type: 'delta', runKey, seq: 1, text: 'one ' });
    hub.publish({ type: 'delta', runKey, seq: 3, text: 'three ' }); // seq 2 was lost on the way
    hub.publish({ type: 'delta', runKey, seq: 4, text: 'four' });
    await replies.sender('main').send('bob', 'one two three four', { replyToMessageId: msg.messageId });

    const contents = (await (await response).text())
      .split('\n\n')
      .filter((block) => block.startsWith('data: {'))
      .map((block) => (JSON.parse(block.slice(6)) as Chunk).choices[0]?.delta.content)
      .filter((content) => content !== undefined);
    expect(contents).toEqual(['', 'one ', 'two three four']);
  });
});
