// The fastify plugin: registers the OpenClaw-compatible WebSocket endpoint (GET `/` by default)
// and exposes the gateway as `fastify.openclaw` (broadcast, devices, node plumbing, shutdown).
// The caller must register @fastify/websocket first, with `options.maxPayload` of at least
// 25 MiB (the protocol's post-auth limit; this plugin enforces 64 KiB before auth itself).
import type { IncomingMessage } from 'node:http';
import type {} from '@fastify/websocket';
import type { Database } from 'better-sqlite3';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRateLimitOptions } from './auth-rate-limit.js';
import { GatewayConnection } from './connection.js';
import { DEFAULT_LIMITS, OpenclawGateway, type ProtocolLimits, type SessionDefaults } from './gateway.js';
import type { AuthConfig } from './handshake.js';
import type { GatewayServices } from './services.js';

export interface OpenclawProtocolOptions {
  auth: { mode: 'token' | 'password' | 'none'; token?: string; password?: string };
  db: Database;
  services: GatewayServices;
  serverVersion: string;
  /** Interval of `tick` events; OpenClaw's is 30 s. */
  tickIntervalMs?: number;
  log?: FastifyBaseLogger;
  /** Decides whether a client is on this machine (auto-paired, exempt from auth throttling). */
  isLocal?: (req: IncomingMessage) => boolean;
  rateLimit?: AuthRateLimitOptions;
  limits?: Partial<ProtocolLimits>;
  sessionDefaults?: Partial<SessionDefaults>;
  /** Time a client has to send `connect` after the challenge. */
  handshakeTimeoutMs?: number;
  /** WebSocket path; `/` as in OpenClaw. */
  path?: string;
  /** Answers plain HTTP GETs on the path (e.g. a web UI); default 426 Upgrade Required. */
  httpHandler?: (req: FastifyRequest, reply: FastifyReply) => unknown;
}

declare module 'fastify' {
  interface FastifyInstance {
    openclaw: OpenclawGateway;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Loopback peer and no proxy headers: a reverse proxy on the same host is not "local". */
export function isLoopbackRequest(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
  return LOOPBACK.test(address) && !proxied;
}

function authConfig(auth: OpenclawProtocolOptions['auth']): AuthConfig {
  if (auth.mode === 'token') {
    if (!auth.token)
      throw new Error('openclawProtocol: auth.mode "token" needs auth.token (gateway.auth.token)');
    return { mode: 'token', token: auth.token };
  }
  if (auth.mode === 'password') {
    if (!auth.password) throw new Error('openclawProtocol: auth.mode "password" needs auth.password');
    return { mode: 'password', password: auth.password };
  }
  return { mode: 'none' };
}

async function openclawProtocolPlugin(
  fastify: FastifyInstance,
  options: OpenclawProtocolOptions,
): Promise<void> {
  if (!fastify.websocketServer) {
    throw new Error('openclawProtocol: register @fastify/websocket before this plugin');
  }
  const defaultAgentId = options.sessionDefaults?.defaultAgentId ?? 'main';
  const mainKey = options.sessionDefaults?.mainKey ?? 'main';
  const gateway = new OpenclawGateway({
    auth: authConfig(options.auth),
    db: options.db,
    services: options.services,
    serverVersion: options.serverVersion,
    tickIntervalMs: options.tickIntervalMs ?? 30_000,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    sessionDefaults: {
      defaultAgentId,
      mainKey,
      mainSessionKey: options.sessionDefaults?.mainSessionKey ?? `agent:${defaultAgentId}:${mainKey}`,
    },
    rateLimit: options.rateLimit,
    log: options.log ?? fastify.log,
  });
  const isLocal = options.isLocal ?? isLoopbackRequest;
  fastify.decorate('openclaw', gateway);

  fastify.route({
    method: 'GET',
    url: options.path ?? '/',
    handler:
      options.httpHandler ??
      ((_req, reply) =>
        reply
          .code(426)
          .header('upgrade', 'websocket')
          .send('OpenClaw gateway protocol: connect with a WebSocket')),
    wsHandler: (socket, req) => {
      const origin = { remoteAddress: req.raw.socket.remoteAddress ?? 'unknown', isLocal: isLocal(req.raw) };
      new GatewayConnection(socket, origin, gateway).start();
    },
  });

  fastify.addHook('onReady', async () => gateway.startTicks());
  fastify.addHook('preClose', async () => gateway.shutdown('gateway stopping'));
}

// Like fastify-plugin: share the `openclaw` decoration and the route with the parent scope.
(openclawProtocolPlugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(openclawProtocolPlugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] =
  'openclaw-protocol';

export const openclawProtocol = openclawProtocolPlugin;
export type { OpenclawGateway } from './gateway.js';
export type * from './services.js';
