/**
 * The session workflow `session:<key>`: one conversation, alive as long as the conversation.
 * Messages arrive by signal (the gateway's signalWithStart), are deduped, queued by queue mode,
 * and answered by one child turn at a time, strictly in order. It keeps a bounded transcript and
 * a summary, and continues as new (between turns, with no handler running) before its history
 * grows large. Idle, it waits on a condition: no timers, no polling.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type AbortResult,
  DEFAULT_QUEUE_MODE,
  QUEUE_MODES,
  type SessionHistory,
  type SessionMessage,
  type SessionState,
  sessionAbortUpdate,
  sessionCompactUpdate,
  sessionHistoryQuery,
  sessionMessageSignal,
  sessionResetUpdate,
  type TranscriptEntry,
  type TurnRecord,
  turnWorkflowId,
} from './session-api.js';
import { SeenMessages } from './session-dedupe.js';
import { compactionOf, mediaSummary, replyText, type Turn, takeTurn, turnInput } from './session-queue.js';
import { RunningTurn } from './session-turn.js';

const DEFAULTS = { maxTranscript: 50, maxSeenMessages: 500, turnsPerRun: 200 };
/** Turn records kept for the history query. */
const MAX_TURN_RECORDS = 20;

export async function sessionWorkflow(state: SessionState): Promise<void> {
  const { sessionKey } = state;
  const options = { ...DEFAULTS, ...state.options };
  const seen = new SeenMessages(state.seen ?? [], options.maxSeenMessages);
  const pending = [...(state.pending ?? [])];
  let transcript = [...(state.transcript ?? [])];
  let summary = state.summary ?? '';
  const turns = [...(state.turns ?? [])];
  let turnCount = state.turnCount ?? 0;
  const generation = state.generation ?? 0;
  let running: RunningTurn | undefined;
  let turnsThisRun = 0;

  const record = (entry: TranscriptEntry) => {
    transcript.push(entry);
    if (transcript.length > options.maxTranscript) transcript = transcript.slice(-options.maxTranscript);
  };

  setHandler(sessionMessageSignal, async (incoming: SessionMessage) => {
    const { message } = incoming;
    if (!message?.messageId || !message.chat?.id || !incoming.ir) {
      // The gateway validates envelopes at the door; this is a bug in whoever signalled.
      log.error('session.message without message.messageId, message.chat.id or ir: dropped', {
        sessionKey,
      });
      return;
    }
    if (seen.has(message)) {
      log.info('re-delivered message dropped', { sessionKey, messageId: message.messageId });
      return;
    }
    seen.remember(message);
    const mode =
      incoming.queueMode && QUEUE_MODES.includes(incoming.queueMode)
        ? incoming.queueMode
        : (options.queueMode ?? DEFAULT_QUEUE_MODE);
    if (running && mode === 'steer' && (await running.steer(message))) {
      running.record.steered.push(message.messageId);
      record({ ...userEntry(incoming), turnId: running.record.workflowId, steered: true });
      return;
    }
    if (running && mode === 'interrupt') running.interrupt();
    pending.push({ ...incoming, mode, startsTurn: !running && pending.length === 0 });
  });

  setHandler(
    sessionHistoryQuery,
    (): SessionHistory => ({
      sessionKey,
      transcript,
      summary,
      pending: pending.map((p) => ({
        messageId: p.message.messageId,
        text: p.message.text,
        senderId: p.message.sender.id,
        mode: p.mode,
      })),
      running: running?.record ?? null,
      turns,
      turnCount,
      generation,
    }),
  );

  setHandler(sessionResetUpdate, () => {
    const cleared = transcript.length;
    transcript = [];
    summary = '';
    return { cleared };
  });

  setHandler(
    sessionCompactUpdate,
    ({ summary: next, keepLast }) => {
      if (next !== undefined) summary = next;
      if (keepLast !== undefined) transcript = keepLast > 0 ? transcript.slice(-keepLast) : [];
      return { transcript: transcript.length };
    },
    {
      validator: (request) => {
        if (!request || typeof request !== 'object')
          throw new Error('session.compact: expected {summary?, keepLast?}');
        if (request.summary !== undefined && typeof request.summary !== 'string')
          throw new Error('session.compact: summary must be a string');
        const { keepLast } = request;
        if (keepLast !== undefined && !(Number.isInteger(keepLast) && keepLast >= 0)) {
          throw new Error('session.compact: keepLast must be a whole number ≥ 0');
        }
      },
    },
  );

  setHandler(
    sessionAbortUpdate,
    ({ messageIds, dropPending } = {}): AbortResult => {
      const result: AbortResult = { aborted: false, turnIds: [], messageIds: [], dropped: [] };
      const wanted = messageIds ? new Set(messageIds) : undefined;
      if (running && (!wanted || running.record.messageIds.some((id) => wanted.has(id)))) {
        result.aborted = running.interrupt();
        if (result.aborted) {
          result.turnIds.push(running.record.workflowId);
          result.messageIds.push(...running.record.messageIds);
        }
      }
      if (wanted || dropPending !== false) {
        for (let i = pending.length - 1; i >= 0; i--) {
          const id = pending[i]!.message.messageId;
          if (wanted && !wanted.has(id)) continue;
          pending.splice(i, 1);
          result.messageIds.push(id);
          result.dropped.unshift(id);
        }
      }
      return result;
    },
    {
      validator: (request) => {
        const ids = request?.messageIds;
        if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string'))) {
          throw new Error('session.abort: messageIds must be a list of message ids');
        }
      },
    },
  );

  const runTurn = async (turn: Turn) => {
    const first = turn.messages[0]!;
    const turnRecord: TurnRecord = {
      workflowId: turnWorkflowId(sessionKey, first.message.messageId),
      messageIds: turn.messages.map((m) => m.message.messageId),
      mode: turn.mode,
      status: 'running',
      steered: [],
    };
    // The turn reads the conversation BEFORE its own messages (they are its prompt).
    const input = turnInput(turn, { sessionKey, transcript: [...transcript], summary });
    for (const m of turn.messages) record({ ...userEntry(m), turnId: turnRecord.workflowId });
    turnCount++;
    turnsThisRun++;
    running = new RunningTurn(turnRecord, input);
    const outcome = await running.run();
    running = undefined;
    turnRecord.status = outcome.status;
    if (outcome.status === 'failed') {
      turnRecord.error = outcome.error;
      log.warn('turn failed', { sessionKey, turn: turnRecord.workflowId, error: outcome.error });
    }
    if (outcome.status === 'completed') {
      const compaction = compactionOf(outcome.outputs);
      if (compaction) {
        // The agent folded older turns into a summary: keep what it kept, and this turn.
        summary = compaction.summary;
        const earlier = transcript.filter((e) => e.turnId !== turnRecord.workflowId);
        const kept = compaction.kept > 0 ? earlier.slice(-compaction.kept) : [];
        transcript = [...kept, ...transcript.filter((e) => e.turnId === turnRecord.workflowId)];
      }
      const media = mediaSummary(outcome.outputs);
      if (media) {
        // A voice note's words (or the files' names) join the message they came with.
        const entry = transcript.findLast((e) => e.role === 'user' && e.turnId === turnRecord.workflowId);
        if (entry) entry.text = entry.text ? `${entry.text}\n${media}` : media;
      }
      const reply = replyText(outcome.outputs);
      if (reply !== undefined) {
        record({ role: 'assistant', text: reply, at: Date.now(), turnId: turnRecord.workflowId });
      }
    }
    turns.push(turnRecord);
    if (turns.length > MAX_TURN_RECORDS) turns.splice(0, turns.length - MAX_TURN_RECORDS);
  };

  const timeToContinue = () => turnsThisRun >= options.turnsPerRun || workflowInfo().continueAsNewSuggested;

  for (;;) {
    await condition(() => pending.length > 0 || timeToContinue());
    if (timeToContinue()) break;
    await runTurn(takeTurn(pending));
  }
  // Between turns: nothing is running, so nothing can be cut off. Let in-flight handlers end.
  await condition(allHandlersFinished);
  await continueAsNew<typeof sessionWorkflow>({
    sessionKey,
    ...(state.options ? { options: state.options } : {}),
    transcript,
    summary,
    seen: seen.toJSON(),
    pending,
    turns,
    turnCount,
    generation: generation + 1,
  });
}

function userEntry({ message }: SessionMessage): TranscriptEntry {
  return {
    role: 'user',
    text: message.text,
    at: message.timestamp,
    messageId: message.messageId,
    senderId: message.sender.id,
    ...(message.sender.name ? { senderName: message.sender.name } : {}),
  };
}
