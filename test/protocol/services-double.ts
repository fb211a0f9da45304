// TEST DOUBLE of GatewayServices. The real services are the lead's session/message workflows on
// Temporal (not written yet); this double stands in for them only so the protocol layer can be
// exercised end to end. It answers "pong" to every message, streaming one delta then a final.
import type {
  AgentFinal,
  GatewayServices,
  RequestContext,
} from '../../gateway/openclaw/protocol/services.js';
import { testHealth } from './harness.js';

function streamPong(runId: string, sessionKey: string, ctx: RequestContext): Promise<void> {
  const ts = () => Date.now();
  const message = (text: string) => ({
    role: 'assistant',
    content: [{ type: 'text', text }],
    timestamp: ts(),
  });
  return new Promise((resolve) => {
    setTimeout(() => {
      ctx.events.agent({
        runId,
        seq: 1,
        stream: 'lifecycle',
        ts: ts(),
        data: { phase: 'start', startedAt: ts() },
      });
      ctx.events.agent({ runId, seq: 2, stream: 'assistant', ts: ts(), data: { text: 'po', delta: 'po' } });
      ctx.events.chat({ runId, sessionKey, seq: 2, state: 'delta', deltaText: 'po', message: message('po') });
      setTimeout(() => {
        ctx.events.agent({
          runId,
          seq: 3,
          stream: 'assistant',
          ts: ts(),
          data: { text: 'pong', delta: 'ng' },
        });
        ctx.events.agent({
          runId,
          seq: 4,
          stream: 'lifecycle',
          ts: ts(),
          data: { phase: 'end', endedAt: ts() },
        });
        ctx.events.chat({
          runId,
          sessionKey,
          seq: 4,
          state: 'final',
          stopReason: 'stop',
          message: message('pong'),
        });
        resolve();
      }, 20);
    }, 10);
  });
}

export function pongServices(
  overrides: Partial<GatewayServices> = {},
): GatewayServices & { chatSendCalls: number } {
  const transcript = new Map<string, unknown[]>();
  const remember = (sessionKey: string, text: string) => {
    const list = transcript.get(sessionKey) ?? [];
    list.push(
      { role: 'user', content: text },
      { role: 'assistant', content: [{ type: 'text', text: 'pong' }] },
    );
    transcript.set(sessionKey, list);
  };
  const services = {
    chatSendCalls: 0,
    health: testHealth,
    status: () => ({
      runtimeVersion: '0.1.0-test',
      sessions: { count: transcript.size },
      channelSummary: [],
    }),
    async chatSend(params, ctx) {
      services.chatSendCalls += 1;
      const runId = params.idempotencyKey;
      remember(params.sessionKey, params.message);
      void streamPong(runId, params.sessionKey, ctx);
      return { runId, status: 'started' as const };
    },
    async agentRun(params, ctx) {
      const runId = params.idempotencyKey;
      const sessionKey = params.sessionKey ?? `agent:main:explicit:${params.sessionId ?? 'main'}`;
      const acceptedAt = Date.now();
      remember(sessionKey, params.message);
      const final: Promise<AgentFinal> = streamPong(runId, sessionKey, ctx).then(() => ({
        runId,
        status: 'ok' as const,
        summary: 'completed',
        result: {
          payloads: [{ text: 'pong', mediaUrl: null }],
          meta: { durationMs: Date.now() - acceptedAt },
        },
      }));
      return {
        accepted: { runId, sessionKey, agentId: 'main', status: 'accepted' as const, acceptedAt },
        final,
      };
    },
    async chatHistory(params) {
      return {
        sessionKey: params.sessionKey,
        messages: transcript.get(params.sessionKey) ?? [],
        hasMore: false,
      };
    },
    async chatAbort() {
      return { ok: true as const, aborted: false, runIds: [] };
    },
    async sessionsList() {
      return {
        ts: Date.now(),
        count: transcript.size,
        sessions: [...transcript.keys()].map((key) => ({ key })),
      };
    },
    async agentsList() {
      return { defaultId: 'main', mainKey: 'main', scope: 'per-sender', agents: [{ id: 'main' }] };
    },
    ...overrides,
  } satisfies GatewayServices & { chatSendCalls: number };
  return services;
}
