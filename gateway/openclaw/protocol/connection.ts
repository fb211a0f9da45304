// One WebSocket client: challenge, connect, then requests and events. Frames are size-checked
// (64 KiB before auth, 25 MiB after) and validated before anything else looks at them.
import { randomUUID } from 'node:crypto';
import type { ErrorShape, PresenceEntry, RequestFrame } from '@openclaw/gateway-protocol';
import { validateConnectParams, validateRequestFrame } from '@openclaw/gateway-protocol';
import type { RawData, WebSocket } from 'ws';
import {
  CloseCode,
  closeReason,
  type EventFrame,
  errorFrame,
  missingScopeError,
  okFrame,
  protocolError,
  type ResponseFrame,
} from './frames.js';
import { EVENTS, type OpenclawGateway } from './gateway.js';
import { type Admission, admitConnect } from './handshake.js';
import type { MethodReply } from './idempotency.js';
import { authorizeMethod } from './scopes.js';
import {
  type ClientIdentity,
  GatewayMethodError,
  type RequestContext,
  type RunEventSink,
} from './services.js';
import { type ConnectRequest, explain } from './validators.js';

export interface ConnectionOrigin {
  remoteAddress: string;
  isLocal: boolean;
}

const TERMINAL_CHAT_STATES = new Set(['final', 'error', 'aborted']);

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function asText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

export class GatewayConnection {
  readonly connId = randomUUID();
  readonly nonce = randomUUID();
  client: ClientIdentity | undefined;
  presence: PresenceEntry | undefined;
  private phase: 'handshake' | 'connecting' | 'open' | 'closed' = 'handshake';
  private seq = 0;
  private readonly aborter = new AbortController();
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly origin: ConnectionOrigin,
    private readonly gateway: OpenclawGateway,
  ) {}

  private get log() {
    return this.gateway.config.log;
  }

  start(): void {
    this.socket.on('message', (data) => this.onMessage(data));
    this.socket.on('close', () => this.onClose());
    this.gateway.attach(this);
    this.send({ type: 'event', event: 'connect.challenge', payload: { nonce: this.nonce, ts: Date.now() } });
    this.handshakeTimer = setTimeout(
      () => this.close(CloseCode.policyViolation, 'handshake timeout'),
      this.gateway.config.handshakeTimeoutMs,
    );
  }

  /** Sends an event with this connection's next sequence number. */
  sendEvent(event: string, payload: unknown, stateVersion?: EventFrame['stateVersion']): void {
    if (this.phase !== 'open') return;
    const frame: EventFrame = { type: 'event', event, payload, seq: ++this.seq };
    if (stateVersion) frame.stateVersion = stateVersion;
    this.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.socket.close(code, closeReason(reason));
  }

  private send(frame: ResponseFrame | EventFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.gateway.config.limits.maxBufferedBytes) {
      this.log.warn({ connId: this.connId }, 'openclaw: closing slow consumer');
      this.close(CloseCode.policyViolation, 'slow consumer');
      return;
    }
    this.socket.send(JSON.stringify(frame));
  }

  private onMessage(data: RawData): void {
    if (this.phase === 'closed') return;
    const { preAuthMaxPayload, maxPayload } = this.gateway.config.limits;
    const limit = this.phase === 'open' ? maxPayload : preAuthMaxPayload;
    const size = byteLength(data);
    if (size > limit) {
      this.log.warn({ connId: this.connId, size, limit }, 'openclaw: frame too large, closing');
      this.close(CloseCode.messageTooBig, `payload too large (${size} bytes, limit ${limit})`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(asText(data));
    } catch {
      if (this.phase !== 'open') this.close(CloseCode.policyViolation, 'invalid frame: not JSON');
      return;
    }
    if (!validateRequestFrame(frame)) {
      const id = (frame as { id?: unknown } | null)?.id;
      const message = `invalid request frame: ${explain(validateRequestFrame)}`;
      if (typeof id === 'string' && id.length > 0)
        this.send(errorFrame(id, protocolError('INVALID_REQUEST', message)));
      if (this.phase !== 'open') this.close(CloseCode.policyViolation, message);
      return;
    }
    if (this.phase === 'open') {
      if (frame.method === 'connect') {
        this.send(errorFrame(frame.id, protocolError('INVALID_REQUEST', 'already connected')));
        return;
      }
      void this.dispatch(frame);
      return;
    }
    if (this.phase === 'connecting') {
      this.send(errorFrame(frame.id, protocolError('INVALID_REQUEST', 'connect in progress')));
      return;
    }
    if (frame.method !== 'connect') {
      const error = protocolError('INVALID_REQUEST', 'invalid handshake: first request must be connect');
      this.send(errorFrame(frame.id, error));
      this.close(CloseCode.policyViolation, error.message);
      return;
    }
    this.phase = 'connecting';
    void this.connect(frame).catch((err: unknown) => {
      this.log.error({ err, connId: this.connId }, 'openclaw: connect failed unexpectedly');
      this.send(
        errorFrame(
          frame.id,
          protocolError('UNAVAILABLE', 'gateway could not complete the handshake', { retryable: true }),
        ),
      );
      this.close(CloseCode.internalError, 'handshake failed');
    });
  }

  private refuse(id: string, error: ErrorShape, reason = error.message): void {
    this.send(errorFrame(id, error));
    this.close(CloseCode.policyViolation, reason);
  }

  private async connect(frame: RequestFrame): Promise<void> {
    const params = frame.params;
    if (!validateConnectParams(params)) {
      this.refuse(
        frame.id,
        protocolError('INVALID_REQUEST', `invalid connect params: ${explain(validateConnectParams)}`),
      );
      return;
    }
    const { auth, tickIntervalMs, limits, serverVersion, sessionDefaults } = this.gateway.config;
    const outcome = admitConnect(
      params,
      { nonce: this.nonce, remoteAddress: this.origin.remoteAddress, isLocal: this.origin.isLocal },
      { auth, devices: this.gateway.devices, rateLimiter: this.gateway.rateLimiter, now: Date.now },
    );
    if (!outcome.ok) {
      this.log.info(
        { connId: this.connId, remoteAddress: this.origin.remoteAddress, code: outcome.error.code },
        `openclaw: connect refused: ${outcome.error.message}`,
      );
      this.refuse(frame.id, outcome.error, outcome.closeReason);
      return;
    }
    const admission = outcome.admission;
    this.admit(params, admission);
    let health: Awaited<ReturnType<OpenclawGateway['health']>>;
    try {
      health = await this.gateway.health();
    } catch (err) {
      this.log.warn({ err }, 'openclaw: services.health() failed; hello-ok carries a minimal health');
      health = { ts: Date.now() };
    }
    if (this.phase === 'closed') return;
    const authInfo: Record<string, unknown> = { role: admission.role, scopes: admission.scopes };
    if (admission.deviceToken) {
      authInfo.deviceToken = admission.deviceToken.token;
      authInfo.issuedAtMs = admission.deviceToken.issuedAtMs;
    }
    const hello = {
      type: 'hello-ok',
      protocol: admission.protocol,
      server: { version: serverVersion, connId: this.connId },
      features: { methods: this.gateway.methodNames(), events: [...EVENTS] },
      snapshot: {
        presence: this.gateway.presence(),
        health,
        stateVersion: this.gateway.currentStateVersion(),
        uptimeMs: this.gateway.uptimeMs(),
        sessionDefaults,
        authMode: auth.mode,
      },
      auth: authInfo,
      policy: { maxPayload: limits.maxPayload, maxBufferedBytes: limits.maxBufferedBytes, tickIntervalMs },
    };
    this.phase = 'open';
    this.send(okFrame(frame.id, hello));
    this.gateway.presenceChanged();
  }

  private admit(params: ConnectRequest, admission: Admission): void {
    clearTimeout(this.handshakeTimer);
    const c = params.client;
    this.client = {
      connId: this.connId,
      clientId: c.id,
      clientMode: c.mode,
      clientVersion: c.version,
      platform: c.platform,
      role: admission.role,
      scopes: admission.scopes,
      remoteAddress: this.origin.remoteAddress,
      ...(admission.deviceId ? { deviceId: admission.deviceId } : {}),
    };
    const presence: PresenceEntry = {
      ts: Date.now(),
      version: c.version,
      platform: c.platform,
      mode: c.mode,
      reason: 'connect',
      roles: [admission.role],
      scopes: admission.scopes,
    };
    if (this.origin.remoteAddress) presence.ip = this.origin.remoteAddress;
    if (c.deviceFamily) presence.deviceFamily = c.deviceFamily;
    if (c.instanceId) presence.instanceId = c.instanceId;
    if (c.displayName) presence.host = c.displayName;
    if (admission.deviceId) presence.deviceId = admission.deviceId;
    this.presence = presence;
  }

  private async dispatch(frame: RequestFrame): Promise<void> {
    const client = this.client!;
    const { id, method } = frame;
    const params = frame.params ?? {};
    const authorized = authorizeMethod(method, client.role, client.scopes);
    if (!authorized.ok) {
      this.send(
        errorFrame(
          id,
          authorized.kind === 'scope'
            ? missingScopeError(authorized.missingScope)
            : protocolError('INVALID_REQUEST', authorized.message),
        ),
      );
      return;
    }
    const entry = this.gateway.methods.get(method);
    if (!entry) {
      const error = this.gateway.isKnownMethod(method)
        ? protocolError('UNAVAILABLE', `${method} is not available on this Switchyard gateway yet`, {
            retryable: false,
          })
        : protocolError('INVALID_REQUEST', `unknown method: ${method}`);
      this.send(errorFrame(id, error));
      return;
    }
    if (!entry.validate(params)) {
      this.send(
        errorFrame(
          id,
          protocolError('INVALID_REQUEST', `invalid ${method} params: ${explain(entry.validate)}`),
        ),
      );
      return;
    }
    const ctx: RequestContext = { client, events: this.runEventSink(), signal: this.aborter.signal };
    const call = { ctx, gateway: this.gateway };
    try {
      const key = (params as { idempotencyKey?: unknown }).idempotencyKey;
      let reply: MethodReply;
      if (entry.idempotent && typeof key === 'string' && key.length > 0) {
        const cached = this.gateway.idempotency.run(method, key, () => entry.handle(params as never, call));
        reply = await cached.reply;
        if (cached.replayed && entry.replay) reply = entry.replay(reply, this.gateway);
      } else {
        reply = await entry.handle(params as never, call);
      }
      this.send(okFrame(id, reply.payload));
      if (reply.final) {
        const final = await reply.final.then(
          (payload) => okFrame(id, payload),
          (err: unknown) => errorFrame(id, this.toError(method, err)),
        );
        this.send(final);
      }
    } catch (err) {
      this.send(errorFrame(id, this.toError(method, err)));
    }
  }

  private toError(method: string, err: unknown): ErrorShape {
    if (err instanceof GatewayMethodError) {
      return protocolError(err.code, err.message, {
        ...(err.details ? { details: err.details } : {}),
        ...(err.retryable !== undefined ? { retryable: err.retryable } : {}),
      });
    }
    this.log.error({ err, method, connId: this.connId }, 'openclaw: method failed');
    const message = err instanceof Error ? err.message : String(err);
    return protocolError('UNAVAILABLE', `${method} failed: ${message || 'internal error'}`, {
      retryable: true,
    });
  }

  private runEventSink(): RunEventSink {
    return {
      chat: (payload) => {
        if (TERMINAL_CHAT_STATES.has(payload.state)) this.gateway.markRunFinished(payload.runId);
        this.sendEvent('chat', payload);
      },
      agent: (payload) => this.sendEvent('agent', payload),
    };
  }

  private onClose(): void {
    this.phase = 'closed';
    clearTimeout(this.handshakeTimer);
    this.aborter.abort();
    this.gateway.detach(this);
  }
}
