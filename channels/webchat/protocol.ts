// The browser ↔ gateway WebSocket protocol of the web chat (`GET /chat/ws`), JSON text frames.
// Browser → gateway: `message`. Gateway → browser: `ack`, `delta`, `activity`, `final`, `error`.
import { compileSchema } from '../schema-validation.js';

export const WEBCHAT_CHANNEL = 'webchat';
/** A chat id or client message id the browser makes up: 8–64 of A-Z a-z 0-9 _ -. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const MAX_TEXT_LENGTH = 32_000;

/** The browser sends a message; clientMessageId makes a resend after a reconnect harmless. */
export interface ClientMessageFrame {
  type: 'message';
  text: string;
  clientMessageId: string;
}

export type ServerFrame =
  /** The message was handed to a conversation; the browser need not resend it. */
  | { type: 'ack'; clientMessageId: string }
  /** More text of the answer to `replyTo` (a clientMessageId); best-effort, may have holes. */
  | { type: 'delta'; replyTo: string; text: string }
  /** The answer to `replyTo` is using a tool (`start`) or is done with it (`end`); best-effort. */
  | { type: 'activity'; replyTo: string; tool: string; phase: 'start' | 'end' }
  /** The answer, as delivered by the workflow; replaces any streamed text for `replyTo`. */
  | { type: 'final'; messageId: string; text: string; replyTo?: string; timestamp: number }
  | { type: 'error'; message: string; clientMessageId?: string };

export const checkClientFrame = compileSchema<ClientMessageFrame>({
  type: 'object',
  additionalProperties: false,
  required: ['type', 'text', 'clientMessageId'],
  properties: {
    type: { const: 'message' },
    text: { type: 'string', minLength: 1, maxLength: MAX_TEXT_LENGTH },
    clientMessageId: { type: 'string', pattern: CLIENT_ID_PATTERN.source },
  },
});
