/**
 * `approval: required` on a pipeline step: after its `if:` and before it runs, the run waits for
 * the owner through the same approvals as tool calls (workflows/agent/approval.ts: the
 * `approval.resolve` update, the `approval.pending` query, the `pendingApprovals` memo, a
 * notice in the chat the message came from). The owner sees what the step will run with (its
 * evaluated `with:`, a `call:`'s inputs, a `foreach:`'s items), every value read from `env`
 * masked; the step then runs with exactly those values. Denied or unanswered: `StepNotApproved`.
 */

import type { InboundMessage } from '../../channels/envelope.js';
import { resolveTemplate } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';
import type { Expr, Step, Template } from '../../engine/ir.js';
import { isRecord } from '../../engine/records.js';
import { awaitApproval, stepRefusalText } from '../agent/approval.js';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from '../agent/approval-api.js';
import { approvalNoticeTarget } from '../agent/approval-notice.js';
import { stepFailure } from './pipeline-errors.js';
import { contextOf, type Scope } from './pipeline-scope.js';

/** The values an approved step runs with (undefined for steps that evaluate nothing up front). */
export interface Approved {
  value: unknown;
}

export async function approveStep(step: Step, scope: Scope): Promise<Approved> {
  const part = approvedPart(step);
  const value = part ? resolveTemplate(part.template, contextOf(scope)) : undefined;
  const shown = part ? masked(part.template, value, scope.run.input.env ?? {}) : {};
  const args = part?.name ? { [part.name]: shown } : shown;
  const notify = approvalNoticeTarget(scope.run.input.message as InboundMessage | undefined);
  const outcome = await awaitApproval({
    tool: `step ${step.id}`,
    toolCallId: `step:${step.id}`,
    step: step.id,
    args: isRecord(args) ? args : { value: args },
    timeoutMs: step.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    key: scope.run.key,
    ...(notify ? { notify } : {}),
  });
  if (outcome.status !== 'approved') {
    throw stepFailure(Failures.StepNotApproved, stepRefusalText(step.id, outcome), step.id);
  }
  return { value };
}

/** What a step evaluates before it starts, and under which name the owner sees it. */
function approvedPart(step: Step): { template: Template; name?: string } | undefined {
  switch (step.kind) {
    case 'uses':
      return { template: step.with };
    case 'call':
      return { template: step.inputs };
    case 'foreach':
      return { template: step.items, name: 'items' };
    default:
      return undefined;
  }
}

const HIDDEN = '[hidden: read from env]';

/** Values computed from `env` are hidden, and any env value that still shows up is masked. */
function masked(template: Template, value: unknown, env: Record<string, string>): unknown {
  const secrets = Object.entries(env)
    .filter(([, v]) => v !== '')
    .sort(([, a], [, b]) => b.length - a.length);
  return maskValues(maskEnvReads(template, value), secrets);
}

function maskEnvReads(template: Template, value: unknown): unknown {
  switch (template.kind) {
    case 'literal':
      return value;
    case 'expr':
      return readsEnv(template.expr) ? HIDDEN : value;
    case 'text':
      return template.parts.some((p) => typeof p !== 'string' && readsEnv(p)) ? HIDDEN : value;
    case 'list':
      return Array.isArray(value)
        ? value.map((v, i) => {
            const item = template.items[i];
            return item ? maskEnvReads(item, v) : v;
          })
        : value;
    case 'object': {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const field = template.fields[k];
        out[k] = field ? maskEnvReads(field, v) : v;
      }
      return out;
    }
  }
}

/** Over-matches (a field named `env`) rather than miss a read. */
function readsEnv(expr: Expr): boolean {
  return /\benv\b/.test(expr.cel);
}

function maskValues(value: unknown, secrets: Array<[string, string]>): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const [name, secret] of secrets) text = text.split(secret).join(`[env.${name}]`);
    return text;
  }
  if (Array.isArray(value)) return value.map((v) => maskValues(v, secrets));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[maskValues(k, secrets) as string] = maskValues(v, secrets);
    return out;
  }
  return value;
}
