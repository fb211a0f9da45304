/**
 * How queued messages become turns. Pure functions over the pending list, so the rules read in
 * one place: a message that found the session idle is answered on its own; behind a running
 * turn, `collect` (and `steer`/`interrupt` when they could not be handed over) messages with the
 * same route and the same origin batch into one next turn, `followup` messages each get their
 * own. A batch is answered in one chat, so messages from different chats or senders (a session
 * shared by several people under `dmScope: main`) are never batched together.
 */
import type { InboundMessage } from '../../channels/envelope.js';
import type { PipelineRunInput } from '../pipeline/pipeline-api.js';
import type { QueuedMessage, QueueMode, TranscriptEntry } from './session-api.js';

export interface Turn {
  messages: QueuedMessage[];
  mode: QueueMode;
}

/**
 * Takes the next turn off the front of `pending` (which must not be empty). `apart(a, b)` says
 * whether messages of different origins stay apart (the session asks `patched()`: histories
 * recorded before this rule may hold such batches).
 */
export function takeTurn(pending: QueuedMessage[], apart: () => boolean = () => true): Turn {
  const head = pending[0];
  if (!head) throw new Error('takeTurn: nothing is pending');
  let count = 1;
  if (!head.startsTurn && head.mode !== 'followup') {
    while (count < pending.length && batchesWith(head, pending[count]!, apart)) count++;
  }
  const messages = pending.splice(0, count);
  return { messages, mode: head.mode };
}

function batchesWith(head: QueuedMessage, next: QueuedMessage, apart: () => boolean): boolean {
  return (
    !next.startsTurn &&
    next.mode !== 'followup' &&
    next.hash === head.hash &&
    next.agentId === head.agentId &&
    next.pipeline === head.pipeline &&
    !!next.answer === !!head.answer &&
    (sameOrigin(head.message, next.message) || !apart())
  );
}

/**
 * Same channel account, chat, thread and sender: messages one person wrote in one place, which
 * may share a turn (and its one reply), steer or interrupt it.
 */
export function sameOrigin(a: InboundMessage, b: InboundMessage): boolean {
  return (
    a.channel === b.channel &&
    a.accountId === b.accountId &&
    a.chat.id === b.chat.id &&
    (a.chat.threadId ?? '') === (b.chat.threadId ?? '') &&
    a.sender.id === b.sender.id
  );
}

/** Message texts of a batch, one paragraph each (attachment-only messages add nothing). */
export function joinedText(messages: QueuedMessage[]): string {
  return messages
    .map((m) => m.message.text)
    .filter((text) => text.length > 0)
    .join('\n\n');
}

export interface TurnContext {
  sessionKey: string;
  transcript: TranscriptEntry[];
  summary: string;
}

/**
 * The child's input. The session offers `agent`, `text`, `batch`, `session`, `transcript` and
 * `summary`; only those the pipeline declares under `inputs:` are passed, because a run
 * rejects inputs it does not declare.
 */
export function turnInput(turn: Turn, context: TurnContext): PipelineRunInput {
  const first = turn.messages[0]!;
  const text = joinedText(turn.messages);
  const offered: Record<string, unknown> = {
    agent: first.agentId,
    text,
    batch: turn.messages.map((m) => m.message),
    session: context.sessionKey,
    transcript: context.transcript,
    summary: context.summary,
  };
  const declared = first.ir.inputs.properties;
  const inputs = Object.fromEntries(Object.entries(offered).filter(([name]) => name in declared));
  // A batch is answered as one message: the first envelope (its id names the turn), all texts.
  const message: InboundMessage = turn.messages.length > 1 ? { ...first.message, text } : first.message;
  return {
    ir: first.ir,
    hash: first.hash,
    inputs,
    message,
    session: context.sessionKey,
    ...(first.env ? { env: first.env } : {}),
    ...(first.answer ? { replyVia: 'answer' as const } : {}),
  };
}

/** The reply text of a finished turn: `outputs.reply`, else `outputs.text`, when a string. */
export function replyText(outputs: unknown): string | undefined {
  if (!outputs || typeof outputs !== 'object') return undefined;
  const { reply, text } = outputs as Record<string, unknown>;
  if (typeof reply === 'string' && reply.length > 0) return reply;
  if (typeof text === 'string' && text.length > 0) return text;
  return undefined;
}

/**
 * What the turn's attachments said, in short (`outputs.media`: a voice note's words, the names
 * of files): kept in the transcript with the message, so later turns and `sessions show` see it.
 */
export function mediaSummary(outputs: unknown): string | undefined {
  if (!outputs || typeof outputs !== 'object') return undefined;
  const media = (outputs as Record<string, unknown>).media;
  return typeof media === 'string' && media.trim() ? media.trim() : undefined;
}

/**
 * The agent's compaction, when the turn's pipeline reports one as `outputs.compaction`
 * (`{ summary, kept }`: the new summary, and how many of the earlier transcript entries the
 * agent kept verbatim). The session adopts it, so the next turn starts from the summary.
 */
export function compactionOf(outputs: unknown): { summary: string; kept: number } | undefined {
  if (!outputs || typeof outputs !== 'object') return undefined;
  const compaction = (outputs as Record<string, unknown>).compaction;
  if (!compaction || typeof compaction !== 'object') return undefined;
  const { summary, kept } = compaction as Record<string, unknown>;
  if (typeof summary !== 'string' || !summary) return undefined;
  if (typeof kept !== 'number' || !Number.isInteger(kept) || kept < 0) return undefined;
  return { summary, kept };
}
