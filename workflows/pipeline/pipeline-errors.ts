/**
 * Step failures as pipelines see them: a name (`catch: errors:`, `retry.non_retryable`), a
 * message and the id of the step that failed. Everything a step throws becomes a
 * non-retryable ApplicationFailure whose `type` is that name, so a broken step fails the run
 * (visible in the UI) instead of retrying the workflow task forever.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  isCancellation,
  TimeoutFailure,
} from '@temporalio/workflow';
import { ExpressionError } from '../../engine/expr.js';
import { Failures } from '../../engine/failures.js';

/** The `error` variable inside `catch:`. */
export interface StepErrorInfo {
  name: string;
  message: string;
  step: string;
}

interface FailureDetails {
  pipelineStep: string;
}

export function stepFailure(name: string, message: string, step: string): ApplicationFailure {
  const details: FailureDetails = { pipelineStep: step };
  return ApplicationFailure.create({ type: name, message, nonRetryable: true, details: [details] });
}

/** Classify what a step threw; a failure already classified deeper keeps its name and step. */
export function asStepFailure(error: unknown, step: string): unknown {
  if (isCancellation(error)) return error;
  if (error instanceof ApplicationFailure && stepOf(error) !== undefined) return error;
  const { name, message } = classify(error);
  return stepFailure(name, message, step);
}

export function errorInfo(error: unknown): StepErrorInfo {
  const { name, message } = classify(error);
  const step = error instanceof ApplicationFailure ? (stepOf(error) ?? '') : '';
  return { name, message, step };
}

function stepOf(failure: ApplicationFailure): string | undefined {
  const d = failure.details?.[0] as Partial<FailureDetails> | undefined;
  return typeof d?.pipelineStep === 'string' ? d.pipelineStep : undefined;
}

function classify(error: unknown): { name: string; message: string } {
  if ((error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) && error.cause) {
    return classify(error.cause);
  }
  if (error instanceof TimeoutFailure)
    return { name: Failures.Timeout, message: error.message || 'timed out' };
  if (error instanceof ApplicationFailure) return { name: error.type ?? 'Error', message: error.message };
  if (error instanceof ExpressionError) return { name: Failures.ExpressionError, message: error.message };
  if (error instanceof Error) return { name: error.name || 'Error', message: error.message };
  return { name: 'Error', message: String(error) };
}
