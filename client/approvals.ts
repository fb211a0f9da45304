/**
 * Tool approvals as the owner sees them, over the Temporal client: list what waits (the
 * `pendingApprovals` memo of running workflows, so listing works even while no worker is
 * up), and approve or deny one (the `approval.resolve` update, answered by the workflow).
 * Used by `switchyard approvals`, by the chat router for "/approve <id>", and by the gateway.
 */
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../engine/failures.js';
import {
  type ApprovalDecision,
  type ApprovalResolution,
  approvalPendingQuery,
  approvalResolveUpdate,
  PENDING_APPROVALS_MEMO,
  type PendingApproval,
} from '../workflows/agent/approval-api.js';

export type {
  ApprovalDecision,
  ApprovalResolution,
  PendingApproval,
} from '../workflows/agent/approval-api.js';

/** A pending approval and the workflow that waits for it. */
export interface ListedApproval extends PendingApproval {
  workflowId: string;
  runId: string;
  workflowType: string;
  /**
   * The workflow at the top of its tree: `session:<key>` for a turn's approvals and for those of
   * the pipelines it runs as tools (children); absent when Temporal did not report one.
   */
  rootWorkflowId?: string;
}

export type ApprovalErrorCode = 'unknown' | 'already_resolved' | 'ambiguous' | 'not_running' | 'invalid';

export class ApprovalError extends Error {
  constructor(
    readonly code: ApprovalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalError';
  }
}

/**
 * Every pending approval, oldest first. Reads the memo of each running workflow: visibility
 * is eventually consistent, so a request made a moment ago may show up a moment later.
 */
export async function listApprovals(
  client: Client,
  options: { taskQueue?: string } = {},
): Promise<ListedApproval[]> {
  const found: ListedApproval[] = [];
  // Scoped to this install's task queue when known: a namespace shared with other installs (their
  // memos encrypted with keys this process lacks) does not break the listing.
  const scope = options.taskQueue ? ` AND TaskQueue = '${options.taskQueue.replace(/'/g, "\\'")}'` : '';
  for await (const execution of client.workflow.list({ query: `ExecutionStatus = 'Running'${scope}` })) {
    const pending = execution.memo?.[PENDING_APPROVALS_MEMO];
    if (!Array.isArray(pending)) continue;
    for (const approval of pending as PendingApproval[]) {
      found.push({
        ...approval,
        workflowId: execution.workflowId,
        runId: execution.runId,
        workflowType: execution.type,
        ...(execution.rootExecution?.workflowId
          ? { rootWorkflowId: execution.rootExecution.workflowId }
          : {}),
      });
    }
  }
  return found.sort((a, b) => a.requestedAt - b.requestedAt);
}

/** The pending approvals of one workflow, straight from it (needs a worker). */
export async function workflowApprovals(client: Client, workflowId: string): Promise<PendingApproval[]> {
  try {
    return await client.workflow.getHandle(workflowId).query(approvalPendingQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw notRunning(workflowId);
    // A workflow that never asked for an approval has no such query: nothing pending.
    if (/did not register a handler|not registered|QueryNotRegistered|Unknown query/i.test(String(error))) {
      return [];
    }
    throw error;
  }
}

/** Approves or denies one pending approval of a workflow. Throws `ApprovalError` with a reason a person can act on. */
export async function resolveApproval(
  client: Client,
  workflowId: string,
  id: string,
  decision: ApprovalDecision,
  reason?: string,
): Promise<ApprovalResolution> {
  let resolution: ApprovalResolution;
  try {
    resolution = await client.workflow
      .getHandle(workflowId)
      .executeUpdate(approvalResolveUpdate, { args: [{ id, decision, ...(reason ? { reason } : {}) }] });
  } catch (error) {
    throw approvalError(error, workflowId, id);
  }
  if (!resolution.applied) {
    throw new ApprovalError(
      'already_resolved',
      `approval '${resolution.id}' was already ${resolution.status}`,
    );
  }
  return resolution;
}

/**
 * Finds the workflow waiting for `id` (from the listing) and resolves it. `workflowId`
 * skips the listing, e.g. for a request made a moment ago.
 */
export async function resolveApprovalById(
  client: Client,
  id: string,
  decision: ApprovalDecision,
  options: { reason?: string; workflowId?: string; taskQueue?: string } = {},
): Promise<ApprovalResolution & { workflowId: string; tool?: string }> {
  const wanted = id.trim().toLowerCase();
  if (options.workflowId) {
    const resolution = await resolveApproval(client, options.workflowId, wanted, decision, options.reason);
    return { ...resolution, workflowId: options.workflowId };
  }
  const matches = (await listApprovals(client, { taskQueue: options.taskQueue })).filter(
    (a) => a.id === wanted,
  );
  const [match] = matches;
  if (!match) {
    throw new ApprovalError(
      'unknown',
      `no pending approval '${wanted}': it was already answered, it expired, or the id is wrong. ` +
        '`switchyard approvals list` shows what waits',
    );
  }
  if (matches.length > 1) {
    throw new ApprovalError(
      'ambiguous',
      `approval id '${wanted}' is pending in ${matches.length} workflows (${matches.map((m) => m.workflowId).join(', ')}): ` +
        'pass --workflow <id>',
    );
  }
  const resolution = await resolveApproval(client, match.workflowId, wanted, decision, options.reason);
  return { ...resolution, workflowId: match.workflowId, tool: match.tool };
}

export interface ApprovalCommand {
  id: string;
  decision: ApprovalDecision;
  reason?: string;
}

/**
 * "/approve <id>" or "/deny <id> [reason]" typed in a chat (Telegram's "/approve@bot <id>"
 * too); anything else is `undefined`, i.e. a message for the agent. Pure: the router calls
 * it before starting a turn.
 */
export function parseApprovalCommand(text: string): ApprovalCommand | undefined {
  const match = /^\s*\/(approve|deny)(?:@[\w.]+)?\s+([A-Za-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(text);
  if (!match) return undefined;
  const decision = match[1]!.toLowerCase() === 'approve' ? 'approve' : 'deny';
  const reason = match[3]?.trim();
  return {
    id: match[2]!.toLowerCase(),
    decision,
    ...(decision === 'deny' && reason ? { reason } : {}),
  };
}

function notRunning(workflowId: string): ApprovalError {
  return new ApprovalError(
    'not_running',
    `workflow ${workflowId} is not running (finished, or the id is wrong): its approvals are gone`,
  );
}

function approvalError(error: unknown, workflowId: string, id: string): unknown {
  if (error instanceof WorkflowNotFoundError) return notRunning(workflowId);
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const cause = error.cause;
    switch (cause.type) {
      case Failures.UnknownApproval:
        return new ApprovalError('unknown', cause.message);
      case Failures.ApprovalAlreadyResolved:
        return new ApprovalError('already_resolved', cause.message);
      case Failures.InvalidApprovalInput:
        return new ApprovalError('invalid', cause.message);
    }
    if (cause.message.startsWith('No registered handler for update')) {
      return new ApprovalError(
        'unknown',
        `no pending approval '${id}': workflow ${workflowId} never asked for one`,
      );
    }
  }
  return error;
}
