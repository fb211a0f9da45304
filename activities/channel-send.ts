// sendToChannel: a reply goes out exactly once, however often the activity is retried.
// It runs on the connector's own task queue (`<taskQueue>.channel.<id>`) inside the gateway, which owns the
// platform connection and the outbox. Per chunk: claim `<idempotencyKey>:<i>` in the outbox
// (pending), call the platform, mark it sent with the platform's id. A retry skips sent chunks.
//
// The narrow window — the process dies after the claim, before the platform's answer is stored —
// leaves a pending row whose outcome nobody knows. Telegram has no idempotency key and no way to
// list a bot's own messages, so the choice is between "maybe twice" and "maybe never"; we choose
// never twice: such a chunk is marked uncertain, skipped and reported in `uncertain`. Everything
// that *can* be known is used to shrink that window: a platform error response or a refused
// connection proves nothing was posted (the claim is released and the chunk retried), and a
// retry that finds a pending chunk of a call still running in this process waits for its outcome.
//
// Platforms that deduplicate by an id the sender chooses (WhatsApp's message id) close the window:
// the sender derives that id from the chunk's key (`opts.idempotencyKey`), and a sender marked
// `dedupesById` gets an unknown-outcome chunk sent again — the platform drops it if the first call
// had posted it. That is exactly once. A platform that needs to decide case by case says so
// through `recover`: Discord drops a repeated nonce only for a few minutes, so it sends again
// within that window; Slack cannot deduplicate, but finds its own post by the key it carries.
//
// What is still unknown after all that is handled by the channel's `onUncertain` policy: `skip`
// (the default: never twice, the chunk is reported uncertain and not sent again), `resend` (never
// lost: sent again, maybe twice) or `notice` (sent again after a line saying a message may have
// been lost). Either way the turn records it (`uncertain`, `resent`) and the outbox keeps the row.

import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AttachmentKind } from '../channels/envelope.js';
import { Failures } from '../engine/failures.js';

/** A stored file a reply carries (by its blob-store address), sent after the text. */
export interface OutgoingFile {
  sha256: string;
  mime: string;
  kind: AttachmentKind;
  name?: string;
}

export interface SendToChannelInput {
  /** Connector id: telegram, ... */
  channel: string;
  accountId: string;
  chatId: string;
  text: string;
  /** Platform message id to reply to; applied to the first chunk. */
  replyToMessageId?: string;
  /** Thread or forum topic inside chatId; applied to every chunk. */
  threadId?: string;
  /** Stable across retries (workflow id + step id); chunk i is recorded as `<key>:<i>`. */
  idempotencyKey: string;
  /**
   * Stored files sent after the text, one message each (an image as a photo where the platform
   * has photos), each exactly once like a text chunk. The text may be empty when there are files.
   */
  media?: OutgoingFile[];
  /**
   * `error`: the text tells the person their message could not be answered (the agent's
   * apology). Chats show it like any message; clients with a run model (OpenClaw) end the run
   * as an error with it. Default `answer`.
   */
  kind?: 'answer' | 'error';
}

export interface SendToChannelResult {
  /** Platform ids of the chunks known to be posted, in order (earlier attempts' included). */
  messageIds: string[];
  chunks: number;
  /** Chunks not sent by this attempt because an earlier one had settled them (sent or uncertain). */
  skipped: number;
  /** Chunk indexes whose earlier send has an unknown outcome and that were not sent again (policy `skip`). */
  uncertain: number[];
  /** Chunk indexes of unknown outcome sent again by the channel's policy (`resend`, `notice`). */
  resent?: number[];
  /** The channel's `onUncertain` policy, when a chunk was uncertain. */
  onUncertain?: UncertainPolicy;
}

/** What a channel does with a chunk whose earlier send has an unknown outcome (`onUncertain`). */
export type UncertainPolicy = 'skip' | 'resend' | 'notice';

/** The line `notice` puts before a chunk it sends again. */
export const UNCERTAIN_NOTICE = '(a message may have been lost; here it is again)';

export interface ChannelSendOptions {
  replyToMessageId?: string;
  threadId?: string;
  /** See SendToChannelInput.kind; absent for an ordinary answer. */
  kind?: 'error';
  /**
   * This chunk's outbox key (`<idempotencyKey>:<i>`), the same on every retry: a platform that
   * lets the sender choose a message id or nonce derives it from this.
   */
  idempotencyKey?: string;
}

/** What a platform can say about a chunk whose earlier send has no known outcome. */
export type SendRecovery =
  /** The earlier call posted it (found by its key). */
  | { kind: 'sent'; messageId: string }
  /** Sending again is safe: the platform drops a repeat carrying the same key. */
  | { kind: 'resend' }
  /** Cannot tell: the chunk stays uncertain and is never sent again. */
  | { kind: 'unknown'; reason: string };

export interface UnknownOutcome {
  chatId: string;
  /** The chunk's outbox key, as ChannelSendOptions.idempotencyKey carried it. */
  key: string;
  /** When the chunk was first claimed (ms since epoch): the earliest its key can have reached the platform. */
  claimedAt: number;
  opts: ChannelSendOptions;
}

/**
 * One platform call posting one message. On failure, the error may carry (read structurally):
 * `notSent: true` when the platform certainly did not post it, `permanent: true` when retrying is
 * pointless, `retryAfterMs` when the platform asked to wait.
 */
export type ChannelSendFn = (
  chatId: string,
  text: string,
  opts?: ChannelSendOptions,
) => Promise<{ messageId: string }>;

/** One platform call posting one stored file; failures are read like ChannelSendFn's. */
export type ChannelSendFileFn = (
  chatId: string,
  file: OutgoingFile,
  opts?: ChannelSendOptions,
) => Promise<{ messageId: string }>;

export interface ChannelSender {
  channel: string;
  accountId: string;
  /** Longest text one call may carry (Telegram: 4000). */
  textLimit: number;
  send: ChannelSendFn;
  /** Posts a stored file. Absent: the chat gets a line naming the file instead. */
  sendFile?: ChannelSendFileFn;
  /**
   * The platform drops a second message with the id this sender derives from
   * `opts.idempotencyKey`: a chunk whose earlier call has an unknown outcome is sent again
   * (exactly once) instead of being skipped as uncertain (never twice, maybe never).
   */
  dedupesById?: boolean;
  /**
   * Settles a chunk whose earlier call has no known outcome, case by case (takes precedence over
   * `dedupesById`): found it, safe to send again, or cannot tell (it stays uncertain).
   */
  recover?(chunk: UnknownOutcome): Promise<SendRecovery>;
  /** What to do when the outcome stays unknown (default `skip`: never twice, maybe never). */
  onUncertain?: UncertainPolicy;
}

/** What the activity needs from the outbox; gateway/store/outbox.ts keeps it in SQLite. */
export interface OutboxStore {
  readonly runId: string;
  claim(chunk: {
    key: string;
    channel: string;
    accountId: string;
    chatId: string;
    textSha256: string;
  }):
    | { kind: 'claimed' }
    | { kind: 'sent'; messageId: string }
    | { kind: 'pending'; claimedBy: string; claimedAt: number }
    | { kind: 'uncertain'; claimedAt: number };
  markSent(key: string, messageId: string): void;
  markUncertain(key: string, reason: string): void;
  release(key: string): void;
  /**
   * Take over a pending or uncertain chunk to send it again; false when it was settled meanwhile.
   * `recovered` records why (a policy sending a chunk of unknown outcome again).
   */
  reclaim(key: string, recovered?: string): boolean;
}

export interface ChannelSendDeps {
  outbox: OutboxStore;
  senders: readonly ChannelSender[];
}

export interface ChannelSendActivities {
  sendToChannel(input: SendToChannelInput): Promise<SendToChannelResult>;
}

interface SendFailure {
  notSent?: unknown;
  permanent?: unknown;
  retryAfterMs?: unknown;
  message?: unknown;
}

export function createChannelSendActivities(deps: ChannelSendDeps): ChannelSendActivities {
  const { outbox } = deps;
  // Platform calls running in this process, by outbox key: a retry that overtakes a slow attempt
  // waits for it instead of guessing.
  const inFlight = new Map<string, Promise<unknown>>();

  return {
    async sendToChannel(input) {
      const sender = deps.senders.find((s) => s.channel === input.channel && s.accountId === input.accountId);
      if (!sender) {
        const served = deps.senders.map((s) => `${s.channel}/${s.accountId}`).join(', ') || 'none';
        throw ApplicationFailure.nonRetryable(
          `no connector for ${input.channel} account "${input.accountId}" in this gateway (serving: ${served}); ` +
            'check channels in switchyard.yaml and the task queue the reply step targets',
          Failures.ChannelNotServed,
        );
      }
      // The text's chunks, then each file: every part is one message with its own outbox key.
      const parts: Array<{ text: string } | { file: OutgoingFile }> = [
        ...chunkText(input.text, sender.textLimit).map((text) => ({ text })),
        ...(input.media ?? []).map((file) => ({ file })),
      ];
      if (parts.length === 0) {
        throw ApplicationFailure.nonRetryable(
          'sendToChannel: text is empty; nothing to send',
          Failures.EmptyReply,
        );
      }
      const result: SendToChannelResult = {
        messageIds: [],
        chunks: parts.length,
        skipped: 0,
        uncertain: [],
      };
      for (const [i, part] of parts.entries()) {
        heartbeat(i);
        const key = `${input.idempotencyKey}:${i}`;
        const entry = {
          key,
          channel: input.channel,
          accountId: input.accountId,
          chatId: input.chatId,
          textSha256:
            'text' in part ? createHash('sha256').update(part.text).digest('hex') : part.file.sha256,
        };
        let claim = outbox.claim(entry);
        if (claim.kind === 'pending' && inFlight.has(key)) {
          await heartbeatWhile(i, inFlight.get(key)!).catch(() => undefined);
          claim = outbox.claim(entry);
        }
        if (claim.kind === 'sent') {
          result.messageIds.push(claim.messageId);
          result.skipped++;
          continue;
        }
        const opts: ChannelSendOptions = {
          ...(i === 0 && input.replyToMessageId ? { replyToMessageId: input.replyToMessageId } : {}),
          ...(input.threadId ? { threadId: input.threadId } : {}),
          ...(input.kind === 'error' ? { kind: 'error' as const } : {}),
          idempotencyKey: key,
        };
        if (claim.kind !== 'claimed') {
          const why =
            claim.kind === 'pending'
              ? `found pending after run ${claim.claimedBy} ended without an outcome`
              : 'an earlier attempt ended without an outcome';
          const recovery = await heartbeatWhile(
            i,
            recoverChunk(sender, {
              chatId: input.chatId,
              key,
              claimedAt: claim.claimedAt,
              opts,
            }),
          );
          if (recovery.kind === 'sent') {
            outbox.markSent(key, recovery.messageId);
            result.messageIds.push(recovery.messageId);
            result.skipped++;
            continue;
          }
          const policy = recovery.kind === 'unknown' ? (sender.onUncertain ?? 'skip') : undefined;
          if (policy) result.onUncertain = policy;
          if (
            recovery.kind === 'unknown' &&
            policy !== 'skip' &&
            outbox.reclaim(key, `${policy}: ${why}; ${recovery.reason}`)
          ) {
            const messageId = await heartbeatWhile(
              i,
              sendAgain(sender, input.chatId, part, opts, policy === 'notice'),
            ).catch((e: unknown) => {
              throw settleFailure(outbox, key, i, parts.length, e, retryPlan(sender));
            });
            outbox.markSent(key, messageId);
            result.messageIds.push(messageId);
            result.resent = [...(result.resent ?? []), i];
            continue;
          }
          if (recovery.kind === 'unknown' || !outbox.reclaim(key)) {
            if (claim.kind === 'pending') {
              outbox.markUncertain(
                key,
                `${why}; ${recovery.kind === 'unknown' ? recovery.reason : 'settled meanwhile'}`,
              );
            }
            result.uncertain.push(i);
            result.skipped++;
            continue;
          }
        }
        const call = postPart(sender, input.chatId, part, opts);
        inFlight.set(key, call);
        try {
          const { messageId } = await heartbeatWhile(i, call);
          outbox.markSent(key, messageId);
          result.messageIds.push(messageId);
        } catch (error) {
          throw settleFailure(outbox, key, i, parts.length, error, retryPlan(sender));
        } finally {
          inFlight.delete(key);
        }
      }
      return result;
    },
  };
}

type Part = { text: string } | { file: OutgoingFile };

/** One platform call for one part: a text chunk, or a file (a note where the chat takes none). */
function postPart(
  sender: ChannelSender,
  chatId: string,
  part: Part,
  opts: ChannelSendOptions,
): Promise<{ messageId: string }> {
  if ('text' in part) return sender.send(chatId, part.text, opts);
  if (sender.sendFile) return sender.sendFile(chatId, part.file, opts);
  return sender.send(chatId, `[${part.file.name ?? part.file.kind}: this chat cannot receive files]`, opts);
}

/**
 * A part of unknown outcome sent again by the channel's policy; with `notice`, after the notice
 * line (in the same message when a text chunk and the line fit together, else just before it).
 */
async function sendAgain(
  sender: ChannelSender,
  chatId: string,
  part: Part,
  opts: ChannelSendOptions,
  notice: boolean,
): Promise<string> {
  if (!notice) return (await postPart(sender, chatId, part, opts)).messageId;
  if ('text' in part) {
    const combined = `${UNCERTAIN_NOTICE}\n\n${part.text}`;
    if (combined.length <= sender.textLimit) return (await sender.send(chatId, combined, opts)).messageId;
  }
  const { idempotencyKey: _key, ...plain } = opts;
  await sender.send(chatId, UNCERTAIN_NOTICE, plain);
  return (await postPart(sender, chatId, part, opts)).messageId;
}

/** Ask the platform about a chunk of unknown outcome; a failed question is an unknown answer. */
async function recoverChunk(sender: ChannelSender, chunk: UnknownOutcome): Promise<SendRecovery> {
  if (sender.recover) {
    try {
      return await sender.recover(chunk);
    } catch (error) {
      return {
        kind: 'unknown',
        reason: `looking it up failed: ${String((error as Error)?.message ?? error)}`,
      };
    }
  }
  if (sender.dedupesById) return { kind: 'resend' };
  return { kind: 'unknown', reason: `${sender.channel} cannot tell whether it was posted` };
}

/** What the retry of a chunk of unknown outcome will do, for the failure message. */
function retryPlan(sender: ChannelSender): string {
  if (sender.recover) return 'the retry asks the platform what became of it and never posts it twice';
  if (sender.dedupesById) return 'the retry sends it again with the same id, which the platform deduplicates';
  if (sender.onUncertain === 'resend') return 'the retry sends it again (onUncertain: resend)';
  if (sender.onUncertain === 'notice') return 'the retry sends it again with a notice (onUncertain: notice)';
  return 'this chunk will not be resent (onUncertain: skip)';
}

/** Record what a failed call means for the chunk, and turn it into the right Temporal failure. */
function settleFailure(
  outbox: OutboxStore,
  key: string,
  index: number,
  total: number,
  error: unknown,
  plan: string,
): ApplicationFailure {
  const failure = (error ?? {}) as SendFailure;
  const message = `chunk ${index + 1}/${total}: ${String(failure.message ?? error)}`;
  if (failure.notSent !== true) {
    outbox.markUncertain(key, message);
    return ApplicationFailure.retryable(`${message} (outcome unknown; ${plan})`, Failures.SendUncertain);
  }
  outbox.release(key);
  if (failure.permanent === true) return ApplicationFailure.nonRetryable(message, Failures.SendRefused);
  const retryAfterMs = typeof failure.retryAfterMs === 'number' ? failure.retryAfterMs : undefined;
  return ApplicationFailure.create({
    message,
    type: Failures.SendFailed,
    ...(retryAfterMs === undefined ? {} : { nextRetryDelay: retryAfterMs }),
  });
}

/**
 * Heartbeats every 2 s while a platform call is in hand: the send's heartbeat timeout is short
 * (workflows/channel/channel-api.ts, 10 s) so that a dead gateway's send is retried soon, and a
 * slow but live call must not look dead.
 */
async function heartbeatWhile<T>(chunk: number, call: Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(chunk), 2_000);
  try {
    return await call;
  } finally {
    clearInterval(timer);
  }
}

function heartbeat(chunk: number): void {
  try {
    Context.current().heartbeat({ chunk });
  } catch {
    // Called outside an activity (direct unit use): nothing to report to.
  }
}

/**
 * Split text into pieces of at most `limit` UTF-16 units, cutting at the last paragraph break,
 * else line break, else space that keeps a piece at least half full; else hard, never inside a
 * surrogate pair. Deterministic: a retry cuts the same chunks, so chunk keys stay meaningful.
 */
export function chunkText(text: string, limit: number): string[] {
  if (limit < 2) throw new RangeError(`chunk limit must be at least 2, got ${limit}`);
  const chunks: string[] = [];
  let rest = text.trim() === '' ? '' : text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit + 1);
    const half = Math.floor(limit / 2);
    let cut = -1;
    for (const separator of ['\n\n', '\n', ' ']) {
      const at = window.lastIndexOf(separator, limit - separator.length);
      if (at >= half || (separator === ' ' && at > 0)) {
        cut = at;
        break;
      }
    }
    if (cut <= 0) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
    }
    const piece = rest.slice(0, cut).trimEnd();
    if (piece !== '') chunks.push(piece);
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.trim() !== '') chunks.push(rest);
  return chunks;
}
