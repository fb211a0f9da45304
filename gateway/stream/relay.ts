// `/internal/stream`: workers push live token deltas here (activities/stream/sink.ts), and the
// relay publishes them to the hub. Authenticated by the gateway token on the upgrade; each
// connection is held to a frame size and a frame rate. Anything wrong with a frame drops that
// frame only: deltas are best-effort, the final answer arrives through the workflow.
import type {} from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { DeltaFrame } from '../../activities/stream/frames.js';
import { compileSchema, formatIssues } from '../../channels/schema-validation.js';
import { requireToken } from '../auth.js';
import type { DeltaHub } from './hub.js';

export const DELTA_RELAY_PATH = '/internal/stream';

export interface DeltaRelayLimits {
  /** Largest frame accepted; a bigger one closes the connection (1009). Default 64 KiB. */
  maxFrameBytes: number;
  /** Sustained frames per second per connection; frames beyond it are dropped. Default 2000. */
  framesPerSecond: number;
  /** Frames allowed in a burst above the rate. Default 4000. */
  burst: number;
}

export interface DeltaRelayOptions {
  hub: DeltaHub;
  token: string;
  limits?: Partial<DeltaRelayLimits>;
  log?: FastifyBaseLogger;
}

export const DEFAULT_RELAY_LIMITS: DeltaRelayLimits = {
  maxFrameBytes: 64 * 1024,
  framesPerSecond: 2000,
  burst: 4000,
};

const deltaFrameSchema = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'runKey', 'seq', 'text'],
      properties: {
        type: { const: 'delta' },
        runKey: { type: 'string', minLength: 1, maxLength: 1024 },
        seq: { type: 'integer', minimum: 1 },
        text: { type: 'string' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'runKey'],
      properties: {
        type: { const: 'end' },
        runKey: { type: 'string', minLength: 1, maxLength: 1024 },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'runKey', 'phase', 'name', 'toolCallId'],
      properties: {
        type: { const: 'tool' },
        runKey: { type: 'string', minLength: 1, maxLength: 1024 },
        phase: { enum: ['start', 'end'] },
        name: { type: 'string', minLength: 1, maxLength: 256 },
        toolCallId: { type: 'string', minLength: 1, maxLength: 512 },
        isError: { type: 'boolean' },
      },
    },
  ],
};

export const checkDeltaFrame = compileSchema<DeltaFrame>(deltaFrameSchema);

/** Registers the relay route; @fastify/websocket must be registered first. */
export async function deltaRelayPlugin(app: FastifyInstance, options: DeltaRelayOptions): Promise<void> {
  if (!app.websocketServer)
    throw new Error('deltaRelayPlugin: register @fastify/websocket before this plugin');
  if (!options.token) throw new Error('deltaRelayPlugin: a gateway token is required');
  const limits = { ...DEFAULT_RELAY_LIMITS, ...options.limits };
  const log = options.log ?? app.log;
  app.get(DELTA_RELAY_PATH, { websocket: true, preValidation: requireToken(options.token) }, (socket, req) =>
    serveWorker(socket, options.hub, limits, log.child({ worker: req.socket.remoteAddress })),
  );
}

function serveWorker(socket: WebSocket, hub: DeltaHub, limits: DeltaRelayLimits, log: FastifyBaseLogger) {
  let tokens = limits.burst;
  let refilledAt = Date.now();
  const warned = new Set<string>();
  const warnOnce = (kind: string, obj: object, msg: string) => {
    if (warned.has(kind)) return;
    warned.add(kind);
    log.warn(obj, msg);
  };
  socket.on('message', (data: RawData, isBinary: boolean) => {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (size > limits.maxFrameBytes) {
      log.warn({ size, limit: limits.maxFrameBytes }, 'delta relay: frame too large; closing the connection');
      socket.close(1009, 'frame too large');
      return;
    }
    const now = Date.now();
    tokens = Math.min(limits.burst, tokens + ((now - refilledAt) / 1000) * limits.framesPerSecond);
    refilledAt = now;
    if (tokens < 1) {
      warnOnce(
        'rate',
        { framesPerSecond: limits.framesPerSecond },
        'delta relay: over the frame rate; dropping',
      );
      return;
    }
    tokens--;
    if (isBinary) {
      warnOnce('binary', {}, 'delta relay: binary frame dropped; frames are JSON text');
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString());
    } catch {
      warnOnce('json', {}, 'delta relay: frame is not JSON; dropped');
      return;
    }
    const checked = checkDeltaFrame(value);
    if (!checked.ok) {
      warnOnce('schema', { issues: formatIssues(checked.errors) }, 'delta relay: invalid frame dropped');
      return;
    }
    hub.publish(checked.value);
  });
  socket.on('error', (error) => log.debug({ err: error }, 'delta relay: worker connection error'));
}
