// Test harness: a real fastify gateway on a loopback port with the openclawProtocol plugin, an
// in-memory SQLite database, a raw `ws` client that checks every server frame against
// @openclaw/gateway-protocol's schemas, a recording proxy that does the same for third-party
// clients, and Ed25519 device identities made with node:crypto.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import websocket from '@fastify/websocket';
import * as schemas from '@openclaw/gateway-protocol';
import { Ajv } from 'ajv';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import WebSocket, { type RawData, WebSocketServer } from 'ws';
import { gatewayHealth } from '../../gateway/openclaw/health.js';
import { type OpenclawProtocolOptions, openclawProtocol } from '../../gateway/openclaw/protocol/plugin.js';
import type { GatewayServices } from '../../gateway/openclaw/protocol/services.js';

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
  return gatewayHealth('switchyard');
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
export type Frame = {
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

/** One frame seen by a RecordingProxy: `conn` numbers the client connections from 1. */
export interface RecordedFrame {
  conn: number;
  dir: 'c2s' | 's2c';
  frame: Frame;
}

// Close codes an endpoint may send (RFC 6455 7.4); 1005/1006 only describe what happened.
const sendableClose = (code: number) =>
  (code >= 1000 && code <= 1014 && code !== 1005 && code !== 1006 && code !== 1004) ||
  (code >= 3000 && code <= 4999);

/**
 * A WebSocket proxy between a third-party client (GatewayClient, openclaw-node) and a gateway:
 * it forwards frames unchanged both ways, records them, schema-checks every server frame
 * (frameProblems) and remembers how the gateway closed each connection.
 */
export class RecordingProxy {
  readonly frames: RecordedFrame[] = [];
  readonly problems: string[] = [];
  /** How the gateway closed connection `conn` (index conn - 1). */
  readonly closes: Promise<{ code: number; reason: string }>[] = [];
  private connections = 0;
  private waiters: { match: (r: RecordedFrame) => boolean; resolve: (r: RecordedFrame) => void }[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
    private readonly target: string,
  ) {
    server.on('connection', (client) => this.relay(client));
  }

  static async start(target: string): Promise<RecordingProxy> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new RecordingProxy(server, `ws://127.0.0.1:${port}`, target);
  }

  /** Server frames of connection `conn` (all connections when omitted). */
  received(conn?: number): Frame[] {
    return this.frames
      .filter((r) => r.dir === 's2c' && (conn === undefined || r.conn === conn))
      .map((r) => r.frame);
  }

  /** Client frames of connection `conn` (all connections when omitted). */
  sent(conn?: number): Frame[] {
    return this.frames
      .filter((r) => r.dir === 'c2s' && (conn === undefined || r.conn === conn))
      .map((r) => r.frame);
  }

  /** The first recorded frame (either direction) matching, waiting for it if need be. */
  next(match: (r: RecordedFrame) => boolean, timeoutMs = 5000): Promise<RecordedFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a proxied frame')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private record(conn: number, dir: RecordedFrame['dir'], data: RawData): void {
    let frame: Frame;
    try {
      frame = JSON.parse(data.toString()) as Frame;
    } catch {
      if (dir === 's2c') this.problems.push(`server frame is not JSON: ${data.toString().slice(0, 200)}`);
      return;
    }
    if (dir === 's2c') this.problems.push(...frameProblems(frame));
    const record = { conn, dir, frame };
    this.frames.push(record);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(record)) return true;
      w.resolve(record);
      return false;
    });
  }

  private relay(client: WebSocket): void {
    const conn = ++this.connections;
    const upstream = new WebSocket(this.target);
    const early: { data: RawData; isBinary: boolean }[] = [];
    let resolveClose: (c: { code: number; reason: string }) => void = () => {};
    this.closes[conn - 1] = new Promise((resolve) => {
      resolveClose = resolve;
    });
    client.on('message', (data, isBinary) => {
      this.record(conn, 'c2s', data);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
      else early.push({ data, isBinary });
    });
    upstream.on('open', () => {
      for (const m of early.splice(0)) upstream.send(m.data, { binary: m.isBinary });
    });
    upstream.on('message', (data, isBinary) => {
      this.record(conn, 's2c', data);
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    upstream.on('close', (code, reason) => {
      resolveClose({ code, reason: reason.toString() });
      if (client.readyState !== WebSocket.OPEN) return;
      if (sendableClose(code)) client.close(code, reason);
      else client.terminate();
    });
    client.on('close', (code, reason) => {
      if (upstream.readyState === WebSocket.CLOSED || upstream.readyState === WebSocket.CLOSING) return;
      if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
      else if (sendableClose(code)) upstream.close(code, reason);
      else upstream.close();
    });
    upstream.on('error', () => client.terminate());
    client.on('error', () => upstream.terminate());
  }
}
