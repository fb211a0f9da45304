// OpenClaw's own client libraries, unmodified, against the real gateway, worker and Temporal
// (faux model): @openclaw/gateway-client's GatewayClient and openclaw-node's OpenClawClient. Each
// client talks through a recording proxy that checks every frame the gateway sends against
// @openclaw/gateway-protocol and remembers how the gateway closed the socket.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayClient, type GatewayClientOptions } from '@openclaw/gateway-client';
import type { EventFrame, HelloOk } from '@openclaw/gateway-protocol';
import { type ChatChunk, OpenClawClient } from 'openclaw-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { type ConversationStack, startConversationStack } from '../helpers/conversation-stack.js';
import { check, type Loose, makeDevice, RecordingProxy, TOKEN } from '../protocol/harness.js';

const answer = (prompt: string) => `Switchyard heard "${prompt}" and answers in several pieces, at length.`;
const run = randomUUID().slice(0, 8);
const sessionKey = (name: string) => `agent:main:official-${name}-${run}`;
const TURN_MS = 30_000;

let stack: ConversationStack;
let proxy: RecordingProxy;

beforeAll(async () => {
  const config = testConfig(inject('temporalAddress'), {
    SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('oc-clients'),
  });
  stack = await startConversationStack(config, TOKEN, answer);
});
afterAll(async () => stack?.close());
beforeEach(async () => {
  proxy = await RecordingProxy.start(stack.base.replace(/^http/, 'ws'));
});
afterEach(async () => proxy.close());

/** The first server frame matching `match`, waiting for it if need be. */
async function serverFrame(match: (f: Loose) => boolean, timeoutMs = 5000): Promise<Loose> {
  return (await proxy.next((r) => r.dir === 's2c' && match(r.frame), timeoutMs)).frame;
}

const chatEvent = (runId: string, state: string) => (f: Loose) =>
  f.event === 'chat' && f.payload?.runId === runId && f.payload?.state === state;

describe('@openclaw/gateway-client GatewayClient', () => {
  /** Starts a GatewayClient through the proxy; `hello` settles with hello-ok or the connect error. */
  function startClient(opts: Partial<GatewayClientOptions>) {
    const events: EventFrame[] = [];
    const gaps: unknown[] = [];
    let client!: GatewayClient;
    const hello = new Promise<HelloOk>((resolve, reject) => {
      client = new GatewayClient({
        url: proxy.url,
        clientName: 'cli',
        mode: 'cli',
        platform: 'linux',
        deviceFamily: 'Linux',
        scopes: ['operator.read', 'operator.write', 'operator.admin'],
        deviceIdentity: null,
        ...opts,
        onEvent: (event) => events.push(event),
        onGap: (info) => gaps.push(info),
        onHelloOk: resolve,
        onConnectError: reject,
      });
    });
    client.start();
    return { client, hello, events, gaps };
  }

  it('connects with the shared token and answers health, status and sessions.list', async () => {
    const { client, hello } = startClient({ token: TOKEN });
    try {
      const ok = await hello;
      expect(ok.protocol).toBe(4);
      expect(ok.auth).toMatchObject({ role: 'operator' });
      expect(ok.features.methods).toEqual(
        expect.arrayContaining(['health', 'status', 'sessions.list', 'chat.send', 'chat.history', 'agent']),
      );
      const health = await client.request('health', {});
      expect(health).toMatchObject({ ok: true });
      const status = await client.request('status', {});
      expect(status).toMatchObject({
        server: { name: 'switchyard' },
        taskQueue: stack.config.temporal.taskQueue,
      });
      const sessions = await client.request<{ sessions: unknown[] }>('sessions.list', {});
      expect(Array.isArray(sessions.sessions)).toBe(true);
    } finally {
      await client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('chat.send: one ack, chat deltas, the final answer; chat.history then holds the turn', async () => {
    const key = sessionKey('gc-chat');
    const idempotencyKey = `gc-chat-${run}`;
    const { client, hello, events, gaps } = startClient({ token: TOKEN });
    try {
      await hello;
      const ack = await client.request('chat.send', {
        sessionKey: key,
        message: 'hello client',
        idempotencyKey,
      });
      expect(ack).toEqual({ runId: idempotencyKey, status: 'started' });
      const final = await serverFrame(chatEvent(idempotencyKey, 'final'), TURN_MS);
      expect(final.payload).toMatchObject({
        sessionKey: key,
        message: { role: 'assistant', content: [{ type: 'text', text: answer('hello client') }] },
      });
      // The client itself delivered the stream: deltas growing towards the answer, then the final.
      await expect.poll(() => events.some((e) => chatEvent(idempotencyKey, 'final')(e))).toBe(true);
      const deltas = events
        .filter((e) => chatEvent(idempotencyKey, 'delta')(e))
        .map((e) => e.payload as Loose);
      expect(deltas.length).toBeGreaterThan(0);
      for (const d of deltas) expect(answer('hello client').startsWith(d.message.content[0].text)).toBe(true);
      expect(gaps).toEqual([]);

      await expect
        .poll(async () => (await client.request<Loose>('chat.history', { sessionKey: key })).messages, {
          timeout: 10_000,
        })
        .toMatchObject([
          { role: 'user', content: 'hello client' },
          { role: 'assistant', content: [{ type: 'text', text: answer('hello client') }] },
        ]);
      const listed = await client.request<{ sessions: { key: string }[] }>('sessions.list', {});
      expect(listed.sessions.map((s) => s.key)).toContain(key);
    } finally {
      await client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('agent: accepted, then the final result on the same request id', async () => {
    const key = sessionKey('gc-agent');
    const idempotencyKey = `gc-agent-${run}`;
    const { client, hello } = startClient({ token: TOKEN });
    try {
      await hello;
      const accepted: unknown[] = [];
      const final = await client.request<Loose>(
        'agent',
        { sessionKey: key, message: 'second question', idempotencyKey },
        { expectFinal: true, onAccepted: (payload) => accepted.push(payload), timeoutMs: TURN_MS },
      );
      expect(accepted).toEqual([expect.objectContaining({ runId: idempotencyKey, status: 'accepted' })]);
      expect(final).toMatchObject({ runId: idempotencyKey, status: 'ok' });
      expect(final.result.payloads[0].text).toBe(answer('second question'));
      const id = proxy.sent(1).find((f: Loose) => f.method === 'agent')?.id;
      const replies = proxy.received(1).filter((f) => f.type === 'res' && f.id === id);
      expect(replies.map((f) => f.payload?.status)).toEqual(['accepted', 'ok']);
    } finally {
      await client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('answers an unknown method with an error response and keeps serving the connection', async () => {
    const { client, hello } = startClient({ token: TOKEN });
    try {
      await hello;
      await expect(client.request('no.such.method', {})).rejects.toMatchObject({
        gatewayCode: 'INVALID_REQUEST',
        message: 'unknown method: no.such.method',
      });
      expect(await client.request('health', {})).toMatchObject({ ok: true });
    } finally {
      await client.stopAndWait();
    }
    const refused = proxy.received(1).find((f) => f.type === 'res' && f.ok === false);
    expect(check.response(refused)).toBe(true);
    expect(proxy.problems).toEqual([]);
  });

  it('is refused with a wrong token (AUTH_TOKEN_MISMATCH), and the gateway closes 1008', async () => {
    const { client, hello } = startClient({ token: 'not-the-token' });
    try {
      await expect(hello).rejects.toMatchObject({
        gatewayCode: 'INVALID_REQUEST',
        details: expect.objectContaining({ code: 'AUTH_TOKEN_MISMATCH' }),
      });
      expect((await proxy.closes[0])?.code).toBe(1008);
    } finally {
      await client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('is refused without any credentials (NOT_PAIRED / DEVICE_IDENTITY_REQUIRED), and the gateway closes 1008', async () => {
    const { client, hello } = startClient({});
    try {
      await expect(hello).rejects.toMatchObject({
        gatewayCode: 'NOT_PAIRED',
        details: expect.objectContaining({ code: 'DEVICE_IDENTITY_REQUIRED' }),
      });
      expect(await proxy.closes[0]).toEqual({ code: 1008, reason: 'device identity required' });
    } finally {
      await client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('pairs a loopback device signed with the v3 payload, and reconnects with the device token alone', async () => {
    const device = makeDevice();
    const signed: string[] = [];
    const stored: { token: string; scopes: string[] }[] = [];
    const identity = {
      deviceIdentity: {
        deviceId: device.deviceId,
        privateKeyPem: device.privateKeyPem,
        publicKeyPem: device.publicKeyPem,
      },
      clientName: 'openclaw-ios' as const,
      mode: 'ui' as const,
      platform: 'iOS',
      deviceFamily: 'iPhone',
      scopes: ['operator.read', 'operator.write'],
    };
    const hostDeps = {
      signDevicePayload: (_pem: string, payload: string) => {
        signed.push(payload);
        return device.sign(payload);
      },
      publicKeyRawBase64UrlFromPem: () => device.publicKeyRaw,
    };
    const first = startClient({
      ...identity,
      token: TOKEN,
      hostDeps: { ...hostDeps, storeDeviceAuthToken: ({ token, scopes }) => stored.push({ token, scopes }) },
    });
    try {
      const hello = await first.hello;
      expect(hello.auth).toMatchObject({ role: 'operator', scopes: ['operator.read', 'operator.write'] });
      expect(signed[0]).toMatch(new RegExp(`^v3\\|${device.deviceId}\\|openclaw-ios\\|ui\\|operator\\|`));
      expect(signed[0]).toMatch(/\|ios\|iphone$/);
      expect(stored).toEqual([
        { token: hello.auth.deviceToken, scopes: ['operator.read', 'operator.write'] },
      ]);
    } finally {
      await first.client.stopAndWait();
    }

    const second = startClient({
      ...identity,
      hostDeps: { ...hostDeps, loadDeviceAuthToken: () => stored[0] ?? null },
    });
    try {
      const hello = await second.hello;
      const connect = proxy.sent(2).find((f: Loose) => f.method === 'connect') as Loose;
      // The stored device token is the only credential (GatewayClient also puts it in auth.token).
      expect(connect.params.auth.deviceToken).toBe(stored[0]?.token);
      expect(JSON.stringify(connect.params.auth)).not.toContain(TOKEN);
      expect(hello.auth.deviceToken).toBe(stored[0]?.token);
      expect(await second.client.request('health', {})).toMatchObject({ ok: true });
    } finally {
      await second.client.stopAndWait();
    }
    expect(proxy.problems).toEqual([]);
  });
});

describe('openclaw-node OpenClawClient', () => {
  beforeAll(() => {
    // Node 20 has no global WebSocket; openclaw-node expects one (it names `ws` for Node 20).
    (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  });

  /** A client with a fresh device identity file (openclaw-node always signs with a device, v2). */
  function nodeClient(options: { token?: string; identityFile?: string } = {}) {
    const identityFile =
      options.identityFile ?? join(mkdtempSync(join(tmpdir(), 'openclaw-node-')), 'id.json');
    const client = new OpenClawClient({
      url: proxy.url,
      ...(options.token === undefined ? {} : { token: options.token }),
      autoReconnect: false,
      deviceIdentityPath: identityFile,
    });
    client.on('error', () => {}); // connect failures are asserted through connect()'s rejection
    return { client, identityFile };
  }

  it('connects with the shared token, pairs its device, and reconnects with the stored device token', async () => {
    const { client, identityFile } = nodeClient({ token: TOKEN });
    try {
      const hello = (await client.connect()) as unknown as HelloOk;
      expect(hello.auth?.deviceToken).toEqual(expect.any(String));
      expect(await client.health()).toMatchObject({ ok: true });
      expect((await client.request('status', {})).payload).toMatchObject({ server: { name: 'switchyard' } });
      expect(await client.sessions.list({ limit: 3 })).toMatchObject({ sessions: expect.any(Array) });
    } finally {
      await client.disconnect();
    }
    const again = nodeClient({ token: TOKEN, identityFile });
    try {
      await again.client.connect();
      const connect = proxy.sent(2).find((f: Loose) => f.method === 'connect') as Loose;
      expect(connect.params.auth.token).not.toBe(TOKEN); // openclaw-node presents its device token here
      expect(await again.client.health()).toMatchObject({ ok: true });
    } finally {
      await again.client.disconnect();
    }
    expect(proxy.problems).toEqual([]);
  });

  /** Runs openclaw-node's chat() (an `agent` request) to its end and returns the chunks it yielded. */
  async function chatChunks(prompt: string, key: string) {
    const { client } = nodeClient({ token: TOKEN });
    try {
      await client.connect();
      const chunks: ChatChunk[] = [];
      for await (const chunk of client.chat(prompt, { sessionKey: key })) chunks.push(chunk);
      return chunks;
    } finally {
      await client.disconnect();
    }
  }

  it('chat() runs an agent turn: agent_start, agent_end, done, and the final result carries the answer', async () => {
    const chunks = await chatChunks('tell me more', sessionKey('node-agent'));
    const types = chunks.map((c) => c.type);
    expect(types[0]).toBe('agent_start');
    expect(types).toContain('agent_end');
    expect(types.at(-1)).toBe('done');
    expect(chunks.filter((c) => c.type === 'error')).toEqual([]);
    const id = proxy.sent(1).find((f: Loose) => f.method === 'agent')?.id;
    const replies = proxy.received(1).filter((f) => f.type === 'res' && f.id === id);
    expect(replies.map((f) => f.payload?.status)).toEqual(['accepted', 'ok']);
    expect(replies[1]?.payload.result.payloads[0].text).toBe(answer('tell me more'));
    expect(proxy.problems).toEqual([]);
  });

  // openclaw-node takes chat()'s text only from `agent` events of stream "assistant" ({text, delta}),
  // which the gateway sends beside every chat delta, as OpenClaw does.
  it('chat() yields the answer as text chunks', async () => {
    const chunks = await chatChunks('stream it to me', sessionKey('node-text'));
    const text = chunks.map((c) => (c.type === 'text' ? c.text : '')).join('');
    expect(text).toBe(answer('stream it to me'));
  });

  it('chat.send without idempotencyKey is refused as OpenClaw refuses it; with one it streams to the final answer', async () => {
    const key = sessionKey('node-chat');
    const { client } = nodeClient({ token: TOKEN });
    try {
      await client.connect();
      // sessions.send() omits idempotencyKey; OpenClaw 2026.9.6 answers exactly this.
      await expect(client.sessions.send(key, 'no key')).rejects.toThrow(
        "invalid chat.send params: must have required property 'idempotencyKey'",
      );
      const refused = proxy.received(1).find((f) => f.type === 'res' && f.ok === false);
      expect(refused?.error).toEqual({
        code: 'INVALID_REQUEST',
        message: "invalid chat.send params: must have required property 'idempotencyKey'",
      });

      const events: Loose[] = [];
      client.on('event', (e) => events.push(e));
      const idempotencyKey = `node-chat-${run}`;
      const ack = await client.request('chat.send', {
        sessionKey: key,
        message: 'with a key',
        idempotencyKey,
      });
      expect(ack.payload).toEqual({ runId: idempotencyKey, status: 'started' });
      await expect
        .poll(() => events.find(chatEvent(idempotencyKey, 'final'))?.payload.message.content[0].text, {
          timeout: TURN_MS,
        })
        .toBe(answer('with a key'));
      expect(events.filter(chatEvent(idempotencyKey, 'delta')).length).toBeGreaterThan(0);

      await expect
        .poll(async () => ((await client.sessions.history(key)) as Loose).messages, { timeout: 10_000 })
        .toMatchObject([
          { role: 'user', content: 'with a key' },
          { role: 'assistant', content: [{ type: 'text', text: answer('with a key') }] },
        ]);
      await expect(client.request('no.such.method', {})).rejects.toThrow('missing scope: operator.admin');
      expect(await client.health()).toMatchObject({ ok: true });
    } finally {
      await client.disconnect();
    }
    expect(proxy.problems).toEqual([]);
  });

  it('is refused with a wrong token, and the gateway closes 1008', async () => {
    const { client } = nodeClient({ token: 'not-the-token' });
    await expect(client.connect()).rejects.toThrow('WebSocket closed before handshake completed');
    const refusal = await serverFrame((f) => f.type === 'res');
    expect(refusal.error).toMatchObject({
      code: 'INVALID_REQUEST',
      details: { code: 'AUTH_TOKEN_MISMATCH' },
    });
    expect((await proxy.closes[0])?.code).toBe(1008);
    expect(proxy.problems).toEqual([]);
  });

  it('is refused without the token even with its device, and the gateway closes 1008', async () => {
    const { client } = nodeClient();
    await expect(client.connect()).rejects.toThrow('WebSocket closed before handshake completed');
    const refusal = await serverFrame((f) => f.type === 'res');
    expect(refusal.error).toMatchObject({ code: 'INVALID_REQUEST', details: { code: 'AUTH_TOKEN_MISSING' } });
    expect((await proxy.closes[0])?.code).toBe(1008);
    expect(proxy.problems).toEqual([]);
  });
});
