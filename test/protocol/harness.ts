// Test harness: a real fastify gateway on a loopback port with the openclawProtocol plugin, an
// in-memory SQLite database, a raw `ws` client that checks every server frame against
// @openclaw/gateway-protocol's schemas, and Ed25519 device identities made with node:crypto.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import websocket from '@fastify/websocket';
import * as schemas from '@openclaw/gateway-protocol';
import { Ajv } from 'ajv';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { type OpenclawProtocolOptions, openclawProtocol } from '../../gateway/protocol/plugin.js';
import type { GatewayServices } from '../../gateway/protocol/services.js';

export const TOKEN = 'test-token-0123456789';

const ajv = new Ajv({ strict: false, allErrors: true });
export const check = {
  response: ajv.compile(schemas.ResponseFrameSchema),
  event: ajv.compile(schemas.EventFrameSchema),
  helloOk: ajv.compile(schemas.HelloOkSchema),
  chat: ajv.compile(schemas.ChatEventSchema),
  agent: ajv.compile(schemas.AgentEventSchema),
  tick: ajv.compile(schemas.TickEventSchema),
  shutdown: ajv.compile(schemas.ShutdownEventSchema),
  presenceEntry: ajv.compile(schemas.PresenceEntrySchema),
};

/** Validates one server frame (envelope, and payloads that have a published schema); returns problems. */
export function frameProblems(frame: unknown): string[] {
  const f = frame as { type?: string; event?: string; payload?: unknown; ok?: boolean };
  const problems: string[] = [];
  const explain = (name: string, v: { errors?: unknown }) =>
    problems.push(`${name}: ${ajv.errorsText(v.errors as never)} in ${JSON.stringify(frame).slice(0, 300)}`);
  if (f.type === 'res') {
    if (!check.response(frame)) explain('res', check.response);
    const payload = f.payload as { type?: string } | undefined;
    if (f.ok && payload?.type === 'hello-ok' && !check.helloOk(payload)) explain('hello-ok', check.helloOk);
  } else if (f.type === 'event') {
    if (!check.event(frame)) explain('event', check.event);
    const byEvent: Record<string, (typeof check)[keyof typeof check]> = {
      chat: check.chat,
      agent: check.agent,
      tick: check.tick,
      shutdown: check.shutdown,
    };
    const validator = f.event ? byEvent[f.event] : undefined;
    if (validator && !validator(f.payload)) explain(f.event ?? '?', validator);
  } else problems.push(`unknown frame type: ${JSON.stringify(frame).slice(0, 200)}`);
  return problems;
}

export function testHealth(): Awaited<ReturnType<GatewayServices['health']>> {
  return {
    ok: true,
    ts: Date.now(),
    durationMs: 0,
    channels: {},
    channelOrder: [],
    channelLabels: {},
    heartbeatSeconds: 0,
    defaultAgentId: 'main',
    sessions: { path: 'switchyard', count: 0, recent: [] },
  };
}

export interface Gateway {
  app: FastifyInstance;
  url: string;
  db: Database.Database;
  close(): Promise<void>;
}

export async function startGateway(
  services: GatewayServices,
  overrides: Partial<OpenclawProtocolOptions> & { isLocal?: (req: IncomingMessage) => boolean } = {},
): Promise<Gateway> {
  const app = Fastify({ logger: false });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 * 1024 } });
  const db = new Database(':memory:');
  await app.register(openclawProtocol, {
    auth: { mode: 'token', token: TOKEN },
    db,
    services,
    serverVersion: '0.1.0-test',
    ...overrides,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    url: `ws://127.0.0.1:${port}`,
    db,
    async close() {
      await app.close();
      db.close();
    },
  };
}

// Frames are schema-checked on arrival; tests then read them freely.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Loose = any;
type Frame = {
  type: string;
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: Loose;
  error?: Loose;
  seq?: number;
};

/** A raw WebSocket client that records and schema-checks every frame the gateway sends. */
export class RawClient {
  readonly frames: Frame[] = [];
  readonly problems: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.problems.push(...frameProblems(frame));
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    const client = new RawClient(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return client;
  }

  next(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  challenge(): Promise<Frame> {
    return this.next((f) => f.event === 'connect.challenge');
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  request(id: string, method: string, params?: unknown): Promise<Frame> {
    this.send({ type: 'req', id, method, ...(params === undefined ? {} : { params }) });
    return this.next((f) => f.type === 'res' && f.id === id);
  }

  close(): void {
    this.ws.close();
  }
}

export function connectParams(extra: Record<string, unknown> = {}) {
  return {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: 'cli', version: 'test', platform: 'linux', deviceFamily: 'Linux', mode: 'cli' },
    caps: [],
    auth: { token: TOKEN },
    role: 'operator',
    scopes: ['operator.read', 'operator.write'],
    ...extra,
  };
}

/** A fresh Ed25519 device identity, in the shapes both the raw client and GatewayClient want. */
export function makeDevice() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const deviceId = createHash('sha256').update(raw).digest('hex');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return {
    deviceId,
    publicKeyRaw: raw.toString('base64url'),
    privateKeyPem,
    publicKeyPem,
    sign: (payload: string) => sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64url'),
  };
}

/** Signs the v3 device payload exactly as OpenClaw clients do. */
export function signedDevice(
  device: ReturnType<typeof makeDevice>,
  nonce: string,
  opts: {
    scopes: string[];
    token?: string;
    clientId?: string;
    mode?: string;
    platform?: string;
    family?: string;
  },
) {
  const signedAt = Date.now();
  const payload = [
    'v3',
    device.deviceId,
    opts.clientId ?? 'cli',
    opts.mode ?? 'cli',
    'operator',
    opts.scopes.join(','),
    String(signedAt),
    opts.token ?? '',
    nonce,
    (opts.platform ?? 'linux').toLowerCase(),
    (opts.family ?? 'Linux').toLowerCase(),
  ].join('|');
  return {
    id: device.deviceId,
    publicKey: device.publicKeyRaw,
    signature: device.sign(payload),
    signedAt,
    nonce,
  };
}
