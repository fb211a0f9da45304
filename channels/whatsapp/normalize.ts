// baileys `messages.upsert` messages → InboundMessage. Pure: no socket, no state. People are
// named by their phone number in E.164 (+15551234567) when WhatsApp gives it — what an owner
// writes in allowFrom and what OpenClaw's WhatsApp session keys use — else by their JID (LID
// addressing without a known number). Chats keep their JID: that is where replies go.
import {
  areJidsSameUser,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isPnUser,
  jidNormalizedUser,
  normalizeMessageContent,
  type proto,
  type WAMessage,
} from 'baileys';
import { kindFromMime } from '../attachments.js';
import type { AttachmentKind, AttachmentRef, Chat, InboundMessage, ReplyRef } from '../envelope.js';

export const WHATSAPP_CHANNEL = 'whatsapp';

/** Who the linked account is (creds.me): its phone JID and, when known, its LID. */
export interface WhatsAppIdentity {
  /** e.g. 15550000000@s.whatsapp.net (device suffix removed). */
  jid: string;
  /** e.g. 15550000000@lid. */
  lid?: string;
}

export type SkipReason =
  | 'from-me'
  | 'status-or-broadcast'
  | 'no-content'
  | 'protocol-message'
  | 'reaction'
  | 'no-sender';

export type NormalizedMessage =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'skip'; reason: SkipReason };

/** Stable across re-delivery of the same message. */
export function whatsappPlatformId(chatJid: string, messageId: string): string {
  return `whatsapp:${chatJid}:${messageId}`;
}

/** +<digits> for a phone-number JID, else the normalised JID. */
export function personId(jid: string): string {
  const normalized = jidNormalizedUser(jid);
  if (isPnUser(normalized)) return `+${normalized.split('@')[0]}`;
  return normalized;
}

export function normalizeMessage(
  raw: WAMessage,
  self: WhatsAppIdentity,
  accountId = 'default',
): NormalizedMessage {
  const key = raw.key;
  if (key.fromMe) return { kind: 'skip', reason: 'from-me' };
  const remote = key.remoteJid ?? '';
  if (!remote || isJidStatusBroadcast(remote) || isJidBroadcast(remote) || isJidNewsletter(remote)) {
    return { kind: 'skip', reason: 'status-or-broadcast' };
  }
  const content = normalizeMessageContent(raw.message);
  if (!content) return { kind: 'skip', reason: 'no-content' };
  if (content.protocolMessage) return { kind: 'skip', reason: 'protocol-message' };
  if (content.reactionMessage) return { kind: 'skip', reason: 'reaction' };

  const group = isJidGroup(remote) === true;
  // In a group the author is the participant; LID-addressed chats carry the phone JID as `*Alt`.
  const authorJid = group ? (key.participantAlt ?? key.participant) : (key.remoteJidAlt ?? remote);
  if (!authorJid) return { kind: 'skip', reason: 'no-sender' };
  const chatJid = group ? remote : jidNormalizedUser(remote);

  const text = textOf(content);
  const attachments = attachmentsOf(content, key.id ?? '');
  if (text === '' && attachments.length === 0) return { kind: 'skip', reason: 'no-content' };

  const context = contextOf(content);
  const mentionedJids = (context?.mentionedJid ?? []).filter((j): j is string => typeof j === 'string');
  const replyTo = replyOf(context);
  const chat: Chat = { id: chatJid, kind: group ? 'group' : 'direct' };
  const messageId = key.id ?? '';
  const message: InboundMessage = {
    channel: WHATSAPP_CHANNEL,
    accountId,
    chat,
    sender: {
      id: personId(authorJid),
      ...(raw.pushName ? { name: raw.pushName } : {}),
    },
    messageId,
    text,
    attachments,
    mentions: mentionedJids.map(personId),
    wasMentioned: addressesUs(text, mentionedJids, context, self),
    timestamp: timestampOf(raw.messageTimestamp),
    platformId: whatsappPlatformId(chatJid, messageId),
    ...(replyTo ? { replyTo } : {}),
  };
  return { kind: 'message', message };
}

function isSelf(jid: string | null | undefined, self: WhatsAppIdentity): boolean {
  if (!jid) return false;
  return areJidsSameUser(jid, self.jid) || (self.lid !== undefined && areJidsSameUser(jid, self.lid));
}

/**
 * An @-mention of the linked number (in mentionedJid, or written as @<number> — what clients put
 * in the text, and all a test server can send), or a reply to one of our messages.
 */
function addressesUs(
  text: string,
  mentioned: readonly string[],
  context: proto.IContextInfo | undefined,
  self: WhatsAppIdentity,
): boolean {
  if (mentioned.some((jid) => isSelf(jid, self))) return true;
  if (context?.stanzaId && isSelf(context.participant, self)) return true;
  const handles = [self.jid, self.lid].flatMap((jid) => (jid ? [jid.split('@')[0]!.split(':')[0]!] : []));
  return handles.some((user) => new RegExp(`(^|\\W)@${user}(?!\\d)`).test(text));
}

function textOf(content: proto.IMessage): string {
  return (
    content.conversation ??
    content.extendedTextMessage?.text ??
    content.imageMessage?.caption ??
    content.videoMessage?.caption ??
    content.documentMessage?.caption ??
    content.documentWithCaptionMessage?.message?.documentMessage?.caption ??
    ''
  );
}

function contextOf(content: proto.IMessage): proto.IContextInfo | undefined {
  return (
    content.extendedTextMessage?.contextInfo ??
    content.imageMessage?.contextInfo ??
    content.videoMessage?.contextInfo ??
    content.audioMessage?.contextInfo ??
    content.documentMessage?.contextInfo ??
    content.stickerMessage?.contextInfo ??
    undefined
  );
}

function replyOf(context: proto.IContextInfo | undefined): ReplyRef | undefined {
  if (!context?.stanzaId) return undefined;
  const quoted = context.quotedMessage ? normalizeMessageContent(context.quotedMessage) : undefined;
  const text = quoted ? textOf(quoted) : '';
  return {
    messageId: context.stanzaId,
    ...(context.participant ? { senderId: personId(context.participant) } : {}),
    ...(text ? { text } : {}),
  };
}

/** The message's media as a reference (its bytes are fetched by the connector, not here). */
export function attachmentsOf(content: proto.IMessage, messageId: string): AttachmentRef[] {
  const media = mediaOf(content);
  if (!media) return [];
  const size = toNumber(media.node.fileLength);
  return [
    {
      id: messageId,
      kind: media.kind,
      mime: media.mime,
      url: `whatsapp:message/${messageId}`,
      ...(size === undefined ? {} : { size }),
      ...(media.name ? { name: media.name } : {}),
    },
  ];
}

interface Media {
  kind: AttachmentKind;
  mime: string;
  name?: string;
  node: { fileLength?: number | Long | null };
}
type Long = { toNumber(): number };

function mediaOf(content: proto.IMessage): Media | undefined {
  if (content.imageMessage) {
    return {
      kind: 'image',
      mime: mimeOr(content.imageMessage.mimetype, 'image/jpeg'),
      node: content.imageMessage,
    };
  }
  if (content.videoMessage) {
    return {
      kind: 'video',
      mime: mimeOr(content.videoMessage.mimetype, 'video/mp4'),
      node: content.videoMessage,
    };
  }
  if (content.audioMessage) {
    return {
      kind: content.audioMessage.ptt ? 'voice' : 'audio',
      mime: mimeOr(content.audioMessage.mimetype, 'audio/ogg'),
      node: content.audioMessage,
    };
  }
  const document = content.documentMessage ?? content.documentWithCaptionMessage?.message?.documentMessage;
  if (document) {
    const mime = mimeOr(document.mimetype, 'application/octet-stream');
    return {
      kind: kindFromMime(mime),
      mime,
      ...(document.fileName ? { name: document.fileName } : {}),
      node: document,
    };
  }
  if (content.stickerMessage) {
    return {
      kind: 'image',
      mime: mimeOr(content.stickerMessage.mimetype, 'image/webp'),
      node: content.stickerMessage,
    };
  }
  return undefined;
}

/** WhatsApp sends `audio/ogg; codecs=opus`: keep the type, drop parameters the envelope does not take. */
function mimeOr(mime: string | null | undefined, fallback: string): string {
  const type = mime?.split(';')[0]?.trim().toLowerCase();
  return type && /^[a-z0-9.+-]+\/[a-zA-Z0-9.+_-]+$/.test(type) ? type : fallback;
}

function toNumber(value: number | Long | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = typeof value === 'number' ? value : value.toNumber();
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function timestampOf(value: WAMessage['messageTimestamp']): number {
  const seconds = toNumber(value as number | Long | null | undefined);
  return seconds === undefined ? Date.now() : seconds * 1000;
}
