/**
 * `approval: required` (and `approval_timeout:`) on a step: before the step runs, the run waits
 * for the owner's decision, through the same approvals as tools. Allowed on steps that act
 * (`uses:`, `call:`) and on blocks that run other steps (asked once, before the block starts);
 * refused where there is nothing to approve (`set:`, `return:`, `raise:`, `wait:`, `wait_for:`).
 */
import type { CompileContext, RawStep } from './compile-context.js';
import type { StepKind } from './ir.js';
import { positiveDuration } from './policy.js';
import type { FieldPath } from './source.js';

export const APPROVAL_KINDS: readonly StepKind[] = ['uses', 'call', 'switch', 'parallel', 'foreach', 'try'];

export function compileStepApproval(
  ctx: CompileContext,
  raw: RawStep,
  path: FieldPath,
  kind: StepKind,
): { approval?: 'required'; approvalTimeout?: number } {
  if (!('approval' in raw) && !('approval_timeout' in raw)) return {};
  const field = 'approval' in raw ? 'approval' : 'approval_timeout';
  if (!APPROVAL_KINDS.includes(kind)) {
    ctx.errors.push(
      ctx.src.error(
        [...path, field],
        `${field}: applies to steps that act (uses:, call:) or run other steps (switch:, parallel:, foreach:, try:); a ${kind}: step has nothing to approve`,
        field,
        { key: true },
      ),
    );
    return {};
  }
  if (raw.approval !== 'required') {
    if ('approval_timeout' in raw) {
      ctx.errors.push(
        ctx.src.error(
          [...path, 'approval_timeout'],
          'approval_timeout needs approval: required next to it',
          'approval_timeout',
          { key: true },
        ),
      );
    }
    return {}; // a wrong `approval:` value is the schema's to report
  }
  if (!('approval_timeout' in raw)) return { approval: 'required' };
  const ms = positiveDuration(ctx, raw.approval_timeout, [...path, 'approval_timeout'], 'approval_timeout');
  return { approval: 'required', ...(ms ? { approvalTimeout: ms } : {}) };
}
