// Telegram `message` updates → InboundMessage. Pure: no network, no state. Media become references
// (`telegram:file/<file_id>`) with their kind; the connector then downloads accepted messages'
// files into the blob store (getFile) and the reference gains its sha256.
import type { Message, MessageEntity, Update, User } from 'grammy/types';
import { kindFromMime } from '../attachments.js';
import type { AttachmentKind, AttachmentRef, Chat, InboundMessage, ReplyRef } from '../envelope.js';

export const TELEGRAM_CHANNEL = 'telegram';

/** Who the bot is (from getMe): needed to tell a mention of us from one of someone else. */
export interface TelegramBotIdentity {
  id: number;
  username: string;
}

/** Why an update produced no envelope; logged, never answered. */
export type SkipReason = 'not-a-new-message' | 'no-sender' | 'service-message';

export type NormalizedUpdate =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'skip'; reason: SkipReason };

export const TELEGRAM_FILE_PREFIX = 'telegram:file/';

export function telegramFileUrl(fileId: string): string {
  return `${TELEGRAM_FILE_PREFIX}${fileId}`;
}

/** Stable across re-delivery of the same update (and across a webhook ↔ polling switch). */
export function telegramPlatformId(chatId: number | string, messageId: number | string): string {
  return `telegram:${chatId}:${messageId}`;
}

export function normalizeUpdate(
  update: Update,
  bot: TelegramBotIdentity,
  accountId = 'default',
): NormalizedUpdate {
  const msg = update.message;
  if (!msg) return { kind: 'skip', reason: 'not-a-new-message' };
  if (!msg.from) return { kind: 'skip', reason: 'no-sender' };
  const text = msg.text ?? msg.caption ?? '';
  const attachments = attachmentsOf(msg);
  if (text === '' && attachments.length === 0) return { kind: 'skip', reason: 'service-message' };

  const entities = msg.entities ?? msg.caption_entities ?? [];
  const mentions = mentionsIn(text, entities);
  const replyTo = replyOf(msg);
  const username = bot.username.toLowerCase();
  const wasMentioned =
    mentions.some((m) => m.toLowerCase() === `@${username}` || m === String(bot.id)) ||
    commandAddressesBot(text, entities, username) ||
    replyTo?.senderId === String(bot.id);

  const message: InboundMessage = {
    channel: TELEGRAM_CHANNEL,
    accountId,
    chat: chatOf(msg),
    sender: senderOf(msg.from),
    messageId: String(msg.message_id),
    text,
    attachments,
    mentions,
    wasMentioned,
    timestamp: msg.date * 1000,
    platformId: telegramPlatformId(msg.chat.id, msg.message_id),
    ...(replyTo ? { replyTo } : {}),
  };
  return { kind: 'message', message };
}

function chatOf(msg: Message): Chat {
  const id = String(msg.chat.id);
  const title = 'title' in msg.chat ? msg.chat.title : undefined;
  const threadId = msg.message_thread_id === undefined ? undefined : String(msg.message_thread_id);
  if (msg.chat.type === 'private') {
    // Private chats can have topics too (bots with topics enabled): keep the thread so replies land there.
    return { id, kind: 'direct', ...(threadId && msg.is_topic_message ? { threadId } : {}) };
  }
  // In a forum every non-General message carries its topic's id; elsewhere message_thread_id only
  // marks a reply chain, which is not a separate conversation.
  const inTopic = threadId !== undefined && (msg.is_topic_message === true || msg.chat.is_forum === true);
  return {
    id,
    kind: inTopic ? 'thread' : 'group',
    ...(title === undefined ? {} : { title }),
    ...(inTopic ? { threadId } : {}),
  };
}

function senderOf(from: User): InboundMessage['sender'] {
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ');
  return {
    id: String(from.id),
    ...(name ? { name } : {}),
    ...(from.username ? { username: from.username } : {}),
  };
}

function replyOf(msg: Message): ReplyRef | undefined {
  const reply = msg.reply_to_message;
  // In forums every topic message "replies" to the topic's creation message; that is not a reply.
  if (!reply || reply.forum_topic_created) return undefined;
  const text = reply.text ?? reply.caption;
  return {
    messageId: String(reply.message_id),
    ...(reply.from ? { senderId: String(reply.from.id) } : {}),
    ...(text === undefined ? {} : { text }),
  };
}

/** `@username` mentions as written, and the user ids of text mentions (people without a username). */
function mentionsIn(text: string, entities: readonly MessageEntity[]): string[] {
  const found: string[] = [];
  for (const entity of entities) {
    if (entity.type === 'mention') found.push(text.slice(entity.offset, entity.offset + entity.length));
    else if (entity.type === 'text_mention') found.push(String(entity.user.id));
  }
  return found;
}

/** `/cmd` or `/cmd@ourbot` at the start of the message; `/cmd@otherbot` is for someone else. */
function commandAddressesBot(text: string, entities: readonly MessageEntity[], username: string): boolean {
  const command = entities.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (!command) return false;
  const [, target] = text.slice(0, command.length).split('@');
  return target === undefined || target.toLowerCase() === username;
}

function attachmentsOf(msg: Message): AttachmentRef[] {
  const refs: AttachmentRef[] = [];
  const add = (
    file: { file_id: string; file_unique_id: string; file_size?: number; file_name?: string },
    mime: string,
    kind: AttachmentKind = kindFromMime(mime),
  ) => {
    refs.push({
      id: file.file_unique_id,
      kind,
      mime,
      url: telegramFileUrl(file.file_id),
      ...(file.file_size === undefined ? {} : { size: file.file_size }),
      ...(file.file_name === undefined ? {} : { name: file.file_name }),
    });
  };
  // Telegram sends each photo in several sizes; the last is the largest.
  const photo = msg.photo?.at(-1);
  if (photo) add(photo, 'image/jpeg', 'image');
  if (msg.voice) add(msg.voice, mimeOr(msg.voice.mime_type, 'audio/ogg'), 'voice');
  if (msg.audio) add(msg.audio, mimeOr(msg.audio.mime_type, 'audio/mpeg'), 'audio');
  // A document is whatever its type says: an image sent "as a file" is still an image.
  if (msg.document) add(msg.document, mimeOr(msg.document.mime_type, 'application/octet-stream'));
  if (msg.video) add(msg.video, mimeOr(msg.video.mime_type, 'video/mp4'), 'video');
  if (msg.video_note) add(msg.video_note, 'video/mp4', 'video');
  if (msg.animation && !msg.document)
    add(msg.animation, mimeOr(msg.animation.mime_type, 'video/mp4'), 'video');
  if (msg.sticker) {
    const { is_video, is_animated } = msg.sticker;
    if (is_video) add(msg.sticker, 'video/webm', 'video');
    else if (is_animated) add(msg.sticker, 'application/x-tgsticker', 'file');
    else add(msg.sticker, 'image/webp', 'image');
  }
  return refs;
}

/** Telegram passes the uploader's mime type through; keep it only when it looks like one. */
function mimeOr(mime: string | undefined, fallback: string): string {
  return mime && /^[a-z0-9.+-]+\/[a-zA-Z0-9.+_-]+$/.test(mime) ? mime : fallback;
}
