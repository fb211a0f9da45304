// The protocol gateway's shared state: open connections, presence, state versions, ticks and
// broadcast. Each connection numbers its own events (seq), so a client that is not sent an
// event never sees a gap.

import type { NodeEventParams, PresenceEntry } from '@openclaw/gateway-protocol';
import type { Database } from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';
import { DeviceStore } from '../../store/devices.js';
import { AuthRateLimiter, type AuthRateLimitOptions } from './auth-rate-limit.js';
import type { GatewayConnection } from './connection.js';
import { nodePayload } from './frames.js';
import { GatewayState } from './gateway-state.js';
import type { AuthConfig } from './handshake.js';
import { IdempotencyCache } from './idempotency.js';
import { buildMethodTable, DELEGATED_METHODS, type MethodEntry } from './methods.js';
import { type NodeInvokeOutcome, NodeQueues, type NodeWorkItem } from './node-queue.js';
import { authorizeMethod, type OperatorScope } from './scopes.js';
import type { ClientIdentity, GatewayHealth, GatewayServices } from './services.js';

export const EVENTS = [
  'connect.challenge',
  'tick',
  'presence',
  'health',
  'shutdown',
  'chat',
  'agent',
  'sessions.changed',
  'voicewake.changed',
  'node.invoke.request',
  'heartbeat',
] as const;

export interface ProtocolLimits {
  /** Largest frame accepted before `connect` succeeds. */
  preAuthMaxPayload: number;
  /** Largest frame accepted after. */
  maxPayload: number;
  /** A connection whose send buffer grows past this is closed as a slow consumer. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: ProtocolLimits = {
  preAuthMaxPayload: 64 * 1024,
  maxPayload: 25 * 1024 * 1024,
  maxBufferedBytes: 50 * 1024 * 1024,
};

export interface SessionDefaults {
  defaultAgentId: string;
  mainKey: string;
  mainSessionKey: string;
}

export interface GatewayConfig {
  auth: AuthConfig;
  db: Database;
  services: GatewayServices;
  serverVersion: string;
  tickIntervalMs: number;
  handshakeTimeoutMs: number;
  limits: ProtocolLimits;
  sessionDefaults: SessionDefaults;
  rateLimit?: AuthRateLimitOptions;
  log: FastifyBaseLogger;
}

export interface NodeEventNotice {
  nodeId: string;
  client: ClientIdentity;
  event: string;
  payload: unknown;
}

export interface BroadcastFilter {
  /** Only operators holding this scope (admin holds all; write implies read). */
  scope?: OperatorScope;
  role?: 'operator' | 'node';
}

const MAX_FINISHED_RUNS = 10_000;

export class OpenclawGateway {
  readonly services: GatewayServices;
  readonly devices: DeviceStore;
  readonly state: GatewayState;
  readonly nodes = new NodeQueues();
  readonly idempotency = new IdempotencyCache();
  readonly rateLimiter: AuthRateLimiter;
  readonly methods: Map<string, MethodEntry>;
  readonly startedAt = Date.now();
  lastHeartbeat: Record<string, unknown> | undefined;
  private readonly connections = new Set<GatewayConnection>();
  private readonly stateVersion = { presence: 0, health: 0 };
  private readonly finishedRuns = new Set<string>();
  private readonly nodeEventListeners = new Set<(notice: NodeEventNotice) => boolean | undefined>();
  private tickTimer: NodeJS.Timeout | undefined;

  constructor(readonly config: GatewayConfig) {
    this.services = config.services;
    this.devices = new DeviceStore(config.db);
    this.state = new GatewayState(config.db);
    this.rateLimiter = new AuthRateLimiter(config.rateLimit);
    this.methods = buildMethodTable(config.services);
  }

  /** Method names announced in hello-ok: what this gateway answers with something other than UNAVAILABLE. */
  methodNames(): string[] {
    return ['connect', ...this.methods.keys()];
  }

  isKnownMethod(method: string): boolean {
    return this.methods.has(method) || method in DELEGATED_METHODS;
  }

  async health(): Promise<GatewayHealth> {
    return await this.services.health();
  }

  presence(): PresenceEntry[] {
    return [...this.connections].flatMap((c) => (c.presence ? [c.presence] : []));
  }

  currentStateVersion(): { presence: number; health: number } {
    return { ...this.stateVersion };
  }

  uptimeMs(): number {
    return Date.now() - this.startedAt;
  }

  attach(connection: GatewayConnection): void {
    this.connections.add(connection);
  }

  /** Called once a connection is admitted or has closed: presence changed. */
  presenceChanged(): void {
    this.stateVersion.presence += 1;
    this.broadcast('presence', { presence: this.presence() }, { scope: 'operator.read' });
  }

  detach(connection: GatewayConnection): void {
    const wasOpen = this.connections.delete(connection) && connection.presence !== undefined;
    if (wasOpen) this.presenceChanged();
  }

  /** Sends an event to every admitted connection that passes the filter. */
  broadcast(event: string, payload: unknown, filter: BroadcastFilter = {}): void {
    const stateVersion = this.currentStateVersion();
    for (const connection of this.connections) {
      const client = connection.client;
      if (!client) continue;
      if (filter.role && client.role !== filter.role) continue;
      if (
        filter.scope &&
        (client.role !== 'operator' ||
          !authorizeMethod(scopeProbe(filter.scope), 'operator', client.scopes).ok)
      )
        continue;
      connection.sendEvent(event, payload, stateVersion);
    }
  }

  /** Broadcasts a fresh health summary to operators. */
  async broadcastHealth(): Promise<void> {
    const health = await this.health();
    this.stateVersion.health += 1;
    this.broadcast('health', health, { scope: 'operator.read' });
  }

  startTicks(): void {
    if (this.tickTimer) return;
    this.tickTimer = setInterval(
      () => this.broadcast('tick', { ts: Date.now() }),
      this.config.tickIntervalMs,
    );
    this.tickTimer.unref();
  }

  /** Tells every client the gateway is going away, then closes their sockets. */
  shutdown(reason: string, restartExpectedMs?: number): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    const payload = restartExpectedMs === undefined ? { reason } : { reason, restartExpectedMs };
    this.broadcast('shutdown', payload);
    for (const connection of this.connections) connection.close(1012, 'gateway shutting down');
  }

  markRunFinished(runId: string): void {
    this.finishedRuns.add(runId);
    if (this.finishedRuns.size > MAX_FINISHED_RUNS) {
      const oldest = this.finishedRuns.values().next().value;
      if (oldest !== undefined) this.finishedRuns.delete(oldest);
    }
  }

  isRunFinished(runId: string): boolean {
    return this.finishedRuns.has(runId);
  }

  nodeIdOf(client: ClientIdentity): string {
    return client.deviceId ?? client.connId;
  }

  /** Subscribes to `node.event` requests; return true from the listener when it handled one. */
  onNodeEvent(listener: (notice: NodeEventNotice) => boolean | undefined): () => void {
    this.nodeEventListeners.add(listener);
    return () => this.nodeEventListeners.delete(listener);
  }

  emitNodeEvent(client: ClientIdentity, params: NodeEventParams): boolean {
    const payload = nodePayload(params);
    const notice = { nodeId: this.nodeIdOf(client), client, event: params.event, payload };
    let handled = false;
    for (const listener of this.nodeEventListeners) handled = listener(notice) === true || handled;
    return handled;
  }

  enqueueNodeWork(nodeId: string, item: Omit<NodeWorkItem, 'id' | 'createdAtMs'>): NodeWorkItem {
    return this.nodes.enqueue(nodeId, item);
  }

  /** Asks a connected node to run a command; resolves with its node.invoke.result. */
  invokeNode(
    nodeId: string,
    command: string,
    params: unknown,
    timeoutMs = 30_000,
  ): Promise<NodeInvokeOutcome> {
    const node = [...this.connections].find(
      (c) => c.client?.role === 'node' && this.nodeIdOf(c.client) === nodeId,
    );
    if (!node)
      return Promise.resolve({
        ok: false,
        error: { code: 'NOT_CONNECTED', message: `node ${nodeId} is not connected` },
      });
    const { id, outcome } = this.nodes.awaitInvoke(nodeId, timeoutMs);
    node.sendEvent('node.invoke.request', {
      id,
      nodeId,
      command,
      paramsJSON: JSON.stringify(params ?? null),
      timeoutMs,
    });
    return outcome;
  }

  connectionCount(): number {
    return this.connections.size;
  }
}

// A method that needs exactly `scope`, used to reuse the method authorizer for event filtering.
function scopeProbe(scope: OperatorScope): string {
  const probes: Record<OperatorScope, string> = {
    'operator.read': 'health',
    'operator.write': 'chat.send',
    'operator.admin': 'set-heartbeats',
    'operator.approvals': 'exec.approval.resolve',
    'operator.pairing': 'device.pair.list',
  };
  return probes[scope];
}
