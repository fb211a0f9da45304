/**
 * Sessions as the owner sees them, over the Temporal client: list the open conversations
 * (visibility query), show one (the `session.history` query), reset one (the `session.reset`
 * update). Used by `switchyard sessions` and, later, by the gateway's own API.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { sessionWorkflowId } from '../channels/session-key.js';
import { UNCERTAIN_SENDS_MEMO, type UncertainSendRecord } from '../workflows/pipeline/pipeline-api.js';
import {
  type AbortRequest,
  type AbortResult,
  type CompactRequest,
  type ResetResult,
  SESSION_WORKFLOW_TYPE,
  type SessionHistory,
  sessionAbortUpdate,
  sessionCompactUpdate,
  sessionHistoryQuery,
  sessionResetUpdate,
} from '../workflows/session/session-api.js';

const PREFIX = 'session:';

export interface SessionSummary {
  sessionKey: string;
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  taskQueue: string;
}

export class SessionNotFoundError extends Error {
  constructor(readonly sessionKey: string) {
    super(
      `no open session '${sessionKey}' (workflow ${sessionWorkflowId(sessionKey)}); ` +
        '`switchyard sessions list` shows the open ones',
    );
    this.name = 'SessionNotFoundError';
  }
}

/** Open sessions, newest first. Visibility is eventually consistent: a session started a moment ago may be missing. */
export async function listSessions(
  client: Client,
  options: { limit?: number; taskQueue?: string } = {},
): Promise<SessionSummary[]> {
  const limit = options.limit ?? 100;
  const sessions: SessionSummary[] = [];
  // Scoped to this install's task queue when known: a session holds a memo while a turn inside it
  // waits for an approval, and a namespace shared with other installs (their memos encrypted
  // with keys this process lacks) must not break the listing (as for approvals).
  const scope = options.taskQueue ? ` AND TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}'` : '';
  const query = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'${scope}`;
  for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
    sessions.push({
      sessionKey: execution.workflowId.startsWith(PREFIX)
        ? execution.workflowId.slice(PREFIX.length)
        : execution.workflowId,
      workflowId: execution.workflowId,
      runId: execution.runId,
      status: execution.status.name,
      startTime: execution.startTime,
      taskQueue: execution.taskQueue,
    });
    if (sessions.length >= limit) break;
  }
  return sessions;
}

/** The transcript, summary, queue and recent turns of one session. */
export async function sessionHistory(client: Client, sessionKey: string): Promise<SessionHistory> {
  return await withSession(sessionKey, () =>
    client.workflow.getHandle(sessionWorkflowId(sessionKey)).query(sessionHistoryQuery),
  );
}

/** Forgets the transcript and summary; re-delivered old messages are still recognised and dropped. */
export async function resetSession(client: Client, sessionKey: string): Promise<ResetResult> {
  return await withSession(sessionKey, () =>
    client.workflow.getHandle(sessionWorkflowId(sessionKey)).executeUpdate(sessionResetUpdate),
  );
}

/** Cancels the running turn (no reply is sent) and, by default, the messages queued behind it. */
export async function abortSession(
  client: Client,
  sessionKey: string,
  request: AbortRequest = {},
): Promise<AbortResult> {
  return await withSession(sessionKey, () =>
    client.workflow.getHandle(sessionWorkflowId(sessionKey)).executeUpdate(sessionAbortUpdate, {
      args: [request],
    }),
  );
}

/** Sets the session's summary and keeps only the last `keepLast` transcript entries. */
export async function compactSession(
  client: Client,
  sessionKey: string,
  request: CompactRequest,
): Promise<{ transcript: number }> {
  return await withSession(sessionKey, () =>
    client.workflow.getHandle(sessionWorkflowId(sessionKey)).executeUpdate(sessionCompactUpdate, {
      args: [request],
    }),
  );
}

/**
 * Ends the conversation: the session workflow is terminated (its history stays in Temporal
 * until retention removes it); the next message to the same key starts a fresh session.
 * A turn already running finishes and delivers its reply (turns are abandoned, not killed).
 */
export async function endSession(client: Client, sessionKey: string, reason: string): Promise<void> {
  await withSession(sessionKey, () =>
    client.workflow.getHandle(sessionWorkflowId(sessionKey)).terminate(reason),
  );
}

async function withSession<T>(sessionKey: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new SessionNotFoundError(sessionKey);
    throw error;
  }
}

/** Tokens and cost of one turn, from the `agentUsage` memo its agent steps keep (absent: no agent ran). */
export interface TurnUsageSummary {
  input: number;
  output: number;
  totalTokens: number;
  cost: number;
  modelCalls: number;
  toolCalls: number;
}

export async function turnUsage(
  client: Client,
  turnWorkflowId: string,
): Promise<TurnUsageSummary | undefined> {
  return (await turnMemo(client, turnWorkflowId)).usage;
}

/** What a turn's memo records: its agent usage and its sends whose outcome was unknown. */
export interface TurnMemo {
  usage?: TurnUsageSummary;
  uncertainSends: UncertainSendRecord[];
}

export async function turnMemo(client: Client, turnWorkflowId: string): Promise<TurnMemo> {
  try {
    const { memo } = await client.workflow.getHandle(turnWorkflowId).describe();
    const sends = memo?.[UNCERTAIN_SENDS_MEMO];
    return {
      ...(memo?.agentUsage ? { usage: memo.agentUsage as TurnUsageSummary } : {}),
      uncertainSends: Array.isArray(sends) ? (sends as UncertainSendRecord[]) : [],
    };
  } catch {
    return { uncertainSends: [] }; // a turn whose history was already deleted by retention
  }
}
