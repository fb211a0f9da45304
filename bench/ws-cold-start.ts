import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectOperator, ProtocolError, request } from './openclaw-client.js';
import { spawnSwitchyard, tail } from './processes.js';
import type { Measurement } from './types.js';
import { coldStartResult, freePort, round, sleep } from './util.js';

const RUNS = 5;
const POLL_MS = 20;
const TIMEOUT_MS = 60_000;

/**
 * One OpenClaw-protocol exchange on a fresh connection: connect.challenge → `connect` with the
 * gateway token → `health`. Resolves when `health` answers ok; throws a ProtocolError if the
 * gateway answered but refused (not worth retrying).
 */
async function healthOk(wsUrl: string, token: string): Promise<void> {
  const ws = await connectOperator(wsUrl, token);
  try {
    await request(ws, 'h1', 'health');
  } finally {
    ws.close();
  }
}

/**
 * Cold start to the first OpenClaw-protocol `health` OK over the WebSocket at `/` on the gateway
 * port: gateway and worker spawned at the same moment (fresh home, Temporal already up), a new
 * connection tried every 20 ms until connect + health succeed.
 */
export const wsColdStart: Measurement = {
  name: 'ws-cold-start',
  description: `cold start of gateway + worker to the first OpenClaw-protocol health OK over the WebSocket (${RUNS} runs)`,
  async run(ctx) {
    const runsMs: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const gatewayPort = await freePort();
      const options = {
        root: ctx.root,
        home: join(ctx.tmp, `ws-cold-start-${i}`),
        temporalAddress: ctx.temporal.address,
        gatewayPort,
        token: ctx.token,
        taskQueue: `bench-ws-cold-start-${process.pid}-${i}`,
      };
      const wsUrl = `ws://127.0.0.1:${gatewayPort}/`;
      const spawnedAt = performance.now();
      const processes = [spawnSwitchyard('gateway', options)];
      try {
        processes.push(spawnSwitchyard('worker', options));
        const deadline = spawnedAt + TIMEOUT_MS;
        let last = 'no answer yet';
        let okAt: number | undefined;
        while (okAt === undefined) {
          if (performance.now() > deadline)
            throw new Error(`no health OK on ${wsUrl} within ${TIMEOUT_MS} ms (last: ${last})`);
          for (const p of processes) {
            if (p.hasExited())
              throw new Error(`switchyard ${p.kind} exited before health OK. Log:\n${tail(p.logFile)}`);
          }
          const tried = performance.now();
          try {
            await healthOk(wsUrl, ctx.token);
            okAt = performance.now();
          } catch (err) {
            if (err instanceof ProtocolError) throw err;
            last = (err as Error).message;
            await sleep(Math.max(0, tried + POLL_MS - performance.now()));
          }
        }
        runsMs.push(round(okAt - spawnedAt, 1));
      } finally {
        await Promise.all(processes.map((p) => p.stop()));
      }
      ctx.log(`ws-cold-start run ${i}/${RUNS}: ${runsMs.at(-1)} ms`);
    }
    return coldStartResult(runsMs, POLL_MS, 'cold start to WS health OK');
  },
};
