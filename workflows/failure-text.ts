/** How a failure reads to a person: the innermost useful message, with its error name. */
import { ApplicationFailure } from '@temporalio/workflow';

export interface FailureInfo {
  /** The error name (an ApplicationFailure's type, e.g. `AgentFailed`), or '' when it has none. */
  type: string;
  message: string;
}

export function failureInfo(error: unknown): FailureInfo {
  let current: unknown = error;
  // A child or activity failure wraps the pipeline's own error; the innermost message is the useful one.
  while (current instanceof Error && 'cause' in current && current.cause instanceof Error) {
    current = current.cause;
  }
  if (current instanceof ApplicationFailure) return { type: current.type ?? '', message: current.message };
  return { type: '', message: current instanceof Error ? current.message : String(current) };
}

/** `Type: message`, or the bare message. */
export function describeFailure(error: unknown): string {
  return failureLine(failureInfo(error));
}

export function failureLine({ type, message }: FailureInfo): string {
  return type ? `${type}: ${message}` : message;
}
