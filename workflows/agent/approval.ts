/**
 * Human approval of a tool call (or of a pipeline step marked `approval: required`), inside the
 * workflow that runs it. The first request installs the `approval.resolve` update and
 * `approval.pending` query on whichever workflow is running (pipeline, agent turn, anything
 * else), so no workflow has to wire them. The wait is workflow state plus a timer: it survives
 * worker restarts, and no answer before the timer fires counts as a denial.
 */
import {
  ApplicationFailure,
  condition,
  patched,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import { Failures } from '../../engine/failures.js';
import {
  type ApprovalResolution,
  type ApprovalResolveInput,
  type ApprovalStatus,
  approvalPendingQuery,
  approvalResolveUpdate,
  PENDING_APPROVALS_MEMO,
  type PendingApproval,
} from './approval-api.js';
import { type ApprovalNoticeTarget, postApprovalNotice } from './approval-notice.js';

export type ApprovalOutcome =
  | { status: 'approved' }
  | { status: 'denied'; reason?: string }
  | { status: 'expired'; timeoutMs: number };

interface Waiting {
  request: PendingApproval;
  outcome?: ApprovalOutcome;
}

interface Board {
  waiting: Map<string, Waiting>;
  settled: Map<string, ApprovalStatus>;
  requests: number;
}

// Module state is per workflow execution: the SDK gives each workflow its own module cache.
let board: Board | undefined;

export interface ApprovalRequest {
  tool: string;
  toolCallId: string;
  /** A pipeline step waits, not a tool call (workflows/pipeline/pipeline-approval.ts): its id. */
  step?: string;
  args: Record<string, unknown>;
  timeoutMs: number;
  /** Names the turn (Run.key: its workflow id, or its turn id inside the session). Default: the workflow id. */
  key?: string;
  /** The chat the turn answers: it is told once that the call waits (absent: nobody is told). */
  notify?: ApprovalNoticeTarget;
}

// Workflows that were already waiting when the notice shipped replay without it.
const NOTICE_PATCH = 'approval-chat-notice';

/** Waits for the owner's answer to one tool call or step. Cancellation of the workflow propagates. */
export async function awaitApproval(request: ApprovalRequest): Promise<ApprovalOutcome> {
  const b = installedBoard();
  b.requests++;
  const key = request.key ?? workflowInfo().workflowId;
  const id = uniqueId(b, `${key}\n${b.requests}\n${request.toolCallId}`);
  const requestedAt = Date.now();
  const waiting: Waiting = {
    request: {
      id,
      tool: request.tool,
      args: argsSummary(request.args),
      toolCallId: request.toolCallId,
      ...(request.step !== undefined ? { step: request.step } : {}),
      requestedAt,
      expiresAt: requestedAt + request.timeoutMs,
    },
  };
  b.waiting.set(id, waiting);
  publish(b);
  if (request.notify && patched(NOTICE_PATCH)) postApprovalNotice(request.notify, waiting.request, key);
  try {
    const answered = await condition(() => waiting.outcome !== undefined, request.timeoutMs, {
      summary: `approval ${id}: ${request.tool}`,
    });
    if (!answered) waiting.outcome = { status: 'expired', timeoutMs: request.timeoutMs };
    return waiting.outcome!;
  } finally {
    b.waiting.delete(id);
    if (waiting.outcome) b.settled.set(id, waiting.outcome.status);
    publish(b);
  }
}

export type Refusal = Exclude<ApprovalOutcome, { status: 'approved' }>;

/** What the model reads as the (error) result of a call that was not approved. */
export function refusalText(tool: string, outcome: Refusal): string {
  return refusal(`the call of ${tool}`, 'tool', outcome);
}

/** The message of a pipeline step's `StepNotApproved` failure. */
export function stepRefusalText(step: string, outcome: Refusal): string {
  return refusal(`step ${step}`, 'step', outcome);
}

function refusal(subject: string, what: 'tool' | 'step', outcome: Refusal): string {
  if (outcome.status === 'denied') {
    return `The owner denied ${subject}${outcome.reason ? `: ${outcome.reason}` : ''}. The ${what} was not run.`;
  }
  return `No answer from the owner within ${duration(outcome.timeoutMs)}: ${subject} counts as denied and was not run.`;
}

function installedBoard(): Board {
  if (board) return board;
  const b: Board = { waiting: new Map(), settled: new Map(), requests: 0 };
  setHandler(approvalPendingQuery, () => [...b.waiting.values()].map((w) => w.request), {
    description: 'Tool calls waiting for the owner: id, tool, arguments, requestedAt, expiresAt.',
  });
  setHandler(
    approvalResolveUpdate,
    (input): ApprovalResolution => {
      const id = normalId(input.id);
      const waiting = b.waiting.get(id);
      // Settled between validation and now (the timer fired in the same activation).
      if (!waiting || waiting.outcome) {
        return {
          id,
          applied: false,
          status: waiting?.outcome ? waiting.outcome.status : (b.settled.get(id) ?? 'expired'),
        };
      }
      const reason = input.reason?.trim().slice(0, 500);
      waiting.outcome =
        input.decision === 'approve'
          ? { status: 'approved' }
          : { status: 'denied', ...(reason ? { reason } : {}) };
      return { id, applied: true, status: waiting.outcome.status };
    },
    {
      validator: (input) => validate(b, input),
      description: 'Approve or deny a pending tool call: {id, decision: "approve"|"deny", reason?}.',
    },
  );
  board = b;
  return b;
}

function validate(b: Board, input: ApprovalResolveInput): void {
  if (!input || typeof input.id !== 'string' || (input.decision !== 'approve' && input.decision !== 'deny')) {
    throw ApplicationFailure.nonRetryable(
      'approval.resolve wants {id: string, decision: "approve" | "deny", reason?: string}',
      Failures.InvalidApprovalInput,
    );
  }
  if (input.reason !== undefined && typeof input.reason !== 'string') {
    throw ApplicationFailure.nonRetryable(
      'approval.resolve: reason must be a string',
      Failures.InvalidApprovalInput,
    );
  }
  const id = normalId(input.id);
  const waiting = b.waiting.get(id);
  const settled = waiting?.outcome ? waiting.outcome.status : b.settled.get(id);
  if (settled) {
    throw ApplicationFailure.nonRetryable(
      `approval '${id}' was already ${settled}`,
      Failures.ApprovalAlreadyResolved,
    );
  }
  if (!waiting) {
    const open = [...b.waiting.keys()];
    throw ApplicationFailure.nonRetryable(
      `no pending approval '${id}' in workflow ${workflowInfo().workflowId} (pending: ${open.join(', ') || 'none'})`,
      Failures.UnknownApproval,
    );
  }
}

function publish(b: Board): void {
  const list = [...b.waiting.values()].map((w) => w.request);
  upsertMemo({ [PENDING_APPROVALS_MEMO]: list.length > 0 ? list : null });
}

// No 0/o, 1/i/l: ids are read on phones and typed back.
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';

/** Six characters from a 32-bit FNV-1a hash of the workflow id, request number and tool call id. */
function uniqueId(b: Board, seed: string): string {
  for (let salt = 0; ; salt++) {
    let h = 0x811c9dc5;
    for (const ch of salt === 0 ? seed : `${seed}\n${salt}`) {
      h ^= ch.charCodeAt(0);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    let id = '';
    for (let i = 0; i < 6; i++) {
      id += ALPHABET[h % ALPHABET.length];
      h = Math.floor(h / ALPHABET.length);
    }
    if (!b.waiting.has(id) && !b.settled.has(id)) return id;
  }
}

function normalId(id: string): string {
  return id.trim().toLowerCase();
}

function argsSummary(args: Record<string, unknown>): string {
  const json = JSON.stringify(args) ?? '';
  return json.length > 200 ? `${json.slice(0, 199)}…` : json;
}

function duration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  if (ms % 1000 === 0) return `${ms / 1000} second${ms === 1000 ? '' : 's'}`;
  return `${ms} ms`;
}
