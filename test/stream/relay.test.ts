import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DeltaFrame } from '../../activities/stream/frames.js';
import { createDeltaSink } from '../../activities/stream/sink.js';
import { createDeltaHub, type DeltaHub } from '../../gateway/stream/hub.js';
import { DELTA_RELAY_PATH, type DeltaRelayLimits, deltaRelayPlugin } from '../../gateway/stream/relay.js';
import { freePort } from '../helpers/ports.js';

const TOKEN = 'relay-test-token-0123456789';

interface RunningGateway {
  app: FastifyInstance;
  hub: DeltaHub;
  url: string;
}

async function startGateway(port: number, limits?: Partial<DeltaRelayLimits>): Promise<RunningGateway> {
  const hub = createDeltaHub();
  const app = Fastify({ logger: false });
  await app.register(websocket);
  await app.register(deltaRelayPlugin, { hub, token: TOKEN, ...(limits ? { limits } : {}) });
  await app.listen({ host: '127.0.0.1', port });
  return { app, hub, url: `ws://127.0.0.1:${port}${DELTA_RELAY_PATH}` };
}

/** Frames a subscriber saw, awaitable. */
function collect(hub: DeltaHub, runKey: string) {
  const frames: DeltaFrame[] = [];
  hub.subscribe(runKey, (frame) => frames.push(frame));
  return {
    frames,
    text: () => frames.map((f) => (f.type === 'delta' ? f.text : '')).join(''),
    until: async (check: () => boolean, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out; saw ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('delta relay: worker sink → gateway hub', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const track = <T extends { close(): Promise<unknown> }>(thing: T): T => {
    cleanups.push(() => thing.close());
    return thing;
  };

  it('delivers a worker’s deltas to the subscriber of that run key, in order, then the end', async () => {
    const gateway = await startGateway(await freePort());
    track(gateway.app);
    const seen = collect(gateway.hub, 'webchat:chat-1:m1');
    const other = collect(gateway.hub, 'webchat:chat-1:m2');
    const sink = track(createDeltaSink({ url: gateway.url, token: TOKEN }));

    const words = Array.from({ length: 200 }, (_, i) => `w${i} `);
    for (const word of words) sink.push('webchat:chat-1:m1', word);
    sink.end('webchat:chat-1:m1');
    await seen.until(() => seen.frames.at(-1)?.type === 'end');

    expect(seen.text()).toBe(words.join(''));
    expect(seen.frames.filter((f) => f.type === 'delta').map((f) => (f as { seq: number }).seq)).toEqual(
      words.map((_, i) => i + 1),
    );
    expect(other.frames).toEqual([]);
    expect(sink.dropped).toBe(0);
  });

  it('refuses a wrong token before the upgrade, and the sink reports it without throwing', async () => {
    const gateway = await startGateway(await freePort());
    track(gateway.app);
    const seen = collect(gateway.hub, 'openai:c:m');

    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(gateway.url, { headers: { authorization: 'Bearer wrong' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => reject(new Error('a wrong token was let in')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);

    const troubles: string[] = [];
    const sink = track(
      createDeltaSink({
        url: gateway.url,
        token: 'wrong',
        onTrouble: (m) => troubles.push(m),
        maxBackoffMs: 200,
      }),
    );
    expect(() => sink.push('openai:c:m', 'secret?')).not.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(troubles.join('\n')).toContain('HTTP 401');
    expect(sink.connected).toBe(false);
    expect(seen.frames).toEqual([]);
  });

  it('reconnects after a gateway restart: deltas pushed while it was down and after it is back arrive', async () => {
    const port = await freePort();
    const first = await startGateway(port);
    const before = collect(first.hub, 'webchat:c:m');
    const sink = track(
      createDeltaSink({ url: first.url, token: TOKEN, minBackoffMs: 50, maxBackoffMs: 200 }),
    );
    sink.push('webchat:c:m', 'one ');
    await before.until(() => before.text() === 'one ');

    await first.app.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(() => sink.push('webchat:c:m', 'two ')).not.toThrow(); // gateway down: buffered

    const second = await startGateway(port);
    track(second.app);
    const after = collect(second.hub, 'webchat:c:m');
    await after.until(() => sink.connected);
    sink.push('webchat:c:m', 'three');
    await after.until(() => after.text() === 'two three');
    expect(after.frames.map((f) => (f as { seq: number }).seq)).toEqual([2, 3]);
  });

  it('push and end never throw or wait while the gateway is unreachable; the buffer stays bounded', async () => {
    const port = await freePort(); // nothing listens here
    const troubles: string[] = [];
    const sink = track(
      createDeltaSink({
        url: `ws://127.0.0.1:${port}${DELTA_RELAY_PATH}`,
        token: TOKEN,
        maxBuffered: 100,
        onTrouble: (m) => troubles.push(m),
      }),
    );
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) sink.push(`webchat:c:${i % 10}`, 'x');
    sink.end('webchat:c:1');
    const elapsed = performance.now() - started;

    expect(elapsed).toBeLessThan(500);
    expect(sink.dropped).toBeGreaterThanOrEqual(10_001 - 100);
    await new Promise((r) => setTimeout(r, 200));
    expect(troubles.join('\n')).toContain('ECONNREFUSED');
    await sink.close();
    expect(() => sink.push('webchat:c:1', 'after close')).not.toThrow();
  });

  it('drops malformed frames and closes a connection that sends an oversized one', async () => {
    const gateway = await startGateway(await freePort(), { maxFrameBytes: 1024 });
    track(gateway.app);
    const seen = collect(gateway.hub, 'webchat:c:m');
    const ws = new WebSocket(gateway.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'delta', runKey: 'webchat:c:m', seq: 0, text: 'bad seq' }));
    ws.send(JSON.stringify({ type: 'delta', runKey: 'webchat:c:m', seq: 1, text: 'ok' }));
    await seen.until(() => seen.frames.length === 1);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ type: 'delta', runKey: 'webchat:c:m', seq: 2, text: 'x'.repeat(2000) }));
    expect(await closed).toBe(1009);
    expect(seen.text()).toBe('ok');
  });

  it('holds each connection to its frame rate: frames beyond the burst are dropped', async () => {
    const gateway = await startGateway(await freePort(), { framesPerSecond: 1, burst: 5 });
    track(gateway.app);
    const seen = collect(gateway.hub, 'webchat:c:m');
    const sink = track(createDeltaSink({ url: gateway.url, token: TOKEN }));
    for (let i = 0; i < 50; i++) sink.push('webchat:c:m', `${i},`);
    sink.end('webchat:c:m');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.frames.length).toBeGreaterThanOrEqual(5);
    expect(seen.frames.length).toBeLessThanOrEqual(6);
    expect(seen.text().startsWith('0,1,2,3,4,')).toBe(true);
  });
});
