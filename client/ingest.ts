/**
 * Ingest: the gateway's one call into a conversation. A routed message (with its pipeline
 * already compiled by the caller) is signalled into the session workflow `session:<key>`,
 * starting it when the conversation is new. The session drops re-deliveries by message id, so
 * calling this twice for one platform update costs a signal, never a second turn.
 */
import type { Client } from '@temporalio/client';
import type { InboundMessage } from '../channels/envelope.js';
import type { Route } from '../channels/routing.js';
import { sessionWorkflowId } from '../channels/session-key.js';
import type { PipelineIR } from '../engine/ir.js';
import {
  type QueueMode,
  SESSION_WORKFLOW_TYPE,
  type SessionMessage,
  type SessionOptions,
  type SessionState,
  sessionMessageSignal,
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
}

export interface IngestResult {
  sessionKey: string;
  workflowId: string;
  /** The run that received the signal (a session continues as new, so runs change). */
  runId: string;
}

export async function ingestMessage(client: Client, request: IngestRequest): Promise<IngestResult> {
  const { message, route, ir, hash, queueMode, taskQueue, env, sessionOptions } = request;
  const workflowId = sessionWorkflowId(route.sessionKey);
  const signal: SessionMessage = {
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
  const handle = await client.workflow.signalWithStart(SESSION_WORKFLOW_TYPE, {
    workflowId,
    taskQueue,
    args: [start],
    signal: sessionMessageSignal,
    signalArgs: [signal],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { sessionKey: route.sessionKey, workflowId, runId: handle.signaledRunId };
}
