/**
 * The OpenClaw gateway protocol as the bench speaks it, over ws-client.ts: the handshake
 * (connect.challenge → `connect` with the gateway token as an operator), a request answered by a
 * `res` frame, and waiting for the next frame that matches (skipping ticks, presence…).
 */
import { performance } from 'node:perf_hooks';
import { openWs, type WsClient } from './ws-client.js';

/** Any frame of the protocol, loosely typed: the bench reads only these fields. */
export interface Frame {
  type?: string;
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: unknown;
  error?: { code?: string; message?: string };
}

/** The gateway answered but refused: retrying would not help. */
export class ProtocolError extends Error {}

/** The next frame that matches, skipping others; rejects when none comes within timeoutMs. */
export async function until(ws: WsClient, match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const f = (await ws.next(Math.max(1, deadline - performance.now()))) as Frame;
    if (match(f)) return f;
  }
}

/**
 * A new connection that has passed the handshake: protocol 4, the gateway token, role operator
 * with `scopes`. Throws a ProtocolError when the gateway refuses the connect.
 */
export async function connectOperator(
  wsUrl: string,
  token: string,
  scopes: string[] = ['operator.read'],
): Promise<WsClient> {
  const ws = await openWs(wsUrl);
  try {
    await until(ws, (f) => f.type === 'event' && f.event === 'connect.challenge');
    ws.send({
      type: 'req',
      id: 'connect',
      method: 'connect',
      params: {
        minProtocol: 4,
        maxProtocol: 4,
        client: { id: 'cli', version: 'bench', platform: 'linux', deviceFamily: 'Linux', mode: 'cli' },
        caps: [],
        auth: { token },
        role: 'operator',
        scopes,
      },
    });
    const hello = await until(ws, (f) => f.type === 'res' && f.id === 'connect');
    if (!hello.ok) throw new ProtocolError(`connect refused: ${JSON.stringify(hello.error)}`);
    return ws;
  } catch (err) {
    ws.close();
    throw err;
  }
}

/** Sends a request and resolves with its (first) `res` frame; a ProtocolError when it is not ok. */
export async function request(
  ws: WsClient,
  id: string,
  method: string,
  params?: unknown,
  timeoutMs = 10_000,
): Promise<Frame> {
  ws.send({ type: 'req', id, method, ...(params === undefined ? {} : { params }) });
  const res = await until(ws, (f) => f.type === 'res' && f.id === id, timeoutMs);
  if (!res.ok) throw new ProtocolError(`${method} refused: ${JSON.stringify(res.error)}`);
  return res;
}
