/**
 * The agent's `message` tool: send text, and stored files by reference, to another chat the
 * owner controls (a chat in the allowlist), through the channel-send activity and its outbox.
 * The call's idempotency key goes with the send, so a retried tool call never posts twice.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Failures } from '../../../engine/failures.js';
import type { OutgoingFile } from '../../channel-send.js';
import type { AgentToolDefinition } from '../tools.js';

/** A chat the agent may write to. */
export interface MessageTarget {
  channel: string;
  chat: string;
  /** The connector account; default `default`. */
  accountId?: string;
  /** How the owner calls it ("Mum", "family group"): the model may use it instead of the id. */
  name?: string;
}

export interface MessageSendInput {
  channel: string;
  accountId: string;
  chatId: string;
  text: string;
  /** Stored files sent after the text, each once. */
  media?: OutgoingFile[];
  /** Stable across retries of the tool call: the outbox posts each key once. */
  idempotencyKey: string;
}

export interface MessageToolOptions {
  send: (input: MessageSendInput) => Promise<{ messageIds: string[] }>;
  /** Read at every call, so a config change applies to the next call. */
  allowedChats: () => MessageTarget[] | Promise<MessageTarget[]>;
  /** A file in the media store by sha256 (its type read from its bytes); undefined when not stored. Absent: no files. */
  storedFile?: (sha256: string) => Promise<OutgoingFile | undefined>;
}

const FILE_ID = /^(?:sha256:)?([0-9a-f]{64})$/i;

export function createMessageTool(options: MessageToolOptions): AgentToolDefinition {
  return {
    name: 'message',
    description:
      "Send a text message to another of the owner's chats (one in the allowlist), e.g. to pass something " +
      'on to a family group. Give the channel (e.g. telegram) and the chat id or its name. Not for answering ' +
      'the current conversation: your reply goes there anyway.' +
      (options.storedFile ? ' It can carry files you were given (media: their ids, "sha256:<id>").' : ''),
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['channel', 'chat'],
      properties: {
        channel: { type: 'string', minLength: 1, description: 'The chat app: telegram, whatsapp, ...' },
        chat: {
          type: 'string',
          minLength: 1,
          description: 'The chat id, or the name the owner gave the chat.',
        },
        accountId: { type: 'string', description: 'The connector account, when the owner has several.' },
        text: { type: 'string', description: 'The message to send.' },
        ...(options.storedFile
          ? {
              media: {
                type: 'array',
                items: { type: 'string' },
                description:
                  'Files to send after the text, by id ("sha256:<id>", as listed with the message).',
              },
            }
          : {}),
      },
    },
    async execute(args, ctx) {
      const text = typeof args.text === 'string' ? args.text : '';
      const media = await filesOf(args.media, options.storedFile);
      if (!text.trim() && media.length === 0)
        throw ApplicationFailure.nonRetryable(
          'message: text is empty and there are no files; nothing to send',
          Failures.EmptyMessage,
        );
      const target = findTarget(await options.allowedChats(), args);
      const accountId = target.accountId ?? 'default';
      const sent = await options.send({
        channel: target.channel,
        accountId,
        chatId: target.chat,
        text,
        ...(media.length > 0 ? { media } : {}),
        idempotencyKey: ctx.idempotencyKey,
      });
      const n = sent.messageIds.length;
      return `Sent to ${describe(target)} (${n} message${n === 1 ? '' : 's'}).`;
    },
  };
}

/** The files a call names, each found in the media store; a bad or unknown id refuses the call. */
async function filesOf(
  value: unknown,
  storedFile: MessageToolOptions['storedFile'],
): Promise<OutgoingFile[]> {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return [];
  if (!storedFile || !Array.isArray(value)) {
    throw ApplicationFailure.nonRetryable(
      'message: media must be a list of file ids ("sha256:<id>")',
      Failures.MessageFileRefused,
    );
  }
  const files: OutgoingFile[] = [];
  for (const id of value) {
    const sha256 = FILE_ID.exec(String(id).trim())?.[1]?.toLowerCase();
    const file = sha256 ? await storedFile(sha256) : undefined;
    if (!file) {
      throw ApplicationFailure.nonRetryable(
        `message: no file '${String(id)}' in the media store; send only files you were given, by their "sha256:<id>"`,
        Failures.MessageFileRefused,
      );
    }
    if (!files.some((f) => f.sha256 === file.sha256)) files.push(file);
  }
  return files;
}

function findTarget(allowed: MessageTarget[], args: Record<string, unknown>): MessageTarget {
  const channel = String(args.channel).trim().toLowerCase();
  const chat = String(args.chat).trim();
  const account =
    typeof args.accountId === 'string' && args.accountId.trim() ? args.accountId.trim() : undefined;
  const candidates = allowed.filter(
    (t) => t.channel.toLowerCase() === channel && (!account || (t.accountId ?? 'default') === account),
  );
  const byId = candidates.filter((t) => t.chat === chat);
  const byName = candidates.filter((t) => t.name?.toLowerCase() === chat.toLowerCase());
  const found = byId.length > 0 ? byId : byName;
  if (found.length === 1) return found[0]!;
  const list = allowed.map(describe).join(', ');
  if (found.length > 1) {
    throw ApplicationFailure.nonRetryable(
      `message: '${chat}' on ${channel} matches ${found.length} chats (${found.map(describe).join(', ')}); give accountId or the chat id`,
      Failures.MessageTargetAmbiguous,
    );
  }
  throw ApplicationFailure.nonRetryable(
    `refused: ${channel} chat '${chat}' is not one of the owner's chats you may message (` +
      (list ? `allowed: ${list}` : 'no chats are allowed') +
      '). The owner can allow it in switchyard.yaml.',
    Failures.MessageTargetRefused,
  );
}

function describe(t: MessageTarget): string {
  const account = t.accountId && t.accountId !== 'default' ? ` (account ${t.accountId})` : '';
  return `${t.channel} chat ${t.chat}${t.name ? ` "${t.name}"` : ''}${account}`;
}
