// The browser ↔ gateway WebSocket protocol of the web chat (`GET /chat/ws`), JSON text frames.
// Browser → gateway: `message`, `setup`. Gateway → browser: `ack`, `delta`, `activity`, `final`,
// `setup`, `error`. `setup` frames are onboarding (no model yet): the gateway holds the message
// back, asks for a provider and a key, and never puts the answers into a message or a turn.
import { compileSchema } from '../schema-validation.js';

export const WEBCHAT_CHANNEL = 'webchat';
/** A chat id or client message id the browser makes up: 8–64 of A-Z a-z 0-9 _ -. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
export const MAX_TEXT_LENGTH = 32_000;
/** Files one message may carry. */
export const MAX_ATTACHMENTS = 10;

/** A file the browser uploaded first (`POST /chat/upload`), named by the address it got back. */
export interface ClientAttachment {
  sha256: string;
  mime: string;
  name?: string;
  /** `voice` for a recording made in the page; otherwise the kind follows the MIME type. */
  kind?: 'voice';
}

/** The browser sends a message; clientMessageId makes a resend after a reconnect harmless. */
export interface ClientMessageFrame {
  type: 'message';
  /** May be empty when the message carries attachments. */
  text: string;
  clientMessageId: string;
  attachments?: ClientAttachment[];
}

/** A file the answer carries: the page shows it from `GET /chat/media/<sha256>`. */
export interface FinalAttachment {
  sha256: string;
  mime: string;
  name?: string;
  kind: string;
}

export type ServerFrame =
  /** The message was handed to a conversation; the browser need not resend it. */
  | { type: 'ack'; clientMessageId: string }
  /** More text of the answer to `replyTo` (a clientMessageId); best-effort, may have holes. */
  | { type: 'delta'; replyTo: string; text: string }
  /** The answer to `replyTo` is using a tool (`start`) or is done with it (`end`); best-effort. */
  | { type: 'activity'; replyTo: string; tool: string; phase: 'start' | 'end' }
  /** The answer, as delivered by the workflow; replaces any streamed text for `replyTo`. */
  | {
      type: 'final';
      messageId: string;
      text: string;
      replyTo?: string;
      timestamp: number;
      attachments?: FinalAttachment[];
    }
  /** Onboarding: the model is not set up; the message waits (unacknowledged) until it is. */
  | { type: 'setup'; view: SetupView }
  | { type: 'error'; message: string; clientMessageId?: string };

/** One field of a setup form. */
export interface SetupField {
  name: 'apiKey' | 'model' | 'baseUrl' | 'modelFile';
  label: string;
  required: boolean;
  /** A key: typed into a password field, never shown again, never kept by the page. */
  secret?: boolean;
  /** Prefilled value. */
  value?: string;
  placeholder?: string;
}

/** What onboarding shows: pick a provider, fill its form, done. The CLI renders the same. */
export interface SetupView {
  step: 'provider' | 'details' | 'done';
  /** What to tell the person (plain text; lines separated by \n). */
  text: string;
  /** Why the last answer did not work (the test call's error, a refused value). */
  error?: string;
  /** step provider */
  choices?: Array<{ id: string; label: string }>;
  /** step details: the chosen provider and its form */
  provider?: string;
  fields?: SetupField[];
  /** step done: the model now configured, `<provider>/<model id>` */
  model?: string;
}

/** Browser → gateway: an answer to the setup view. */
export type ClientSetupFrame =
  | { type: 'setup'; action: 'choose'; provider: string }
  | { type: 'setup'; action: 'submit'; values: Partial<Record<SetupField['name'], string>> }
  | { type: 'setup'; action: 'back' }
  /** The client gives up (a script that cannot answer): its held messages are dropped, said so. */
  | { type: 'setup'; action: 'cancel' };

export const checkSetupFrame = compileSchema<ClientSetupFrame>({
  type: 'object',
  required: ['type', 'action'],
  oneOf: [
    {
      additionalProperties: false,
      required: ['provider'],
      properties: {
        type: { const: 'setup' },
        action: { const: 'choose' },
        provider: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' },
      },
    },
    {
      additionalProperties: false,
      required: ['values'],
      properties: {
        type: { const: 'setup' },
        action: { const: 'submit' },
        values: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(
            ['apiKey', 'model', 'baseUrl', 'modelFile'].map((k) => [k, { type: 'string', maxLength: 4096 }]),
          ),
        },
      },
    },
    {
      additionalProperties: false,
      properties: { type: { const: 'setup' }, action: { enum: ['back', 'cancel'] } },
    },
  ],
});

export const checkClientFrame = compileSchema<ClientMessageFrame>({
  description: 'a message needs text or at least one attachment',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'text', 'clientMessageId'],
  properties: {
    type: { const: 'message' },
    text: { type: 'string', maxLength: MAX_TEXT_LENGTH },
    clientMessageId: { type: 'string', pattern: CLIENT_ID_PATTERN.source },
    attachments: {
      type: 'array',
      maxItems: MAX_ATTACHMENTS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sha256', 'mime'],
        properties: {
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          mime: { type: 'string', pattern: '^[a-z0-9.+-]+/[a-zA-Z0-9.+_-]+$' },
          name: { type: 'string', maxLength: 255 },
          kind: { const: 'voice' },
        },
      },
    },
  },
  // Something to answer: text, or at least one file.
  anyOf: [
    { properties: { text: { type: 'string', minLength: 1 } } },
    { required: ['attachments'], properties: { attachments: { type: 'array', minItems: 1 } } },
  ],
});
