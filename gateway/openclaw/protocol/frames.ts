// Frame and error shapes on the wire. Codes and `details.code` values are OpenClaw's
// (ErrorCodes / GatewayErrorDetailCodes / ConnectErrorDetailCodes of @openclaw/gateway-protocol).
import type { ErrorShape } from '@openclaw/gateway-protocol';
import type { JsonObject } from './services.js';

export type ErrorCode = 'INVALID_REQUEST' | 'NOT_PAIRED' | 'FORBIDDEN' | 'UNAVAILABLE' | 'APPROVAL_NOT_FOUND';

export interface ResponseFrame {
  type: 'res';
  id: string;
  ok: boolean;
  payload?: unknown;
  error?: ErrorShape;
}

export interface EventFrame {
  type: 'event';
  event: string;
  payload?: unknown;
  seq?: number;
  stateVersion?: { presence: number; health: number };
}

export function protocolError(
  code: ErrorCode,
  message: string,
  extra: { details?: JsonObject; retryable?: boolean; retryAfterMs?: number } = {},
): ErrorShape {
  const error: ErrorShape = { code, message };
  if (extra.details !== undefined) error.details = extra.details;
  if (extra.retryable !== undefined) error.retryable = extra.retryable;
  if (extra.retryAfterMs !== undefined) error.retryAfterMs = Math.max(0, Math.round(extra.retryAfterMs));
  return error;
}

/** A node's payload: `payload`, else `payloadJSON` parsed (kept as the string when it is not JSON). */
export function nodePayload(params: { payload?: unknown; payloadJSON?: string }): unknown {
  if (params.payload !== undefined || params.payloadJSON === undefined) return params.payload;
  try {
    return JSON.parse(params.payloadJSON);
  } catch {
    return params.payloadJSON;
  }
}

export function okFrame(id: string, payload: unknown): ResponseFrame {
  return payload === undefined ? { type: 'res', id, ok: true } : { type: 'res', id, ok: true, payload };
}

export function errorFrame(id: string, error: ErrorShape): ResponseFrame {
  return { type: 'res', id, ok: false, error };
}

export function missingScopeError(missingScope: string): ErrorShape {
  return protocolError('FORBIDDEN', `missing scope: ${missingScope}`, {
    details: { code: 'MISSING_SCOPE', missingScope, requiredScopes: [missingScope] },
  });
}

/** WebSocket close codes the gateway uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** Close reasons are limited to 123 bytes by RFC 6455. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return buf.length <= 123
    ? text
    : buf
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}
