/**
 * The public face of a session (one conversation): its input, signals, updates and query.
 * The gateway, the CLI and tests import this file; it holds no workflow logic.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { InboundMessage } from '../../channels/envelope.js';
import type { PipelineIR } from '../../engine/ir.js';
import type { TurnUsage } from '../agent/turn.js';
import type { CollectedReply, PipelineOutputs, UncertainSendRecord } from '../pipeline/pipeline-api.js';

export const SESSION_WORKFLOW_TYPE = 'sessionWorkflow';

/**
 * What happens to a message that arrives while a turn is running (OpenClaw's queue modes).
 * - collect: wait, then answer everything that queued up in ONE next turn (default)
 * - followup: wait, then answer each queued message in its own turn, in order
 * - steer: hand it to the running turn (signal `pipeline.steer`); starts a turn when idle
 * - interrupt: cancel the running turn, then answer with the new message
 * Messages of different origins (channel, account, chat, thread, sender) never share a turn,
 * steer or interrupt each other: in a session shared by several chats, each is answered in its own.
 */
export type QueueMode = 'collect' | 'followup' | 'steer' | 'interrupt';
export const QUEUE_MODES: readonly QueueMode[] = ['collect', 'followup', 'steer', 'interrupt'];
export const DEFAULT_QUEUE_MODE: QueueMode = 'collect';

/** Payload of `session.message`: one inbound message, already routed and with its pipeline compiled. */
export interface SessionMessage {
  message: InboundMessage;
  /** The compiled pipeline that answers it: the session never reads a file. */
  ir: PipelineIR;
  hash: string;
  agentId: string;
  /** Pipeline name, as routing chose it (for humans; `ir` is what runs). */
  pipeline: string;
  /** Overrides the session's default queue mode for this message. */
  queueMode?: QueueMode;
  /** Values of the environment variables listed in `ir.env`, read by the gateway. */
  env?: Record<string, string>;
}

export interface SessionOptions {
  /** Queue mode for messages that name none. Default `collect`. */
  queueMode?: QueueMode;
  /** Transcript entries kept (user and assistant). Default 50. */
  maxTranscript?: number;
  /** Message ids remembered for dropping re-deliveries. Default 500. */
  maxSeenMessages?: number;
  /** Continue-as-new after this many turns in one run (also when Temporal suggests it). Default 50. */
  turnsPerRun?: number;
  /**
   * Continue-as-new once no message has come for this long (milliseconds), so an idle
   * conversation holds a short history: whichever worker answers its next message replays little.
   * Default 10 minutes.
   */
  continueWhenIdleMs?: number;
}

export interface TranscriptEntry {
  role: 'user' | 'assistant';
  text: string;
  /** Milliseconds since the epoch: the message's timestamp, or when the turn finished. */
  at: number;
  /** The platform message id (user entries). */
  messageId?: string;
  senderId?: string;
  senderName?: string;
  /** Workflow id of the turn that read or wrote this entry. */
  turnId?: string;
  /** A user message handed to an already running turn (queue mode `steer`). */
  steered?: boolean;
}

export type TurnStatus = 'running' | 'completed' | 'failed' | 'interrupted';

export interface TurnRecord {
  /**
   * The turn's id, `turn:<sessionKey>:<first message id>`: the workflow id of its child when it runs
   * as one (`inline` absent), and of the failed turn an inline turn leaves for the Temporal UI.
   */
  workflowId: string;
  /** Ran inside the session workflow (no child workflow of its own unless it failed). */
  inline?: true;
  /** Every message answered by this turn, in arrival order (more than one when batched). */
  messageIds: string[];
  mode: QueueMode;
  status: TurnStatus;
  /** Messages signalled into the turn while it ran (queue mode `steer`). */
  steered: string[];
  error?: string;
  /** Tokens, cost and calls of its agent steps, for inline turns (a child keeps them in its memo). */
  usage?: TurnUsage;
  /** Its replies whose send had an unknown outcome, for inline turns (a child keeps them in its memo). */
  uncertainSends?: UncertainSendRecord[];
  /** Completed by a re-run (a reset of the failed turn) after the session had recorded it as failed. */
  rerun?: true;
}

/** A message waiting for its turn, as the `session.history` query shows it. */
export interface PendingMessage {
  messageId: string;
  text: string;
  senderId: string;
  mode: QueueMode;
}

/** Answer of the `session.history` query. */
export interface SessionHistory {
  sessionKey: string;
  transcript: TranscriptEntry[];
  summary: string;
  pending: PendingMessage[];
  running: TurnRecord | null;
  /** The most recent turns, oldest first (bounded). */
  turns: TurnRecord[];
  /** Turns started over the whole life of the session, across continue-as-new. */
  turnCount: number;
  /** Continue-as-new runs so far (0 in the first run). */
  generation: number;
}

/** A queued message, as carried in state. */
export interface QueuedMessage extends SessionMessage {
  mode: QueueMode;
  /** Arrived while the session was idle and nothing was queued: it starts a turn on its own. */
  startsTurn: boolean;
  /** Came by `session.turn`: its answer goes back as the update's result, not through the channel. */
  answer?: true;
}

/**
 * The result of `session.turn`: how the turn that answered the message ended and what it
 * replied to the message's chat. A message batched with others (queue mode collect) or steered
 * into a running turn gets the answer of that turn.
 */
export interface TurnAnswer {
  /** `unknown`: a re-sent message whose turn is older than the session remembers. */
  status: Exclude<TurnStatus, 'running'> | 'unknown';
  turnId?: string;
  /** The replies to the message's own chat, in order (one, usually; none when the pipeline sent none). */
  replies: CollectedReply[];
  /** `failed`: what went wrong (`AgentFailed: …`). */
  error?: string;
}

/** A turn that ran again (a reset of its failed run) tells its session how it ended. */
export interface TurnRerun {
  turnId: string;
  status: 'completed' | 'failed';
  outputs?: PipelineOutputs;
  error?: string;
}

/**
 * The workflow's input. A new session needs only `sessionKey` (and maybe `options`); the rest
 * is what one run hands the next at continue-as-new.
 */
export interface SessionState {
  sessionKey: string;
  options?: SessionOptions;
  transcript?: TranscriptEntry[];
  summary?: string;
  /** Dedupe keys of recent messages, oldest first (bounded). */
  seen?: string[];
  pending?: QueuedMessage[];
  turns?: TurnRecord[];
  turnCount?: number;
  generation?: number;
}

export interface CompactRequest {
  /** The new summary; absent: keep the current one (only trim the transcript). */
  summary?: string;
  /** Keep only this many most recent transcript entries (default: keep all). */
  keepLast?: number;
}

export interface ResetResult {
  /** Transcript entries dropped. */
  cleared: number;
}

/** Payload of `session.abort`. */
export interface AbortRequest {
  /**
   * Abort only if the running turn answers one of these message ids (a client aborting its
   * own run must not cancel somebody else's). Absent: whatever turn is running.
   */
  messageIds?: string[];
  /** Also drop the messages queued behind it (default true: "stop" means stop). */
  dropPending?: boolean;
}

export interface AbortResult {
  /** A running turn was cancelled (it stops at its next await; it sends no reply). */
  aborted: boolean;
  /** Workflow id of the cancelled turn, if any. */
  turnIds: string[];
  /** Message ids of the cancelled turn and of the dropped queued messages. */
  messageIds: string[];
  /** The dropped queued messages alone. */
  dropped: string[];
}

/** What a steered message looks like to the running turn. */
export interface SteerPayload {
  message: InboundMessage;
}

export const sessionMessageSignal = defineSignal<[SessionMessage]>('session.message');
/**
 * A message whose answer is wanted back (answer-only channels: the OpenClaw WebSocket, the
 * OpenAI API): queued like `session.message`, and the update completes with the answer once
 * its turn has ended. The gateway sends it with Update-with-Start, update id = message id.
 */
export const sessionTurnUpdate = defineUpdate<TurnAnswer, [SessionMessage]>('session.turn');
/** Update failure type while the session is continuing as new: send the update again. */
export const SESSION_CONTINUING = 'SessionContinuingAsNew';
/** From a re-run turn (pipeline.ts reportToSession). */
export const sessionTurnRerunSignal = defineSignal<[TurnRerun]>('session.turnRerun');
export const sessionHistoryQuery = defineQuery<SessionHistory>('session.history');
/** Clears transcript and summary; the dedupe memory stays, so old re-deliveries are still dropped. */
export const sessionResetUpdate = defineUpdate<ResetResult, []>('session.reset');
/**
 * Sets the summary and trims the transcript. Turns do this themselves when the agent compacts
 * (pipeline output `compaction`); owners and clients can call it too (`sessions.compact`).
 */
export const sessionCompactUpdate = defineUpdate<{ transcript: number }, [CompactRequest]>('session.compact');
/** Cancels the running turn (and by default what is queued behind it): OpenClaw's `chat.abort`. */
export const sessionAbortUpdate = defineUpdate<AbortResult, [AbortRequest]>('session.abort');
/** Sent to the running child turn for queue mode `steer`. */
export const pipelineSteerSignal = defineSignal<[SteerPayload]>('pipeline.steer');

/**
 * Id of the turn that answers a message (the first message of a batch), and the workflow id of
 * its child when it has one: `turn:<session key>:<message id>`. Message ids are unique within
 * a chat only (Telegram counts per chat), so when the session key does not name the message's
 * chat — a session several chats share, `dmScope: main` — the origin goes in as well:
 * `turn:<session key>:<channel>:<chat id>:<message id>`.
 */
export function turnWorkflowId(
  sessionKey: string,
  first: string | Pick<InboundMessage, 'channel' | 'chat' | 'messageId'>,
): string {
  if (typeof first === 'string') return `turn:${sessionKey}:${first}`;
  if (namesChat(sessionKey, first)) return `turn:${sessionKey}:${first.messageId}`;
  return `turn:${sessionKey}:${first.channel}:${first.chat.id}:${first.messageId}`;
}

function namesChat(sessionKey: string, message: Pick<InboundMessage, 'channel' | 'chat'>): boolean {
  const key = sessionKey.toLowerCase();
  const chat = message.chat.id.toLowerCase();
  if (key === chat) return true; // the client named the session after its chat (OpenClaw's apps)
  const names = (part: string) => key.includes(`:${part}:`) || key.endsWith(`:${part}`);
  return names(message.channel.toLowerCase()) && names(chat);
}
