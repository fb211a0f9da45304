/** A step's retry policy from the IR, in the shape Temporal's activity and child-workflow options take. */
import type { RetryPolicy as TemporalRetryPolicy } from '@temporalio/workflow';
import type { RetryPolicy } from '../../engine/ir.js';

export function temporalRetry(retry: RetryPolicy): TemporalRetryPolicy {
  return {
    maximumAttempts: retry.maximumAttempts,
    initialInterval: retry.initialInterval,
    backoffCoefficient: retry.backoffCoefficient,
    ...(retry.maximumInterval !== undefined ? { maximumInterval: retry.maximumInterval } : {}),
    nonRetryableErrorTypes: retry.nonRetryableErrorTypes,
  };
}
