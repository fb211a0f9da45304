/**
 * The public face of approvals (of tool calls, and of pipeline steps marked `approval: required`): the `approval.resolve` update, the `approval.pending`
 * query, the memo that lists pending approvals, and their types. Clients (CLI, gateway,
 * tests) import this file; it holds no workflow code.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export type ApprovalDecision = 'approve' | 'deny';

/** `temporal workflow update execute --name approval.resolve --input '{"id":"k7q2mx","decision":"approve"}'` */
export interface ApprovalResolveInput {
  id: string;
  decision: ApprovalDecision;
  /** Shown to the model when it is denied. */
  reason?: string;
}

export interface PendingApproval {
  /** Short and stable (derived from the tool call id): what the owner types in `/approve <id>`. */
  id: string;
  /** The tool called; for a pipeline step, `step <id>`. */
  tool: string;
  /** The call's arguments as JSON, cut to 200 characters (a step's evaluated `with:`, secrets masked). */
  args: string;
  /** The tool call's id; for a pipeline step, `step:<id>`. */
  toolCallId: string;
  /** Set when a pipeline step (`approval: required` on the step) waits, not a tool call: its id. */
  step?: string;
  /** Epoch milliseconds (workflow time). */
  requestedAt: number;
  /** When no answer counts as a denial. */
  expiresAt: number;
}

export type ApprovalStatus = 'approved' | 'denied' | 'expired';

export interface ApprovalResolution {
  id: string;
  /** False when the approval had already been settled (e.g. it expired in the same instant). */
  applied: boolean;
  status: ApprovalStatus;
}

export const approvalResolveUpdate = defineUpdate<ApprovalResolution, [ApprovalResolveInput]>(
  'approval.resolve',
);

export const approvalPendingQuery = defineQuery<PendingApproval[]>('approval.pending');

/** Memo key holding `PendingApproval[]` while a workflow waits, so listing needs no worker. */
export const PENDING_APPROVALS_MEMO = 'pendingApprovals';

/** Default wait for an answer; a tool sets its own with `approvalTimeoutMs`. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 10 * 60_000;
