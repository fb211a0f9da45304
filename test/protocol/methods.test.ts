// Methods over a live connection. chat.send / agent / chat.history are answered by a TEST DOUBLE
// of GatewayServices (services-double.ts) until the lead's session workflows provide the real ones.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OpenClawClient } from 'openclaw-node';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { registerDeviceCommands } from '../../cli/commands/devices.js';
import { DeviceStore } from '../../gateway/store/devices.js';
import { check, connectParams, type Gateway, type Loose, RawClient, startGateway, TOKEN } from './harness.js';
import { pongServices } from './services-double.js';

// vitest's ESM loader cannot resolve commander@15's wrapper on Node 20; load it as CommonJS.
const { Command } = createRequire(import.meta.url)('commander') as typeof import('commander');

let gw: Gateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function connected(url: string, extra: Record<string, unknown> = {}) {
  const raw = await RawClient.open(url);
  await raw.challenge();
  const res = await raw.request('c1', 'connect', connectParams(extra));
  expect(res.ok).toBe(true);
  return raw;
}

describe('authorization and dispatch', () => {
  it('answers FORBIDDEN / MISSING_SCOPE when a read-only operator calls chat.send or an admin method', async () => {
    gw = await startGateway(pongServices());
    const raw = await connected(gw.url, { scopes: ['operator.read'] });
    const send = await raw.request('r1', 'chat.send', {
      sessionKey: 'agent:main:main',
      message: 'hi',
      idempotencyKey: 'k1',
    });
    expect(send.error).toEqual({
      code: 'FORBIDDEN',
      message: 'missing scope: operator.write',
      details: { code: 'MISSING_SCOPE', missingScope: 'operator.write', requiredScopes: ['operator.write'] },
    });
    const reset = await raw.request('r2', 'sessions.reset', { key: 'agent:main:main' });
    expect(reset.error.details).toMatchObject({ code: 'MISSING_SCOPE', missingScope: 'operator.admin' });
    raw.close();
    expect(raw.problems).toEqual([]);
  });

  it('answers an unknown method: FORBIDDEN without admin (as OpenClaw), INVALID_REQUEST with admin', async () => {
    gw = await startGateway(pongServices());
    const rw = await connected(gw.url);
    expect((await rw.request('r9', 'no.such.method', {})).error.details.code).toBe('MISSING_SCOPE');
    const admin = await connected(gw.url, { scopes: ['operator.admin'] });
    expect((await admin.request('r9', 'no.such.method', {})).error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'unknown method: no.such.method',
    });
    // A known OpenClaw method whose service Switchyard does not provide yet: UNAVAILABLE, not silence.
    const cron = await admin.request('r10', 'cron.list', {});
    expect(cron.error.code).toBe('UNAVAILABLE');
    rw.close();
    admin.close();
    expect([...rw.problems, ...admin.problems]).toEqual([]);
  });

  it('validates params with the package validators and explains what is wrong', async () => {
    gw = await startGateway(pongServices());
    const raw = await connected(gw.url);
    const res = await raw.request('r1', 'chat.send', { sessionKey: 'agent:main:main', message: 'hi' });
    expect(res.error).toEqual({
      code: 'INVALID_REQUEST',
      message: "invalid chat.send params: must have required property 'idempotencyKey'",
    });
    raw.close();
  });

  it('keeps voice-wake triggers across calls and answers talk.config, identity, presence', async () => {
    gw = await startGateway(pongServices());
    const raw = await connected(gw.url);
    expect((await raw.request('v1', 'voicewake.set', { triggers: ['hey yard', ' '] })).payload).toEqual({
      triggers: ['hey yard'],
    });
    expect((await raw.request('v2', 'voicewake.get', {})).payload).toEqual({ triggers: ['hey yard'] });
    const talk = await raw.request('t', 'talk.config', {});
    expect(check.response(talk) && talk.ok).toBe(true);
    const identity = (await raw.request('i', 'gateway.identity.get', {})).payload;
    expect(identity.deviceId).toMatch(/^[0-9a-f]{64}$/);
    const presence = (await raw.request('p', 'system-presence', {})).payload as unknown[];
    expect(presence.length).toBe(1);
    expect(presence.every((p) => check.presenceEntry(p))).toBe(true);
    raw.close();
    expect(raw.problems).toEqual([]);
  });

  it('sends tick events at the configured interval with increasing seq', async () => {
    gw = await startGateway(pongServices(), { tickIntervalMs: 50 });
    const raw = await connected(gw.url);
    await raw.next((f) => f.event === 'tick' && (f.seq ?? 0) >= 2, 2000);
    const seqs = raw.frames.filter((f) => f.type === 'event' && f.seq !== undefined).map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => (a ?? 0) - (b ?? 0)));
    raw.close();
    expect(raw.problems).toEqual([]);
  });
});

describe('runs (through the GatewayServices test double)', () => {
  it('chat.send answers started, streams a delta then a final chat event, and a repeated key returns the same run', async () => {
    const services = pongServices();
    gw = await startGateway(services);
    const raw = await connected(gw.url);
    const params = { sessionKey: 'agent:main:main', message: 'ping', idempotencyKey: 'run-1' };
    const res = await raw.request('s1', 'chat.send', params);
    expect(res.payload).toEqual({ runId: 'run-1', status: 'started' });
    const final = await raw.next((f) => f.event === 'chat' && f.payload.state === 'final');
    expect(final.payload.message.content[0].text).toBe('pong');
    const states = raw.frames.filter((f) => f.event === 'chat').map((f) => f.payload.state);
    expect(states).toEqual(['delta', 'final']);
    const again = await raw.request('s2', 'chat.send', params);
    expect(again.payload).toEqual({ runId: 'run-1', status: 'ok' });
    expect(services.chatSendCalls).toBe(1);
    const history = await raw.request('h', 'chat.history', { sessionKey: 'agent:main:main', limit: 10 });
    expect(history.payload.messages).toHaveLength(2);
    raw.close();
    expect(raw.problems).toEqual([]);
  });

  it('agent answers two res frames with the same id: accepted, then the final result', async () => {
    gw = await startGateway(pongServices());
    const raw = await connected(gw.url);
    raw.send({
      type: 'req',
      id: 'a1',
      method: 'agent',
      params: { message: 'ping', idempotencyKey: 'k-agent' },
    });
    const final = await raw.next((f) => f.id === 'a1' && f.payload?.status === 'ok');
    const responses = raw.frames.filter((f) => f.type === 'res' && f.id === 'a1');
    expect(responses.map((f) => f.payload.status)).toEqual(['accepted', 'ok']);
    expect(final.payload.result.payloads[0].text).toBe('pong');
    raw.close();
    expect(raw.problems).toEqual([]);
  });

  it('serves the openclaw-node client: streams chat() through agent, rejects its chat.send without idempotencyKey', async () => {
    gw = await startGateway(pongServices());
    const g = globalThis as { WebSocket?: unknown };
    g.WebSocket ??= WebSocket; // Node 20 has no global WebSocket; openclaw-node expects one.
    const dir = mkdtempSync(join(tmpdir(), 'openclaw-node-'));
    const client = new OpenClawClient({
      url: gw.url,
      token: TOKEN,
      autoReconnect: false,
      deviceIdentityPath: join(dir, 'id.json'),
    });
    await client.connect();
    let text = '';
    for await (const chunk of client.chat('ping', { sessionKey: 'agent:main:node' })) {
      if (chunk.type === 'text') text += chunk.text;
      if (chunk.type === 'agent_end') break;
    }
    expect(text).toBe('pong');
    await expect(client.sessions.send('agent:main:node', 'again')).rejects.toThrow(
      "invalid chat.send params: must have required property 'idempotencyKey'",
    );
    const sessions = (await client.sessions.list()) as { count: number };
    expect(sessions.count).toBe(1);
    await client.disconnect();
  });
});

describe('replay of the recorded OpenClaw CLI session (cli-capture.jsonl)', () => {
  it('answers the same client frames with responses of the same shape and the same run event kinds', async () => {
    gw = await startGateway(pongServices());
    const lines = readFileSync(join(import.meta.dirname, 'fixtures', 'cli-capture.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const recorded = lines.map((l) => JSON.parse(l) as { dir: string; frame?: Loose });
    const c2s = recorded.filter((r) => r.dir === 'c2s').map((r) => r.frame);
    const s2c = recorded.filter((r) => r.dir === 's2c').map((r) => r.frame);
    const raw = await RawClient.open(gw.url);
    await raw.challenge();
    for (const frame of c2s) {
      const params = frame.method === 'connect' ? { ...frame.params, auth: { token: TOKEN } } : frame.params;
      raw.send({ ...frame, params });
      const expectedRes = s2c.filter((f) => f.type === 'res' && f.id === frame.id);
      for (const [i, expected] of expectedRes.entries()) {
        const got = await raw.next(
          (f) =>
            f.type === 'res' &&
            f.id === frame.id &&
            raw.frames.filter((x) => x.id === frame.id).indexOf(f) === i,
        );
        expect(got.ok).toBe(expected.ok);
        if (expected.payload?.status) expect(got.payload.status).toBe(expected.payload.status);
        if (expected.payload?.type) expect(got.payload.type).toBe(expected.payload.type);
      }
    }
    const runEvents = (frames: { type: string; event?: string }[]) =>
      new Set(
        frames
          .filter((f) => f.type === 'event' && (f.event === 'chat' || f.event === 'agent'))
          .map((f) => f.event),
      );
    expect(runEvents(raw.frames)).toEqual(runEvents(s2c));
    const chatStates = raw.frames.filter((f) => f.event === 'chat').map((f) => f.payload.state);
    expect(chatStates).toEqual(s2c.filter((f) => f.event === 'chat').map((f) => f.payload.state));
    raw.close();
    expect(raw.problems).toEqual([]);
  });
});

describe('switchyard devices', () => {
  it('lists, approves and revokes devices through the commander commands', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'devices-')), 'gateway.sqlite');
    const store = new DeviceStore(new Database(file));
    const pending = store.requestPairing({
      deviceId: 'a'.repeat(64),
      publicKey: 'pk',
      role: 'operator',
      scopes: ['operator.read'],
      clientId: 'openclaw-android',
      clientMode: 'ui',
      platform: 'android',
      remoteAddress: '192.168.1.20',
    });
    const out: string[] = [];
    const program = new Command().exitOverride();
    registerDeviceCommands(program, { openDatabase: () => new Database(file), print: (l) => out.push(l) });
    await program.parseAsync(['devices', 'list', '--status', 'pending'], { from: 'user' });
    expect(out.join('\n')).toContain('pending');
    await program.parseAsync(['devices', 'approve', pending.requestId], { from: 'user' });
    await program.parseAsync(['devices', 'revoke', 'aaaaaaaa'], { from: 'user' });
    expect(out.slice(-2).map((l) => l.split(' ')[0])).toEqual(['Approved', 'Revoked']);
    expect(new DeviceStore(new Database(file)).get('a'.repeat(64))?.status).toBe('revoked');
  });
});
