/**
 * OpenClaw's `exec.approval.get` / `exec.approval.resolve` on Switchyard's tool approvals (a tool
 * marked `approval: required` waits in its turn workflow for the owner; client/approvals.ts).
 * OpenClaw's decisions map onto Switchyard's: `allow-once` approves this one call, `deny` denies
 * it; `allow-always` is refused, since Switchyard keeps no standing grants. Unknown or already
 * answered ids answer as OpenClaw does: INVALID_REQUEST with `details.reason` APPROVAL_NOT_FOUND.
 */
import type { Client } from '@temporalio/client';
import {
  ApprovalError,
  type ListedApproval,
  listApprovals,
  resolveApprovalById,
} from '../../client/approvals.js';
import { GatewayMethodError, type GatewayServices } from './protocol/services.js';

type Decision = 'allow-once' | 'deny';
const ALLOWED_DECISIONS: readonly Decision[] = ['allow-once', 'deny'];

/** Resolutions made here are remembered this long, so a client's retry gets the same answer. */
const REMEMBER_MS = 10 * 60_000;
const REMEMBER_MAX = 1_000;

export interface OpenclawApprovals {
  services: Pick<GatewayServices, 'execApprovalGet' | 'execApprovalResolve'>;
}

export function createOpenclawApprovals(options: { client: Client; taskQueue?: string }): OpenclawApprovals {
  const { client, taskQueue } = options;
  const resolved = new Map<string, { decision: Decision; at: number }>();

  async function pending(id: string): Promise<ListedApproval> {
    const approval = (await listApprovals(client, { taskQueue })).find((a) => a.id === id);
    if (!approval) throw notFound();
    return approval;
  }

  function remember(id: string, decision: Decision): void {
    const now = Date.now();
    resolved.set(id, { decision, at: now });
    for (const [key, entry] of resolved) {
      if (resolved.size <= REMEMBER_MAX && now - entry.at < REMEMBER_MS) break;
      resolved.delete(key);
    }
  }

  return {
    services: {
      async execApprovalGet(params) {
        const id = normalId(params.id);
        const approval = await pending(id);
        return {
          id,
          commandText: `${approval.tool} ${approval.args}`.trim(),
          commandPreview: null,
          allowedDecisions: [...ALLOWED_DECISIONS],
          host: null,
          nodeId: null,
          agentId: agentOf(approval.workflowId),
          expiresAtMs: approval.expiresAt,
        };
      },

      async execApprovalResolve(params) {
        const id = normalId(params.id);
        const decision = params.decision;
        if (decision === 'allow-always') {
          throw new GatewayMethodError(
            'INVALID_REQUEST',
            'allow-always is unavailable: Switchyard approves one tool call at a time (use allow-once)',
            { reason: 'APPROVAL_ALLOW_ALWAYS_UNAVAILABLE' },
          );
        }
        if (!isDecision(decision)) {
          throw new GatewayMethodError(
            'INVALID_REQUEST',
            `invalid decision '${decision}': expected ${ALLOWED_DECISIONS.join(' or ')}`,
          );
        }
        const earlier = resolved.get(id);
        if (earlier && Date.now() - earlier.at < REMEMBER_MS) {
          if (earlier.decision === decision) return { ok: true };
          throw alreadyResolved(id);
        }
        try {
          await resolveApprovalById(client, id, decision === 'allow-once' ? 'approve' : 'deny', {
            ...(taskQueue ? { taskQueue } : {}),
          });
        } catch (err) {
          throw asProtocolError(err, id);
        }
        remember(id, decision);
        return { ok: true };
      },
    },
  };
}

function isDecision(value: string): value is Decision {
  return (ALLOWED_DECISIONS as readonly string[]).includes(value);
}

function normalId(id: string): string {
  return id.trim().toLowerCase();
}

/** The agent of a turn `turn:agent:<agent>:…` or of a session running it `session:agent:<agent>:…`. */
function agentOf(workflowId: string): string | null {
  return /^(?:turn|session):agent:([^:]+):/.exec(workflowId)?.[1] ?? null;
}

function notFound(): GatewayMethodError {
  return new GatewayMethodError('INVALID_REQUEST', 'unknown or expired approval id', {
    reason: 'APPROVAL_NOT_FOUND',
    remediation:
      'It was already answered, it expired, or it was requested a moment ago (listing lags a second); ' +
      '`switchyard approvals list` shows what waits.',
  });
}

function alreadyResolved(id: string): GatewayMethodError {
  return new GatewayMethodError('INVALID_REQUEST', `approval '${id}' already resolved`, {
    reason: 'APPROVAL_ALREADY_RESOLVED',
  });
}

function asProtocolError(err: unknown, id: string): unknown {
  if (!(err instanceof ApprovalError)) return err;
  switch (err.code) {
    case 'unknown':
    case 'not_running':
      return notFound();
    case 'already_resolved':
      return alreadyResolved(id);
    default:
      return new GatewayMethodError('INVALID_REQUEST', err.message);
  }
}
