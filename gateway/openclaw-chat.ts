/**
 * Conversations for OpenClaw's apps and CLI: `chat.send` and `agent` become turns of the
 * session the client names (a session workflow), streamed back as `chat`/`agent` events from
 * the live-delta hub, and finished by the exactly-once reply that the workflow sends to this
 * `openclaw` channel. `chat.history` and `sessions.list` read the session workflows.
 */
import type { Client } from '@temporalio/client';
import type { ChannelSender } from '../activities/channel-send.js';
import { deltaRunKey } from '../activities/stream/frames.js';
import type { InboundMessage } from '../channels/envelope.js';
import type { AgentFinal, GatewayServices, RequestContext, RunEventSink } from './protocol/services.js';
import type { IngestToSession } from './router.js';
import { listSessions, resetSession, SessionNotFoundError, sessionHistory } from './sessions.js';
import type { DeltaHub } from './stream/hub.js';

export const OPENCLAW_CHANNEL = 'openclaw';

interface LiveRun {
  runId: string;
  sessionKey: string;
  events: RunEventSink;
  seq: number;
  text: string;
  startedAt: number;
  unsubscribe(): void;
  finish?: (text: string) => void;
}

export interface OpenclawChat {
  services: Pick<
    GatewayServices,
    'chatSend' | 'agentRun' | 'chatHistory' | 'sessionsList' | 'sessionsReset' | 'agentsList'
  >;
  sender: ChannelSender;
}

export function createOpenclawChat(options: {
  client: Client;
  hub: DeltaHub;
  ingestToSession: IngestToSession;
  /** The configured agents and the default one (`agents.list`). */
  agents: () => { defaultId: string; agents: Array<{ id: string; name?: string }> };
  /** How long `agent` waits for the final answer before reporting an error. Default 10 min. */
  agentTimeoutMs?: number;
}): OpenclawChat {
  const { client, hub, ingestToSession } = options;
  const runs = new Map<string, LiveRun>();
  const message = (text: string) => ({
    role: 'assistant',
    content: [{ type: 'text', text }],
    timestamp: Date.now(),
  });

  async function start(sessionKey: string, text: string, idempotencyKey: string, ctx: RequestContext) {
    const messageId = idempotencyKey.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
    const runKey = deltaRunKey(OPENCLAW_CHANNEL, sessionKey, messageId);
    const run: LiveRun = {
      runId: idempotencyKey,
      sessionKey,
      events: ctx.events,
      seq: 0,
      text: '',
      startedAt: Date.now(),
      unsubscribe: () => {},
    };
    run.unsubscribe = hub.subscribe(runKey, (frame) => {
      if (frame.type !== 'delta') return;
      run.text += frame.text;
      run.seq += 1;
      run.events.chat({
        runId: run.runId,
        sessionKey,
        seq: run.seq,
        state: 'delta',
        deltaText: frame.text,
        message: message(run.text),
      });
    });
    runs.set(runKey, run);
    ctx.events.agent({
      runId: run.runId,
      seq: 0,
      stream: 'lifecycle',
      ts: Date.now(),
      data: { phase: 'start' },
    });
    const inbound: InboundMessage = {
      channel: OPENCLAW_CHANNEL,
      accountId: 'default',
      chat: { id: sessionKey, kind: 'direct' },
      sender: { id: ctx.client.deviceId ?? ctx.client.clientId, name: ctx.client.clientId },
      messageId,
      platformId: `${OPENCLAW_CHANNEL}:${sessionKey}:${messageId}`,
      text,
      attachments: [],
      mentions: [],
      wasMentioned: true,
      timestamp: Date.now(),
    };
    try {
      await ingestToSession(inbound, sessionKey);
    } catch (err) {
      run.unsubscribe();
      runs.delete(runKey);
      throw err;
    }
    return run;
  }

  const sender: ChannelSender = {
    channel: OPENCLAW_CHANNEL,
    accountId: 'default',
    textLimit: 1_000_000,
    async send(chatId, text, opts) {
      const runKey = deltaRunKey(OPENCLAW_CHANNEL, chatId, opts?.replyToMessageId ?? '');
      const run = runs.get(runKey);
      // A client that went away misses the live answer; it is in the session (chat.history).
      if (run) {
        runs.delete(runKey);
        run.unsubscribe();
        run.events.chat({
          runId: run.runId,
          sessionKey: run.sessionKey,
          seq: run.seq + 1,
          state: 'final',
          stopReason: 'stop',
          message: message(text),
        });
        run.events.agent({
          runId: run.runId,
          seq: run.seq + 1,
          stream: 'lifecycle',
          ts: Date.now(),
          data: { phase: 'end' },
        });
        run.finish?.(text);
      }
      return { messageId: `${runKey}:final` };
    },
  };

  return {
    sender,
    services: {
      async chatSend(params, ctx) {
        const run = await start(params.sessionKey, params.message, params.idempotencyKey, ctx);
        return { runId: run.runId, status: 'started' };
      },
      async agentRun(params, ctx) {
        const sessionKey = params.sessionKey ?? 'agent:main:main';
        const run = await start(sessionKey, params.message, params.idempotencyKey, ctx);
        const timeoutMs = options.agentTimeoutMs ?? 10 * 60_000;
        const final = new Promise<AgentFinal>((resolve) => {
          const timer = setTimeout(
            () =>
              resolve({
                runId: run.runId,
                status: 'error',
                summary: 'timed out',
                error: `no answer within ${timeoutMs / 1000} s`,
              }),
            timeoutMs,
          );
          run.finish = (text) => {
            clearTimeout(timer);
            resolve({
              runId: run.runId,
              status: 'ok',
              summary: 'completed',
              result: {
                payloads: [{ text, mediaUrl: null }],
                meta: { durationMs: Date.now() - run.startedAt },
              },
            });
          };
        });
        return {
          accepted: { runId: run.runId, sessionKey, status: 'accepted', acceptedAt: run.startedAt },
          final,
        };
      },
      async chatHistory(params) {
        try {
          const history = await sessionHistory(client, params.sessionKey);
          const entries = params.limit ? history.transcript.slice(-params.limit) : history.transcript;
          return {
            sessionKey: params.sessionKey,
            messages: entries.map((e) =>
              e.role === 'user'
                ? { role: 'user', content: e.text, timestamp: e.at }
                : { role: 'assistant', content: [{ type: 'text', text: e.text }], timestamp: e.at },
            ),
            hasMore: params.limit ? history.transcript.length > params.limit : false,
          };
        } catch (err) {
          if (err instanceof SessionNotFoundError)
            return { sessionKey: params.sessionKey, messages: [], hasMore: false };
          throw err;
        }
      },
      async sessionsReset(params) {
        try {
          await resetSession(client, params.key);
        } catch (err) {
          if (!(err instanceof SessionNotFoundError)) throw err;
          // Nothing to forget: a session that was never started is already empty.
        }
        return { ok: true, key: params.key };
      },
      async agentsList() {
        const { defaultId, agents } = options.agents();
        return {
          defaultId,
          mainKey: 'main',
          scope: 'per-sender',
          agents: agents.map((a) => ({ id: a.id, ...(a.name ? { name: a.name } : {}) })),
        };
      },
      async sessionsList() {
        const sessions = await listSessions(client);
        return {
          ts: Date.now(),
          count: sessions.length,
          sessions: sessions.map((s) => ({ key: s.sessionKey, updatedAt: s.startTime.getTime() })),
        };
      },
    },
  };
}
