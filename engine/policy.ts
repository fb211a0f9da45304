/**
 * Retry policies and deadlines as pipelines write them (`retry:`, `timeout:`, the pipeline's
 * `defaults:`, a tool's `tool_options:`), turned into Temporal's field names and milliseconds.
 */
import type { CompileContext, RetryInput } from './compile-context.js';
import { parseDuration } from './duration.js';
import type { RetryPolicy } from './ir.js';
import type { FieldPath } from './source.js';

const ENGINE_RETRY: RetryPolicy = {
  maximumAttempts: 3,
  initialInterval: 1000,
  backoffCoefficient: 2,
  nonRetryableErrorTypes: [],
};

/** A duration field that must be more than nothing (its shape is checked by the schema). */
export function positiveDuration(
  ctx: CompileContext,
  value: unknown,
  path: FieldPath,
  field: string,
): number | undefined {
  const ms = parseDuration(value);
  if (ms === 0) ctx.errors.push(ctx.src.error(path, `${field} must be greater than 0`, value));
  return ms;
}

export function resolveRetry(
  ctx: CompileContext,
  own: RetryInput | undefined,
  typeDefaults: RetryInput | undefined,
  path: FieldPath,
): RetryPolicy {
  const layers = [typeDefaults, ctx.defaults.retry, own].filter(
    (l): l is RetryInput => !!l && typeof l === 'object',
  );
  const policy: RetryPolicy = { ...ENGINE_RETRY, nonRetryableErrorTypes: [] };
  for (const l of layers) Object.assign(policy, retryFields(l));
  checkIntervals(ctx, policy, own, path);
  return policy;
}

/** The fields a `retry:` mapping sets, in Temporal's names and milliseconds; the rest stay absent. */
export function retryFields(input: RetryInput): Partial<RetryPolicy> {
  const out: Partial<RetryPolicy> = {};
  if (typeof input.max_attempts === 'number') out.maximumAttempts = input.max_attempts;
  const ii = parseDuration(input.initial_interval);
  if (ii !== undefined) out.initialInterval = ii;
  if (typeof input.backoff_coefficient === 'number') out.backoffCoefficient = input.backoff_coefficient;
  const mi = parseDuration(input.max_interval);
  if (mi !== undefined) out.maximumInterval = mi;
  if (Array.isArray(input.non_retryable)) out.nonRetryableErrorTypes = input.non_retryable.map(String);
  return out;
}

/** `max_interval` below `initial_interval` is refused (checked when both are known). */
export function checkIntervals(
  ctx: CompileContext,
  policy: Partial<RetryPolicy>,
  own: RetryInput | undefined,
  path: FieldPath,
): void {
  const { initialInterval, maximumInterval } = policy;
  if (initialInterval === undefined || maximumInterval === undefined) return;
  if (maximumInterval >= initialInterval) return;
  ctx.errors.push(
    ctx.src.error(
      [...path, 'max_interval'],
      `max_interval (${maximumInterval}ms) must not be shorter than initial_interval (${initialInterval}ms)`,
      own?.max_interval,
    ),
  );
}
