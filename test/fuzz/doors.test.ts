// Bad input, measured: property-based fuzzing (fast-check) of every door of Switchyard. For each
// door: no crash, no unhandled rejection, no state change (no workflow started on the install's
// task queue, no row added to the gateway's SQLite), and a clear error. Then a sentinel — one
// good input through the same door — proves the door still works (ordering, not sleeping).
// The number of inputs tried per door is printed at the end (and recorded in docs/fuzzing.md).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { SECRET_HEADER } from '../../channels/telegram/webhook.js';
import { ConfigError } from '../../config/errors.js';
import { parseConfigSource } from '../../config/load.js';
import { compilePipeline } from '../../engine/compile.js';
import { startTelegramStack, type TelegramStack } from '../helpers/telegram-stack.js';
import { until } from '../helpers/until.js';

const counts: Record<string, number> = {};
const count = (door: string) => {
  counts[door] = (counts[door] ?? 0) + 1;
};
const RUNS = Number(process.env.SWITCHYARD_FUZZ_RUNS ?? 150);

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** JSON-ish values, including the shapes doors expect with wrong types, huge and odd strings. */
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 300 }),
  // The fields doors read, with wrong types (a string would be a valid message, not junk).
  fc.record(
    {
      text: fc.anything({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
      message: fc.anything({ maxDepth: 2 }).filter((v) => typeof v !== 'string'),
    },
    { requiredKeys: [] },
  ),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
);

describe('fuzzing the files a person edits', () => {
  it(`switchyard.yaml: any text is loaded or refused with a ConfigError naming where (${RUNS * 2} inputs)`, () => {
    const keys = [
      'gateway',
      'temporal',
      'channels',
      'agents',
      'providers',
      'cron',
      'memory',
      'media',
      'session',
      'bindings',
    ];
    const yamlish = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc
        .array(fc.tuple(fc.constantFrom(...keys, 'x'), fc.jsonValue({ maxDepth: 3 })), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n')),
    );
    fc.assert(
      fc.property(yamlish, (source) => {
        count('switchyard.yaml');
        try {
          parseConfigSource(source, '/fuzz/switchyard.yaml');
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).toMatch(/\/fuzz\/switchyard\.yaml/);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it(`pipeline files: any text compiles or comes back as errors with file:line:col, never a throw (${RUNS * 2} inputs)`, () => {
    const stepish = fc
      .array(
        fc.record(
          {
            id: fc.string({ maxLength: 8 }),
            uses: fc.constantFrom('agent.turn', 'reply.send', 'memory.recall', 'nope', ''),
            if: fc.string({ maxLength: 30 }),
            with: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
            needs: fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      )
      .map((steps) => JSON.stringify({ name: 'fuzz', steps }));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400 }), stepish), (source) => {
        count('pipeline file');
        const result = compilePipeline(source, '/fuzz/p.yaml');
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) expect(typeof e.message).toBe('string');
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('fuzzing the network doors of a running gateway (real worker, Temporal, Telegram at the wire)', () => {
  const address = inject('temporalAddress');
  const OWNER = 4242;
  const SECRET = 'fuzz-webhook-secret-0123';
  let stack: TelegramStack;
  let base: string;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    stack = await startTelegramStack(address, {
      name: 'fuzz',
      telegram: [
        'mode: webhook',
        `webhookSecret: "${SECRET}"`,
        'dmPolicy: allowlist',
        `allowFrom: ["${OWNER}"]`,
      ],
    });
    base = `http://127.0.0.1:${(stack.gateway.app.server.address() as { port: number }).port}`;
    // The connector answers 503 until it has started (getMe): wait for a real answer.
    await until(async () => {
      const res = await fetch(`${base}/channels/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SECRET_HEADER]: SECRET },
        body: '{}',
      });
      return res.status === 503 ? undefined : res.status;
    }, 30_000);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await stack?.close();
    console.log(
      `[fuzz] inputs tried per door:\n${Object.entries(counts)
        .map(([door, n]) => `  ${door.padEnd(40)} ${n}`)
        .join('\n')}`,
    );
  });

  /** What a bad input must not change: workflows on the install's task queue, the gateway's SQLite. */
  const state = async () => {
    const rows = ['outbox', 'inbound_journal', 'pairing_requests', 'allowed_senders', 'openclaw_devices']
      .map(
        (table) =>
          `${table}:${(stack.gateway.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n}`,
      )
      .join(',');
    let workflows = 0;
    for await (const _ of stack.gateway.client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` }))
      workflows++;
    return `${rows};workflows:${workflows}`;
  };
  const alive = async () => expect((await fetch(`${base}/healthz`)).status).toBe(200);

  it(`HTTP bodies of each endpoint: a 4xx with an error message, nothing started or stored (${RUNS} inputs per endpoint)`, async () => {
    const before = await state();
    const accepted: string[] = [];
    const endpoints: Array<{ path: string; auth: Record<string, string> }> = [
      { path: '/v1/echo', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/v1/chat/completions', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/hooks/agent', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/hooks/wake', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/codec/encode', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/codec/decode', auth: { authorization: `Bearer ${stack.token}` } },
      { path: '/chat/upload', auth: { authorization: `Bearer ${stack.token}` } },
      // Unauthenticated: every body is refused before it is read.
      { path: '/v1/chat/completions', auth: {} },
      { path: '/hooks/agent', auth: { authorization: 'Bearer wrong' } },
      { path: '/codec/decode', auth: {} },
    ];
    for (const { path, auth } of endpoints) {
      const door = `HTTP POST ${path}${Object.keys(auth).length === 0 || auth.authorization === 'Bearer wrong' ? ' (no token)' : ''}`;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            junk.map((v) => ({ body: JSON.stringify(v), type: 'application/json' })),
            fc.string({ maxLength: 200 }).map((s) => ({ body: s, type: 'application/json' })),
            fc
              .uint8Array({ maxLength: 200 })
              .map((b) => ({ body: Buffer.from(b), type: 'application/octet-stream' })),
          ),
          async ({ body, type }) => {
            count(door);
            const res = await stack.gateway.app.inject({
              method: 'POST',
              url: path,
              headers: { 'content-type': type, ...auth },
              payload: body,
            });
            // Nothing may crash (5xx) and a refusal says why. Codec payloads and uploaded files are
            // data of any shape, so accepting them is right; anywhere else junk must be refused.
            expect(res.statusCode, `${path} ${res.body.slice(0, 200)}`).toBeLessThan(500);
            if (res.statusCode < 300 && !path.startsWith('/codec') && path !== '/chat/upload')
              accepted.push(`${path} ← ${String(body).slice(0, 120)}`);
            if (res.statusCode >= 400) expect(res.body.length).toBeGreaterThan(0);
          },
        ),
        { numRuns: path.startsWith('/codec') || path === '/v1/echo' ? Math.ceil(RUNS / 3) : RUNS },
      );
    }
    expect(accepted, 'junk accepted as a valid request').toEqual([]);
    expect(await state()).toBe(before);
    await alive();
  }, 300_000);

  it(`Telegram updates through the connector's webhook: 200 or a refusal, nothing started for strangers or junk (${RUNS} inputs)`, async () => {
    const before = await state();
    const stranger = fc.integer({ min: 10_000, max: 2 ** 40 });
    const update = fc.oneof(
      junk,
      fc.record(
        {
          update_id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
          message: fc.record(
            {
              message_id: fc.oneof(fc.integer(), fc.string()),
              date: fc.oneof(fc.integer(), fc.string()),
              chat: fc.record(
                {
                  id: fc.oneof(stranger, fc.string()),
                  type: fc.constantFrom('private', 'group', 'supergroup', 'channel', 'x'),
                },
                { requiredKeys: [] },
              ),
              from: fc.record(
                { id: fc.oneof(stranger, fc.string()), is_bot: fc.boolean(), first_name: fc.string() },
                { requiredKeys: [] },
              ),
              text: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.constant(null)),
              entities: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
              photo: fc.anything({ maxDepth: 2 }),
            },
            { requiredKeys: [] },
          ),
          edited_message: fc.anything({ maxDepth: 2 }),
          callback_query: fc.anything({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(update, fc.boolean(), async (body, withSecret) => {
        count(`Telegram webhook${withSecret ? '' : ' (no secret)'}`);
        const res = await fetch(`${base}/channels/telegram/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(withSecret ? { [SECRET_HEADER]: SECRET } : {}) },
          body: JSON.stringify(body),
        });
        expect(res.status).toBeLessThan(500);
        if (!withSecret) expect(res.status).toBe(401);
      }),
      { numRuns: RUNS },
    );
    expect(await state()).toBe(before);
    // The sentinel: the owner's message through the same door is answered.
    stack.agent.answerWith(() => 'still here');
    const sentinel = {
      update_id: 900_001,
      message: {
        message_id: 77,
        date: Math.floor(Date.now() / 1000),
        chat: { id: OWNER, type: 'private' },
        from: { id: OWNER, is_bot: false, first_name: 'O' },
        text: 'are you still there?',
      },
    };
    const ok = await fetch(`${base}/channels/telegram/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SECRET_HEADER]: SECRET },
      body: JSON.stringify(sentinel),
    });
    expect(ok.status).toBe(200);
    await until(
      async () => stack.telegram.calls('sendMessage').find((c) => JSON.stringify(c).includes('still here')),
      60_000,
      250,
    );
  }, 300_000);

  it(`OpenClaw WebSocket frames before and after the handshake: an error frame or a close, never a crash (${RUNS} + ${RUNS} inputs)`, async () => {
    const before = await state();
    const wsUrl = base.replace(/^http/, 'ws');
    const frame = fc.oneof(
      junk.map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
      fc
        .record(
          {
            type: fc.constantFrom('req', 'res', 'event', 'x'),
            id: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
            method: fc.constantFrom(
              'connect',
              'chat.send',
              'sessions.list',
              'config.get',
              'exec.approval.resolve',
              'cron.add',
              'nope',
              '',
            ),
            params: fc.anything({ maxDepth: 3 }),
          },
          { requiredKeys: [] },
        )
        .map((f) => JSON.stringify(f)),
    );
    const open = async () => {
      const ws = new WebSocket(wsUrl);
      const frames: Array<Record<string, unknown>> = [];
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
      ws.on('error', () => {});
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      return { ws, frames, closed };
    };
    // Before the handshake: each junk frame on a fresh connection gets an error response or a close.
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        count('OpenClaw WS frame before handshake');
        const c = await open();
        await until(async () => c.frames.find((f) => f.event === 'connect.challenge'), 5_000, 20);
        c.ws.send(text);
        const outcome = await Promise.race([
          c.closed.then((code) => `closed ${code}`),
          until(async () => c.frames.find((f) => f.type === 'res'), 5_000, 20).then(
            (f) => `res ${JSON.stringify(f).slice(0, 80)}`,
          ),
        ]);
        expect(outcome).toMatch(/^(closed|res)/);
        c.ws.close();
      }),
      { numRuns: RUNS },
    );
    // After a good handshake: junk requests get a response (an error one, with a message, for
    // junk); junk that is not a request may close the connection (a protocol error), and then the
    // next input is sent on a new one. The last connection still answers `health`.
    const handshaken = async () => {
      const conn = await open();
      await until(async () => conn.frames.find((f) => f.event === 'connect.challenge'), 5_000, 20);
      conn.ws.send(
        JSON.stringify({
          type: 'req',
          id: 'hello',
          method: 'connect',
          params: {
            minProtocol: 4,
            maxProtocol: 4,
            client: { id: 'cli', version: 'fuzz', platform: 'linux', mode: 'cli' },
            caps: [],
            auth: { token: stack.token },
            role: 'operator',
            scopes: ['operator.read'],
          },
        }),
      );
      const hello = await until(async () => conn.frames.find((f) => f.id === 'hello'), 10_000, 20);
      expect(hello.ok, JSON.stringify(hello)).toBe(true);
      return conn;
    };
    let c = await handshaken();
    let n = 0;
    let reconnects = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        count('OpenClaw WS frame after handshake');
        if (c.ws.readyState !== WebSocket.OPEN) {
          reconnects++;
          c = await handshaken();
        }
        // Frames that parse as requests are given a fresh id, so the answer can be matched.
        const id = `fuzz-${n++}`;
        let sent = text;
        try {
          const parsed = JSON.parse(text) as unknown;
          if (
            parsed &&
            typeof parsed === 'object' &&
            !Array.isArray(parsed) &&
            (parsed as { type?: unknown }).type === 'req'
          ) {
            sent = JSON.stringify({ ...(parsed as object), id });
          }
        } catch {
          // not JSON: sent as it is
        }
        const conn = c;
        conn.ws.send(sent);
        if (sent !== text) {
          const outcome = await Promise.race([
            conn.closed.then(() => undefined),
            until(async () => conn.frames.find((f) => f.id === id), 10_000, 10),
          ]);
          if (outcome && outcome.ok === false)
            expect(JSON.stringify(outcome.error)).toMatch(/"message":"[^"]+/);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(
      `[fuzz] OpenClaw after handshake: ${reconnects} inputs closed the connection (a new one was opened)`,
    );
    if (c.ws.readyState !== WebSocket.OPEN) c = await handshaken();
    c.ws.send(JSON.stringify({ type: 'req', id: 'final-health', method: 'health', params: {} }));
    const health = await until(async () => c.frames.find((f) => f.id === 'final-health'), 10_000, 20);
    expect(health.ok).toBe(true);
    c.ws.close();
    expect(await state()).toBe(before);
    await alive();
    expect(
      unhandled.map((u) => createHash('sha1').update(String(u)).digest('hex').slice(0, 6) + String(u)),
    ).toEqual([]);
  }, 300_000);
});
