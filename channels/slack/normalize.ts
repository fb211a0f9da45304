// Slack Events API `message` / `app_mention` events → InboundMessage. Pure: no network, no state.
// Shapes are read defensively: the envelope comes off the wire (HTTP or Socket Mode), and test
// servers omit fields real Slack sends (channel_type, client_msg_id).
import { kindFromMime } from '../attachments.js';
import type { AttachmentRef, Chat, InboundMessage } from '../envelope.js';

export const SLACK_CHANNEL = 'slack';

/** Who the bot is (from auth.test): needed to tell a mention of us from one of someone else. */
export interface SlackBotIdentity {
  userId: string;
  botId?: string;
  teamId?: string;
}

export interface SlackFile {
  id?: string;
  name?: string;
  mimetype?: string;
  size?: number;
  mode?: string;
  url_private?: string;
  url_private_download?: string;
}

/** The fields of a message event this connector reads. */
export interface SlackMessageEvent {
  type?: string;
  subtype?: string;
  channel?: string;
  /** im, mpim, channel or group (private channel); absent from some test servers. */
  channel_type?: string;
  user?: string;
  bot_id?: string;
  team?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  /** Author of the thread's parent, on replies. */
  parent_user_id?: string;
  files?: SlackFile[];
  user_profile?: { real_name?: string; display_name?: string; name?: string };
}

/** An Events API `event_callback` envelope (the HTTP body, or a Socket Mode envelope's payload). */
export interface SlackEventCallback {
  type?: string;
  team_id?: string;
  event_id?: string;
  event?: SlackMessageEvent;
}

export interface SlackNormalizeOptions {
  accountId: string;
  /** A top-level channel message is answered in a thread under it: that thread is its session. */
  replyInThread: boolean;
  /** True when the assistant has replied in this thread: follow-ups there are addressed to it. */
  inBotThread?(channel: string, threadTs: string): boolean;
}

/** Why an event produced no envelope; logged, never answered. */
export type SkipReason =
  | 'not-a-message'
  | 'edit-or-service-message'
  | 'from-a-bot'
  | 'no-sender'
  | 'empty'
  | 'malformed';

export type NormalizedEvent =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'skip'; reason: SkipReason };

/** A slash command's payload (`/approve ab12` typed in Slack): the fields this connector reads. */
export interface SlackSlashCommand {
  command?: string;
  text?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  team_id?: string;
  trigger_id?: string;
}

/**
 * A slash command as a message addressed to the assistant: `/<command> <text>` in the chat it was
 * typed in. Slack keeps messages starting with `/` for its commands, so this is how `/approve`
 * and `/deny` reach the assistant there.
 */
export function normalizeSlashCommand(
  cmd: SlackSlashCommand,
  bot: SlackBotIdentity,
  options: Pick<SlackNormalizeOptions, 'accountId'>,
  now = Date.now(),
): NormalizedEvent {
  const { command, channel_id: channel, user_id: user, trigger_id: trigger } = cmd;
  if (!command?.startsWith('/') || !channel || !trigger) return { kind: 'skip', reason: 'malformed' };
  if (!user) return { kind: 'skip', reason: 'no-sender' };
  const teamId = cmd.team_id ?? bot.teamId;
  const text = decodeEntities(`${command} ${cmd.text ?? ''}`.trim());
  const message: InboundMessage = {
    channel: SLACK_CHANNEL,
    accountId: options.accountId,
    chat: isDirectChannel(channel, undefined)
      ? { id: channel, kind: 'direct' }
      : { id: channel, kind: 'group', roomType: 'channel', ...(teamId ? { parentId: teamId } : {}) },
    sender: { id: user, ...(cmd.user_name ? { username: cmd.user_name } : {}) },
    messageId: `command:${trigger}`,
    text,
    attachments: [],
    mentions: [],
    wasMentioned: true,
    timestamp: now,
    platformId: `slack:${teamId ?? ''}:${channel}:command:${trigger}`,
  };
  return { kind: 'message', message };
}

/** Plain messages, files shared with text, and thread replies also sent to the channel. */
const MESSAGE_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast']);

/** Stable across re-deliveries and across the `message` + `app_mention` pair one mention produces. */
export function slackPlatformId(teamId: string | undefined, channel: string, ts: string): string {
  return `slack:${teamId ?? ''}:${channel}:${ts}`;
}

export function normalizeSlackEvent(
  envelope: SlackEventCallback,
  bot: SlackBotIdentity,
  options: SlackNormalizeOptions,
): NormalizedEvent {
  const event = envelope.event;
  if (!event || (event.type !== 'message' && event.type !== 'app_mention')) {
    return { kind: 'skip', reason: 'not-a-message' };
  }
  if (!MESSAGE_SUBTYPES.has(event.subtype)) return { kind: 'skip', reason: 'edit-or-service-message' };
  if (event.bot_id || event.user === bot.userId) return { kind: 'skip', reason: 'from-a-bot' };
  if (!event.user) return { kind: 'skip', reason: 'no-sender' };
  const { channel, ts } = event;
  if (!channel || !ts || !/^\d+\.\d+$/.test(ts)) return { kind: 'skip', reason: 'malformed' };
  const text = decodeEntities(event.text ?? '');
  const attachments = attachmentsOf(event.files);
  if (text.trim() === '' && attachments.length === 0) return { kind: 'skip', reason: 'empty' };

  const teamId = envelope.team_id ?? event.team ?? bot.teamId;
  const threadTs = event.thread_ts && event.thread_ts !== ts ? event.thread_ts : undefined;
  const mentions = mentionsIn(event.text ?? '');
  const wasMentioned =
    event.type === 'app_mention' ||
    mentions.includes(bot.userId) ||
    (threadTs !== undefined &&
      (event.parent_user_id === bot.userId || options.inBotThread?.(channel, threadTs) === true));

  const message: InboundMessage = {
    channel: SLACK_CHANNEL,
    accountId: options.accountId,
    chat: chatOf(event, channel, ts, threadTs, teamId, options.replyInThread),
    sender: senderOf(event, event.user),
    messageId: ts,
    text,
    attachments,
    mentions,
    wasMentioned,
    timestamp: Math.round(Number(ts) * 1000),
    platformId: slackPlatformId(teamId, channel, ts),
  };
  return { kind: 'message', message };
}

/** DMs are `im` (ids start with D); group DMs are `mpim`; everything else is a channel. */
export function isDirectChannel(channel: string, channelType: string | undefined): boolean {
  return channelType === undefined ? channel.startsWith('D') : channelType === 'im';
}

function chatOf(
  event: SlackMessageEvent,
  channel: string,
  ts: string,
  threadTs: string | undefined,
  teamId: string | undefined,
  replyInThread: boolean,
): Chat {
  if (isDirectChannel(channel, event.channel_type)) {
    // A thread inside a DM stays a thread: replies land in it, and it is a session of its own.
    return { id: channel, kind: 'direct', ...(threadTs ? { threadId: threadTs } : {}) };
  }
  // A top-level message answered in a thread under it seeds that thread's session, so the
  // question and the follow-ups in the thread are one conversation (as OpenClaw does).
  const thread = threadTs ?? (replyInThread ? ts : undefined);
  return {
    id: channel,
    kind: thread ? 'thread' : 'group',
    roomType: event.channel_type === 'mpim' ? 'group' : 'channel',
    ...(thread ? { threadId: thread } : {}),
    ...(teamId ? { parentId: teamId } : {}),
  };
}

function senderOf(event: SlackMessageEvent, user: string): InboundMessage['sender'] {
  const profile = event.user_profile;
  const name = profile?.real_name || profile?.display_name;
  return { id: user, ...(name ? { name } : {}), ...(profile?.name ? { username: profile.name } : {}) };
}

/** User ids from `<@U123>` and `<@U123|name>` in the raw text. */
function mentionsIn(text: string): string[] {
  return [...text.matchAll(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g)].map((m) => m[1]!);
}

/** Slack escapes exactly these three in message text. */
function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const MIME = /^[a-z0-9.+-]+\/[a-zA-Z0-9.+_-]+$/;

/** Files by reference: their private URLs need the bot token, which stays in the gateway. */
function attachmentsOf(files: SlackFile[] | undefined): AttachmentRef[] {
  const refs: AttachmentRef[] = [];
  for (const file of files ?? []) {
    if (!file.id || file.mode === 'tombstone' || file.mode === 'hidden_by_limit') continue;
    const mime = file.mimetype && MIME.test(file.mimetype) ? file.mimetype : 'application/octet-stream';
    refs.push({
      id: file.id,
      kind: kindFromMime(mime),
      mime,
      url: file.url_private_download ?? file.url_private ?? `slack:file/${file.id}`,
      ...(file.size === undefined ? {} : { size: file.size }),
      ...(file.name === undefined ? {} : { name: file.name }),
    });
  }
  return refs;
}
