/**
 * Conversations for OpenClaw's apps and CLI: `chat.send` and `agent` become turns of the
 * session the client names (a session workflow), streamed back as `chat`/`agent` events from
 * the live-delta hub, and finished by the turn's answer: the result of the session's
 * `session.turn` update (client/ingest.ts), or a reply the workflow sends to this `openclaw`
 * channel (a turn that runs as a child workflow, a worker without that update). The request is
 * acknowledged on receipt; the update is sent until a worker accepts it. `chat.abort` cancels the
 * turn in the session (it sends no reply) and ends the live run with an `aborted` event instead.
 * `chat.history` reads the session workflow.
 */

import type { Client } from '@temporalio/client';
import type { ChannelSender } from '../../activities/channel-send.js';
import { directMessage } from '../../channels/direct-message.js';
import { deltaRunKey } from '../../channels/run-key.js';
import { abortSession, SessionNotFoundError } from '../../client/sessions.js';
import type { TurnAnswer } from '../../workflows/session/session-api.js';
import type { IngestToSession } from '../channels/router.js';
import type { DeltaHub } from '../stream/hub.js';
import {
  type AgentFinal,
  GatewayMethodError,
  type GatewayServices,
  type RequestContext,
  type RunEventSink,
} from './protocol/services.js';
import { openSessionHistory } from './sessions.js';

export const OPENCLAW_CHANNEL = 'openclaw';

interface LiveRun {
  runId: string;
  sessionKey: string;
  /** The id of the inbound message the run's turn answers (from the run id). */
  messageId: string;
  events: RunEventSink;
  seq: number;
  text: string;
  startedAt: number;
  unsubscribe(): void;
  /** Settles the `agent` method's second answer. */
  settle?: (final: AgentFinal) => void;
}

export interface OpenclawChat {
  services: Pick<GatewayServices, 'chatSend' | 'agentRun' | 'chatHistory' | 'chatAbort'>;
  sender: ChannelSender;
  /**
   * Ends as `aborted` every live run of `sessionKey` whose message the session cancelled or
   * dropped (e.g. by sessions.delete); returns their run ids.
   */
  abortedInSession(sessionKey: string, messageIds: readonly string[]): string[];
}

/** The message id a run's turn answers: the idempotencyKey (run id), made safe for workflow ids and run keys. */
export function messageIdOfRun(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
}

export function createOpenclawChat(options: {
  client: Client;
  hub: DeltaHub;
  ingestToSession: IngestToSession;
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
    const messageId = messageIdOfRun(idempotencyKey);
    const runKey = deltaRunKey(OPENCLAW_CHANNEL, sessionKey, messageId);
    const run: LiveRun = {
      runId: idempotencyKey,
      sessionKey,
      messageId,
      events: ctx.events,
      seq: 0,
      text: '',
      startedAt: Date.now(),
      unsubscribe: () => {},
    };
    run.unsubscribe = hub.subscribe(runKey, (frame) => {
      if (frame.type === 'tool') {
        // OpenClaw's tool stream: `start`, then `result` (with isError) when the call is done.
        run.seq += 1;
        run.events.agent({
          runId: run.runId,
          seq: run.seq,
          stream: 'tool',
          ts: Date.now(),
          data: {
            phase: frame.phase === 'start' ? 'start' : 'result',
            name: frame.name,
            toolCallId: frame.toolCallId,
            ...(frame.phase === 'end' ? { isError: frame.isError === true } : {}),
          },
        });
        return;
      }
      if (frame.type !== 'delta') return;
      run.text += frame.text;
      run.seq += 1;
      // OpenClaw's clients read the answer from either stream: openclaw-node only from `agent`.
      run.events.agent({
        runId: run.runId,
        seq: run.seq,
        stream: 'assistant',
        ts: Date.now(),
        data: { text: run.text, delta: frame.text },
      });
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
    const inbound = directMessage({
      channel: OPENCLAW_CHANNEL,
      accountId: 'default',
      chatId: sessionKey,
      sender: { id: ctx.client.deviceId ?? ctx.client.clientId, name: ctx.client.clientId },
      messageId,
      platformId: `${OPENCLAW_CHANNEL}:${sessionKey}:${messageId}`,
      text,
    });
    let answer: Promise<TurnAnswer | undefined> | undefined;
    try {
      ({ answer } = await ingestToSession(inbound, sessionKey, { replyVia: 'answer' }));
    } catch (err) {
      run.unsubscribe();
      runs.delete(runKey);
      throw err;
    }
    // After this method's own `res`, which clients expect before the run's last event.
    answer?.then(
      (turn) => setImmediate(() => endWith(runKey, turn)),
      (err: unknown) =>
        setImmediate(() => {
          const live = runs.get(runKey);
          if (live) endFailed(runKey, live, `the turn could not start: ${(err as Error).message}`);
        }),
    );
    return run;
  }

  /** The session's answer ends the run, unless the channel's reply (or an abort) already did. */
  function endWith(runKey: string, turn: TurnAnswer | undefined): void {
    const run = runs.get(runKey);
    if (!run || !turn) return;
    const [first] = turn.replies;
    if (first?.kind === 'error') endFailed(runKey, run, first.text);
    else if (first) endFinal(runKey, run, first.text);
    else if (turn.status === 'failed') endFailed(runKey, run, turn.error ?? 'the turn failed');
    else if (turn.status === 'interrupted') endAborted(runKey, run);
    else endFinal(runKey, run, '');
  }

  /** The answer: the `final` chat event, lifecycle end, and `agent`'s second answer. */
  function endFinal(runKey: string, run: LiveRun, text: string): void {
    forget(runKey, run);
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
    run.settle?.({
      runId: run.runId,
      status: 'ok',
      summary: 'completed',
      result: { payloads: [{ text, mediaUrl: null }], meta: { durationMs: Date.now() - run.startedAt } },
    });
  }

  /** Ends a live run: no event for it follows, whatever the workflow still sends. */
  function forget(runKey: string, run: LiveRun): void {
    runs.delete(runKey);
    run.unsubscribe();
  }

  /** The run was cancelled in its session: `aborted` (with what had streamed), then lifecycle end. */
  function endAborted(runKey: string, run: LiveRun): void {
    forget(runKey, run);
    run.events.chat({
      runId: run.runId,
      sessionKey: run.sessionKey,
      seq: run.seq + 1,
      state: 'aborted',
      stopReason: 'rpc',
      ...(run.text.trim() ? { message: message(run.text) } : {}),
    });
    run.events.agent({
      runId: run.runId,
      seq: run.seq + 1,
      stream: 'lifecycle',
      ts: Date.now(),
      data: { phase: 'end', aborted: true, stopReason: 'rpc' },
    });
    run.settle?.({ runId: run.runId, status: 'aborted', summary: 'aborted' });
  }

  /** The turn could not answer (the agent's apology): `error` events, and `agent` settles as an error. */
  function endFailed(runKey: string, run: LiveRun, text: string): void {
    forget(runKey, run);
    run.events.agent({
      runId: run.runId,
      seq: run.seq + 1,
      stream: 'error',
      ts: Date.now(),
      data: { error: text },
    });
    run.events.chat({
      runId: run.runId,
      sessionKey: run.sessionKey,
      seq: run.seq + 2,
      state: 'error',
      errorMessage: text,
    });
    run.events.agent({
      runId: run.runId,
      seq: run.seq + 2,
      stream: 'lifecycle',
      ts: Date.now(),
      data: { phase: 'error', error: text },
    });
    run.settle?.({ runId: run.runId, status: 'error', summary: 'failed', error: text });
  }

  /**
   * `among`: the runs to look at (default: the live ones). A run that already ended is reported
   * but not ended again.
   */
  function abortedInSession(
    sessionKey: string,
    messageIds: readonly string[],
    among: ReadonlyArray<[string, LiveRun]> = [...runs],
  ): string[] {
    const runIds: string[] = [];
    for (const [runKey, run] of among) {
      if (run.sessionKey !== sessionKey || !messageIds.includes(run.messageId)) continue;
      if (runs.get(runKey) === run) endAborted(runKey, run);
      runIds.push(run.runId);
    }
    return runIds;
  }

  const sender: ChannelSender = {
    channel: OPENCLAW_CHANNEL,
    accountId: 'default',
    textLimit: 1_000_000,
    async send(chatId, text, opts) {
      const runKey = deltaRunKey(OPENCLAW_CHANNEL, chatId, opts?.replyToMessageId ?? '');
      const run = runs.get(runKey);
      // A client that went away (or aborted) misses the live answer; it is in chat.history.
      if (run && opts?.kind === 'error') endFailed(runKey, run, text);
      else if (run) endFinal(runKey, run, text);
      return { messageId: `${runKey}:final` };
    },
  };

  return {
    sender,
    abortedInSession,
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
          run.settle = (outcome) => {
            clearTimeout(timer);
            resolve(outcome);
          };
        });
        return {
          accepted: { runId: run.runId, sessionKey, status: 'accepted', acceptedAt: run.startedAt },
          final,
        };
      },
      async chatAbort({ sessionKey, runId }) {
        if (runId) {
          const live = [...runs.values()].find((r) => r.runId === runId);
          if (live && live.sessionKey !== sessionKey) {
            throw new GatewayMethodError(
              'INVALID_REQUEST',
              `runId does not match sessionKey: run '${runId}' belongs to session '${live.sessionKey}'`,
            );
          }
        }
        // The session's live runs before the abort: its answer to the interrupted turn can end a
        // run (as aborted) before abortSession's own reply is back, and that run was still
        // stopped by this call (CI: runIds came back empty).
        const live = [...runs].filter(([, run]) => run.sessionKey === sessionKey);
        let stopped: string[];
        try {
          const result = await abortSession(
            client,
            sessionKey,
            runId ? { messageIds: [messageIdOfRun(runId)] } : {},
          );
          stopped = result.messageIds;
        } catch (err) {
          if (err instanceof SessionNotFoundError) return { ok: true, aborted: false, runIds: [] };
          throw err;
        }
        // A batched turn answers several messages: every run among them ends; the others go on.
        const runIds = abortedInSession(sessionKey, stopped, live);
        // A run of this session that this gateway no longer follows (e.g. after a restart).
        if (runId && stopped.includes(messageIdOfRun(runId)) && !runIds.includes(runId)) runIds.push(runId);
        const aborted = runId ? runIds.includes(runId) : stopped.length > 0;
        return { ok: true, aborted, runIds };
      },
      async chatHistory(params) {
        try {
          const history = await openSessionHistory(client, params.sessionKey);
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
    },
  };
}
