// The envelope every connector produces: one platform update, normalised. Validated once at the
// door (schemas/inbound-message.schema.json); everything past the gateway trusts the type.
import inboundMessageSchema from '../schemas/inbound-message.schema.json' with { type: 'json' };
import { compileSchema, type Validated } from './schema-validation.js';

export { inboundMessageSchema };

export type ChatKind = 'direct' | 'group' | 'thread';

export interface Chat {
  /** The conversation: the DM chat, or the group that contains a thread. */
  id: string;
  kind: ChatKind;
  title?: string;
  /** Thread or topic inside `id`; always set when kind is 'thread'. */
  threadId?: string;
  /** The space containing `id` when the platform has one (Discord guild, Slack team). */
  parentId?: string;
}

export interface Sender {
  id: string;
  name?: string;
  username?: string;
}

/** A reference to media (a url or a blob-store key), never the bytes. */
export interface AttachmentRef {
  id: string;
  mime: string;
  /** Bytes, when the platform says. */
  size?: number;
  name?: string;
  url?: string;
  blobKey?: string;
}

export interface ReplyRef {
  messageId: string;
  senderId?: string;
  text?: string;
}

export interface InboundMessage {
  /** Connector id, lowercase: telegram, webchat, ... */
  channel: string;
  /** Which account of the channel received it; 'default' when there is one. */
  accountId: string;
  chat: Chat;
  sender: Sender;
  /** Platform message id, unique within chat.id. */
  messageId: string;
  /** Empty when the message is only attachments. */
  text: string;
  attachments: AttachmentRef[];
  replyTo?: ReplyRef;
  /** Ids or usernames mentioned, as the platform gives them. */
  mentions: string[];
  /** True for an @mention of the assistant, a reply to it, or a bot command. */
  wasMentioned: boolean;
  /** Sent time in milliseconds since the Unix epoch (UTC). */
  timestamp: number;
  /** Raw platform id of the delivery (e.g. Telegram update_id), for dropping re-deliveries. */
  platformId: string;
}

const check = compileSchema<InboundMessage>(inboundMessageSchema);

/** Check an untrusted value against the envelope schema; errors name the field and what was expected. */
export function validateInboundMessage(value: unknown): Validated<InboundMessage> {
  return check(value);
}
