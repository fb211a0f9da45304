// Discord messages → InboundMessage. Pure: it reads the few facts taken from a discord.js Message
// (messageFacts), so it is testable without a gateway connection.
import { type Message, MessageFlags } from 'discord.js';
import { kindFromMime } from '../attachments.js';
import type { AttachmentRef, Chat, InboundMessage, ReplyRef } from '../envelope.js';

export const DISCORD_CHANNEL = 'discord';

/** Discord's message types that carry something a person wrote (Default, Reply). */
const USER_MESSAGE_TYPES = new Set([0, 19]);

export interface DiscordMessageFacts {
  id: string;
  /** Where it was posted: a DM, a guild text channel, or a thread (itself a channel). */
  channelId: string;
  guildId: string | null;
  /** discord.js MessageType. */
  type: number;
  content: string;
  author: { id: string; bot: boolean; username?: string; globalName?: string | null };
  /** True when channelId is a thread; then parentId is the channel that holds it. */
  isThread: boolean;
  parentId?: string | null;
  channelName?: string | null;
  mentionedUserIds: string[];
  /** Author of the message this one replies to. */
  repliedUserId?: string | null;
  referenceMessageId?: string | null;
  attachments: Array<{
    id: string;
    name?: string | null;
    contentType?: string | null;
    size?: number;
    url: string;
  }>;
  createdTimestamp: number;
  /** A recorded voice message (its one audio attachment is the recording). */
  isVoiceMessage?: boolean;
}

export type SkipReason = 'from-a-bot' | 'service-message' | 'empty';

export type NormalizedMessage =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'skip'; reason: SkipReason };

/** Message ids are snowflakes, unique across Discord: stable across any re-delivery. */
export function discordPlatformId(channelId: string, messageId: string): string {
  return `discord:${channelId}:${messageId}`;
}

export function normalizeDiscordMessage(
  msg: DiscordMessageFacts,
  botUserId: string,
  accountId = 'default',
): NormalizedMessage {
  // Other bots (and ourselves) never start a turn: two assistants would answer each other forever.
  if (msg.author.bot) return { kind: 'skip', reason: 'from-a-bot' };
  if (!USER_MESSAGE_TYPES.has(msg.type)) return { kind: 'skip', reason: 'service-message' };
  const attachments = attachmentsOf(msg.attachments, msg.isVoiceMessage === true);
  if (msg.content.trim() === '' && attachments.length === 0) return { kind: 'skip', reason: 'empty' };

  const replyTo: ReplyRef | undefined = msg.referenceMessageId
    ? { messageId: msg.referenceMessageId, ...(msg.repliedUserId ? { senderId: msg.repliedUserId } : {}) }
    : undefined;
  const wasMentioned = msg.mentionedUserIds.includes(botUserId) || msg.repliedUserId === botUserId;
  const name = msg.author.globalName ?? msg.author.username;
  const message: InboundMessage = {
    channel: DISCORD_CHANNEL,
    accountId,
    chat: chatOf(msg),
    sender: {
      id: msg.author.id,
      ...(name ? { name } : {}),
      ...(msg.author.username ? { username: msg.author.username } : {}),
    },
    messageId: msg.id,
    text: msg.content,
    attachments,
    mentions: msg.mentionedUserIds,
    wasMentioned,
    timestamp: msg.createdTimestamp,
    platformId: discordPlatformId(msg.channelId, msg.id),
    ...(replyTo ? { replyTo } : {}),
  };
  return { kind: 'message', message };
}

function chatOf(msg: DiscordMessageFacts): Chat {
  if (!msg.guildId) return { id: msg.channelId, kind: 'direct' };
  const title = msg.channelName ? { title: msg.channelName } : {};
  if (msg.isThread && msg.parentId) {
    // A thread belongs to its channel: access and bindings follow the channel, the session is the thread's.
    return {
      id: msg.parentId,
      kind: 'thread',
      threadId: msg.channelId,
      roomType: 'channel',
      parentId: msg.guildId,
      ...title,
    };
  }
  return { id: msg.channelId, kind: 'group', roomType: 'channel', parentId: msg.guildId, ...title };
}

const MIME = /^[a-z0-9.+-]+\/[a-zA-Z0-9.+_-]+$/;

/** Attachments by reference: Discord's CDN URLs (signed, expiring), never the bytes. */
function attachmentsOf(list: DiscordMessageFacts['attachments'], voice: boolean): AttachmentRef[] {
  return list.map((a) => {
    const declared = a.contentType?.split(';')[0]?.trim();
    const mime = declared && MIME.test(declared) ? declared : 'application/octet-stream';
    return {
      id: a.id,
      // A voice message is flagged on the message; any other audio file is just audio.
      kind: voice && mime.startsWith('audio/') ? 'voice' : kindFromMime(mime),
      mime,
      url: a.url,
      ...(a.size === undefined ? {} : { size: a.size }),
      ...(a.name ? { name: a.name } : {}),
    };
  });
}

/** The facts normalisation reads, taken from a discord.js Message. */
export function messageFacts(message: Message): DiscordMessageFacts {
  const channel = message.channel;
  const thread = channel?.isThread() ? channel : undefined;
  return {
    id: message.id,
    channelId: message.channelId,
    guildId: message.guildId,
    type: message.type,
    content: message.content,
    author: {
      id: message.author.id,
      bot: message.author.bot,
      username: message.author.username,
      globalName: message.author.globalName,
    },
    isThread: thread !== undefined,
    parentId: thread?.parentId ?? null,
    channelName: channel && 'name' in channel ? channel.name : null,
    mentionedUserIds: [...message.mentions.users.keys()],
    repliedUserId: message.mentions.repliedUser?.id ?? null,
    referenceMessageId: message.reference?.messageId ?? null,
    attachments: message.attachments.map((a) => ({
      id: a.id,
      name: a.name,
      contentType: a.contentType,
      size: a.size,
      url: a.url,
    })),
    createdTimestamp: message.createdTimestamp,
    isVoiceMessage: message.flags.has(MessageFlags.IsVoiceMessage),
  };
}
