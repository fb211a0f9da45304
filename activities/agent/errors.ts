/**
 * pi-ai reports a failed call as an assistant message with `stopReason: 'error'` instead of
 * throwing. This turns it into an ApplicationFailure so Temporal's retry policy decides:
 * rate limits, server errors and timeouts are retried; auth, validation and context overflow
 * are not (the workflow then moves on to the next fallback model).
 */
import { type AssistantMessage, isContextOverflow } from '@mariozechner/pi-ai';
import { ApplicationFailure } from '@temporalio/common';
import { type FailureName, Failures } from '../../engine/failures.js';
import type { AgentConfigError } from './config.js';

export interface ProviderErrorClass {
  type: FailureName;
  retryable: boolean;
  status?: number;
}

/** Classifies a provider error message (SDKs start theirs with the HTTP status, e.g. "401 …"). */
export function classifyProviderError(message: AssistantMessage, contextWindow?: number): ProviderErrorClass {
  const text = message.errorMessage ?? '';
  if (isContextOverflow(message, contextWindow))
    return { type: Failures.ModelContextOverflow, retryable: false };
  const status = statusOf(text);
  if (status !== undefined) {
    if (status === 408 || status === 409 || status === 425 || status === 429 || status >= 500) {
      return { type: Failures.ModelCallRetryable, retryable: true, status };
    }
    if (status === 401 || status === 403) return { type: Failures.ModelAuthError, retryable: false, status };
    if (status >= 400) return { type: Failures.ModelRequestInvalid, retryable: false, status };
  }
  if (/api key|unauthori[sz]ed|authentication|permission denied|forbidden/i.test(text)) {
    return { type: Failures.ModelAuthError, retryable: false };
  }
  // Timeouts, dropped connections and unknown failures are worth another attempt.
  return { type: Failures.ModelCallRetryable, retryable: true };
}

function statusOf(text: string): number | undefined {
  const leading = /^\s*(\d{3})\b/.exec(text);
  const labelled = /\b(?:status(?: code)?|code|HTTP)[\s:="]*(\d{3})\b/i.exec(text);
  const value = Number(leading?.[1] ?? labelled?.[1]);
  return value >= 100 && value < 600 ? value : undefined;
}

/** The failure the activity throws; the message is what the user eventually reads. */
export function modelCallFailure(
  ref: string,
  message: AssistantMessage,
  contextWindow: number,
): ApplicationFailure {
  const kind = classifyProviderError(message, contextWindow);
  const text = `model ${ref} failed: ${clip(message.errorMessage ?? 'unknown provider error')}`;
  const details = [{ model: ref, status: kind.status ?? null }];
  return kind.retryable
    ? ApplicationFailure.retryable(text, kind.type, ...details)
    : ApplicationFailure.nonRetryable(text, kind.type, ...details);
}

export function configFailure(error: AgentConfigError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(error.message, Failures.ModelConfigError);
}

/** Never let a key leak into an error message (some providers echo it partially). */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.replaceAll(secret, '***');
  return out;
}

function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
