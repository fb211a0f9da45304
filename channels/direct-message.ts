/**
 * A one-to-one message that no chat platform delivered: a hook, the OpenAI API, an OpenClaw app,
 * the web chat, a scheduled task, the CLI. Every such envelope is a direct chat that mentions the
 * assistant. Pure (types only), so the schedule workflow uses it too.
 */
import type { AttachmentRef, InboundMessage, Sender } from './envelope.js';

export interface DirectMessageFields {
  channel: string;
  accountId: string;
  chatId: string;
  sender: Sender;
  messageId: string;
  text: string;
  /** Default none. */
  attachments?: AttachmentRef[];
  /** Default `<channel>:<messageId>`. */
  platformId?: string;
  /** Default now. */
  timestamp?: number;
}

export function directMessage(fields: DirectMessageFields): InboundMessage {
  return {
    channel: fields.channel,
    accountId: fields.accountId,
    chat: { id: fields.chatId, kind: 'direct' },
    sender: fields.sender,
    messageId: fields.messageId,
    platformId: fields.platformId ?? `${fields.channel}:${fields.messageId}`,
    text: fields.text,
    attachments: fields.attachments ?? [],
    mentions: [],
    wasMentioned: true,
    timestamp: fields.timestamp ?? Date.now(),
  };
}
