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
  /**
   * What OpenClaw's session keys call a room of many people: `channel` for Slack and Discord
   * channels, `group` (the default) for everything else. Unused for direct chats.
   */
  roomType?: 'group' | 'channel';
}

export interface Sender {
  id: string;
  name?: string;
  username?: string;
}

/**
 * What an attachment is, as the connector saw it: `voice` is a recorded voice note (Telegram's
 * voice, a web chat recording), `audio` any other sound file. Enrichment checks the bytes again.
 */
export type AttachmentKind = 'image' | 'voice' | 'audio' | 'video' | 'document' | 'file';

/**
 * A reference to media, never the bytes. The connector downloads the file into the blob store
 * (content-addressed: the file's sha256 is its address) before the message goes on; a file it
 * could not keep carries `error` instead, so the agent is told rather than the file dropped.
 */
export interface AttachmentRef {
  /** The platform's id of the file (Telegram's file_unique_id, an upload id…). */
  id: string;
  kind: AttachmentKind;
  /** MIME type as the platform or uploader declared it (may lie; enrichment checks the bytes). */
  mime: string;
  /** Bytes: the stored file's size, else what the platform declared. */
  size?: number;
  /** File name, when there is one. */
  name?: string;
  /** Hex sha256 of the bytes: their address in the blob store. Absent when not stored. */
  sha256?: string;
  /** Where the platform keeps the file (a URL, `telegram:file/<file_id>`); informational. */
  url?: string;
  /** Why the bytes were not stored (over the size limit, no longer downloadable). */
  error?: string;
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
