// The worker's end of the delta relay: a best-effort WebSocket client to the gateway's
// `/internal/stream`. `push` and `end` never block and never throw: frames go out at once when the
// socket is open, otherwise wait in a small bounded buffer (oldest dropped first) while the client
// reconnects with backoff. The final answer never depends on this path.
import WebSocket from 'ws';
import type { DeltaFrame, DeltaToolFrame } from './frames.js';

export interface DeltaSinkOptions {
  /** E.g. ws://127.0.0.1:18789/internal/stream. */
  url: string;
  /** The gateway token, sent as `Authorization: Bearer <token>` on the upgrade. */
  token: string;
  /** Frames kept while disconnected; the oldest is dropped beyond this. Default 1000. */
  maxBuffered?: number;
  /** Buffered frames older than this are dropped unsent: their answer is likely final by now. Default 30 s. */
  maxAgeMs?: number;
  /** Reconnect backoff bounds. Default 100 ms … 5 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told about connection trouble, at most once per outage; never required. */
  onTrouble?: (message: string) => void;
}

export interface DeltaSink {
  /** Queue a text delta for `runKey` (see deltaRunKey). Never throws, never waits. */
  push(runKey: string, text: string): void;
  /** A tool call of the answer starts or ends. Never throws, never waits. */
  tool(runKey: string, event: Omit<DeltaToolFrame, 'type' | 'runKey'>): void;
  /** No more deltas for `runKey`. Never throws, never waits. */
  end(runKey: string): void;
  /** Stop reconnecting and drop what is buffered. */
  close(): Promise<void>;
  /** Frames dropped so far (buffer full, too old, or send failed); for tests and metrics. */
  readonly dropped: number;
  readonly connected: boolean;
}

interface Queued {
  frame: DeltaFrame;
  at: number;
}

// A socket with more than this unsent is treated as busy: frames wait in our bounded buffer instead.
const MAX_SOCKET_BUFFER = 1024 * 1024;
// Run keys whose sequence counter we remember; an answer that never called end() is forgotten.
const MAX_RUNS = 10_000;

export function createDeltaSink(options: DeltaSinkOptions): DeltaSink {
  const maxBuffered = options.maxBuffered ?? 1000;
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const minBackoffMs = options.minBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const queue: Queued[] = [];
  const seqs = new Map<string, number>();
  let socket: WebSocket | undefined;
  let open = false;
  let closed = false;
  let backoffMs = minBackoffMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let troubleReported = false;
  let dropped = 0;

  function trouble(message: string): void {
    if (troubleReported) return;
    troubleReported = true;
    try {
      options.onTrouble?.(message);
    } catch {
      // A reporting hook must not break the caller either.
    }
  }

  function connect(): void {
    if (closed || socket) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(options.url, { headers: { authorization: `Bearer ${options.token}` } });
    } catch (error) {
      trouble(`delta relay: bad url ${options.url}: ${String(error)}`);
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.on('open', () => {
      open = true;
      backoffMs = minBackoffMs;
      troubleReported = false;
      flush();
    });
    ws.on('unexpected-response', (_req, res) => {
      trouble(
        `delta relay: ${options.url} refused the connection (HTTP ${res.statusCode}); ` +
          (res.statusCode === 401 ? 'check the gateway token' : 'is this the gateway?'),
      );
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error) => trouble(`delta relay: ${options.url}: ${error.message}`));
    ws.on('close', () => {
      if (socket === ws) {
        socket = undefined;
        open = false;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    const delay = backoffMs;
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delay);
    retryTimer.unref();
  }

  function flush(): void {
    const ws = socket;
    if (!ws || !open) return;
    const now = Date.now();
    while (queue.length > 0 && ws.bufferedAmount < MAX_SOCKET_BUFFER) {
      const item = queue.shift()!;
      if (now - item.at > maxAgeMs) {
        dropped++;
        continue;
      }
      try {
        ws.send(JSON.stringify(item.frame), (error) => {
          if (error) dropped++;
        });
      } catch {
        dropped++;
      }
    }
  }

  function enqueue(frame: DeltaFrame): void {
    if (closed) {
      dropped++;
      return;
    }
    queue.push({ frame, at: Date.now() });
    while (queue.length > maxBuffered) {
      queue.shift();
      dropped++;
    }
    if (open) flush();
    else connect();
  }

  return {
    push(runKey, text) {
      try {
        if (text === '') return;
        const seq = (seqs.get(runKey) ?? 0) + 1;
        seqs.delete(runKey);
        seqs.set(runKey, seq);
        if (seqs.size > MAX_RUNS) seqs.delete(seqs.keys().next().value!);
        enqueue({ type: 'delta', runKey, seq, text });
      } catch {
        dropped++;
      }
    },
    tool(runKey, event) {
      try {
        enqueue({ type: 'tool', runKey, ...event });
      } catch {
        dropped++;
      }
    },
    end(runKey) {
      try {
        seqs.delete(runKey);
        enqueue({ type: 'end', runKey });
      } catch {
        dropped++;
      }
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      dropped += queue.length;
      queue.length = 0;
      const ws = socket;
      socket = undefined;
      open = false;
      if (!ws || ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'worker shutting down');
      });
    },
    get dropped() {
      return dropped;
    },
    get connected() {
      return open;
    },
  };
}
