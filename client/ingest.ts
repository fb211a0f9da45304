/**
 * Ingest: the gateway's one call into a conversation. A routed message (with its pipeline
 * already compiled by the caller) goes into the session workflow `session:<key>`, starting it
 * when the conversation is new. The session drops re-deliveries by message id, so calling this
 * twice for one platform update costs a signal, never a second turn.
 *
 * Two ways in. Platform channels signal (signalWithStart): durable the moment the call
 * returns, and the reply goes out through the channel's exactly-once send. Answer-only
 * channels (the OpenClaw WebSocket, the OpenAI API), whose reply only ever goes back to the
 * client that asked, send the `session.turn` update with Update-with-Start: its result is the
 * answer, which saves the send activity's round trip. An update is durable only once a worker
 * has accepted it, so this call retries it (same update id = message id, deduplicated by
 * Temporal and by the session) and returns only once it is accepted — or, when no worker takes
 * it within a few seconds, once the message is signalled in like a platform's.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type WorkflowUpdateHandle,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { InboundMessage } from '../channels/envelope.js';
import type { Route } from '../channels/routing.js';
import { sessionWorkflowId } from '../channels/session-key.js';
import type { PipelineIR } from '../engine/ir.js';
import {
  type QueueMode,
  SESSION_CONTINUING,
  SESSION_WORKFLOW_TYPE,
  type SessionMessage,
  type SessionOptions,
  type SessionState,
  sessionMessageSignal,
  sessionTurnUpdate,
  type TurnAnswer,
} from '../workflows/session/session-api.js';

export interface IngestRequest {
  message: InboundMessage;
  route: Pick<Route, 'agentId' | 'pipeline' | 'sessionKey'>;
  /** The compiled pipeline for `route.pipeline` (compilePipeline, outside the workflow). */
  ir: PipelineIR;
  hash: string;
  queueMode?: QueueMode;
  /** Task queue of the workers that run sessions and turns (config.temporal.taskQueue). */
  taskQueue: string;
  /** Values for the environment variables the pipeline lists in `env:`. */
  env?: Record<string, string>;
  /** Used only when this message starts the session. */
  sessionOptions?: SessionOptions;
  /**
   * `answer`: the caller takes the answer from `IngestResult.answer` (answer-only channels)
   * instead of the channel's sender getting it. Default: the reply goes through the channel.
   */
  replyVia?: 'answer';
  /** How long to keep sending an update no worker accepts before giving up. Default 2 minutes. */
  acceptWithinMs?: number;
  /**
   * With `replyVia: 'answer'`: when no worker has accepted the update after this long, the
   * message is also signalled in (durable at once; the reply may then come through the
   * channel). Default 5 s.
   */
  signalAfterMs?: number;
}

export interface IngestResult {
  sessionKey: string;
  workflowId: string;
  /** The run that received the signal ('' for an update: the answer says which turn). */
  runId: string;
  /**
   * With `replyVia: 'answer'`: the answer of the message's turn. Settles undefined when the
   * reply went through the channel after all (a worker without `session.turn`, or one that
   * accepted nothing within `signalAfterMs`); rejects when the message could not be handed in
   * at all. The call itself returns once the message is durable, before the answer.
   */
  answer?: Promise<TurnAnswer | undefined>;
}

export async function ingestMessage(client: Client, request: IngestRequest): Promise<IngestResult> {
  const { message, route, ir, hash, queueMode, taskQueue, env, sessionOptions } = request;
  const workflowId = sessionWorkflowId(route.sessionKey);
  const payload: SessionMessage = {
    message,
    ir,
    hash,
    agentId: route.agentId,
    pipeline: route.pipeline,
    ...(queueMode ? { queueMode } : {}),
    ...(env ? { env } : {}),
  };
  const start: SessionState = {
    sessionKey: route.sessionKey,
    ...(sessionOptions ? { options: sessionOptions } : {}),
  };
  const signal = async () => {
    const handle = await client.workflow.signalWithStart(SESSION_WORKFLOW_TYPE, {
      workflowId,
      taskQueue,
      args: [start],
      signal: sessionMessageSignal,
      signalArgs: [payload],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return handle.signaledRunId;
  };
  if (request.replyVia !== 'answer') {
    return { sessionKey: route.sessionKey, workflowId, runId: await signal() };
  }
  // The call returns once the message is durable (the caller acknowledges it then): the update
  // accepted by the session, or, when no worker accepts it soon (none running, a long restart),
  // the message signalled in as a platform message would be. The update goes on being sent and
  // still brings the answer; if it never gets through, the reply comes through the channel.
  let signalled = false;
  let accepted!: () => void;
  const durable = new Promise<void>((resolve) => {
    accepted = resolve;
  });
  const answer = answerOf(client, {
    workflowId,
    taskQueue,
    start,
    payload,
    signal,
    acceptWithinMs: request.acceptWithinMs ?? 120_000,
    accepted,
  }).catch((error: unknown) => {
    if (signalled) return undefined;
    throw error;
  });
  // Nobody may be listening by the time it fails (the client went away).
  answer.then(accepted, () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), request.signalAfterMs ?? 5_000);
  });
  const first = await Promise.race([durable, late, answer.then(() => undefined)]).finally(() =>
    clearTimeout(timer),
  );
  if (first === 'late') {
    await signal();
    signalled = true;
  }
  return { sessionKey: route.sessionKey, workflowId, runId: '', answer };
}

async function answerOf(
  client: Client,
  o: {
    workflowId: string;
    taskQueue: string;
    start: SessionState;
    payload: SessionMessage;
    signal: () => Promise<string>;
    acceptWithinMs: number;
    /** Called once the session has accepted the update (durable from then on). */
    accepted: () => void;
  },
): Promise<TurnAnswer | undefined> {
  const deadline = Date.now() + o.acceptWithinMs;
  let handle: WorkflowUpdateHandle<TurnAnswer> | undefined;
  for (let attempt = 1; !handle; attempt++) {
    try {
      handle = await client.workflow.startUpdateWithStart(sessionTurnUpdate, {
        args: [o.payload],
        // The message names the update: a retry is the same update, deduplicated by Temporal.
        updateId: o.payload.message.messageId,
        waitForStage: WorkflowUpdateStage.ACCEPTED,
        startWorkflowOperation: new WithStartWorkflowOperation(SESSION_WORKFLOW_TYPE, {
          workflowId: o.workflowId,
          taskQueue: o.taskQueue,
          args: [o.start],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      });
    } catch (error) {
      if (isMissingHandler(error)) {
        // A worker from before `session.turn`: the message goes in as a signal, the reply by channel.
        await o.signal();
        return undefined;
      }
      if (!(isContinuing(error) || isTransient(error)) || Date.now() >= deadline) throw error;
      await pause(attempt);
    }
  }
  o.accepted();
  // Accepted: durable now. Only the wait for the result can still hit a passing network error.
  for (let attempt = 1; ; attempt++) {
    try {
      return await handle.result();
    } catch (error) {
      if (!isTransient(error)) throw error;
      await pause(attempt);
    }
  }
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** attempt)));
}

function isMissingHandler(error: unknown): boolean {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
  return cause instanceof Error && /No registered handler for update/.test(cause.message);
}

/** Turned away while the session continues as new: the next run takes it. */
function isContinuing(error: unknown): boolean {
  const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
  return cause instanceof ApplicationFailure && cause.type === SESSION_CONTINUING;
}

// gRPC codes of a call that may succeed when made again: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED
// (e.g. too many updates in flight for one session), ABORTED, INTERNAL, UNAVAILABLE.
const TRANSIENT_CODES = new Set([4, 8, 10, 13, 14]);

/** Temporal could not be reached or was busy, or no worker accepted the update within the call. */
function isTransient(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && TRANSIENT_CODES.has(code)) return true;
  }
  return false;
}
