/**
 * The session workflow `session:<key>`: one conversation, alive as long as the conversation.
 * Messages arrive by signal (the gateway's signalWithStart) or by the `session.turn` update
 * (answer-only channels, whose answer is the update's result), are deduped, queued by queue
 * mode, and answered one turn at a time, strictly in order: inside this workflow when the
 * pipeline allows it, else as a child workflow. It keeps a bounded transcript and a summary, and
 * continues as new (between turns, with no handler running) before its history grows large and
 * after a while without messages. Idle, it waits on a condition.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { InboundMessage } from '../../channels/envelope.js';
import { failureLine } from '../failure-text.js';
import { AnswerBoard, answerKey } from './session-answers.js';
import {
  type AbortResult,
  DEFAULT_QUEUE_MODE,
  QUEUE_MODES,
  SESSION_CONTINUING,
  type SessionHistory,
  type SessionMessage,
  type SessionState,
  sessionAbortUpdate,
  sessionCompactUpdate,
  sessionHistoryQuery,
  sessionMessageSignal,
  sessionResetUpdate,
  sessionTurnRerunSignal,
  sessionTurnUpdate,
  type TranscriptEntry,
  type TurnAnswer,
  type TurnRecord,
  type TurnRerun,
  turnWorkflowId,
} from './session-api.js';
import { SeenMessages } from './session-dedupe.js';
import {
  compactionOf,
  mediaSummary,
  replyText,
  sameOrigin,
  type Turn,
  takeTurn,
  turnInput,
} from './session-queue.js';
import { RunningTurn, type TurnOutcome } from './session-turn.js';

const DEFAULTS = {
  maxTranscript: 50,
  maxSeenMessages: 500,
  turnsPerRun: 50,
  continueWhenIdleMs: 10 * 60_000,
};
/** Turn records kept for the history query. */
const MAX_TURN_RECORDS = 20;

// Changes to how turns run; histories recorded before each replay the old way.
const INLINE_TURN_PATCH = 'sy-inline-turn';
const ORIGINS_APART_PATCH = 'sy-turn-per-origin';
const IDLE_CONTINUE_PATCH = 'sy-idle-continue';
const TURN_ID_ORIGIN_PATCH = 'sy-turn-id-origin';

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
  /** Decided to continue as new: `session.turn` updates are turned away (the gateway sends them again). */
  let closing = false;
  let idle = false;
  let watchingIdleness = false;
  let lastMessageAt = Date.now();
  const answers = new AnswerBoard();
  /** Outcomes reported by a re-run of the turn that is still running here: applied if it fails. */
  const reruns = new Map<string, TurnRerun>();
  /** Failed inline turns being recorded as failed child workflows. */
  const recording: Promise<void>[] = [];

  const record = (entry: TranscriptEntry) => {
    transcript.push(entry);
    if (transcript.length > options.maxTranscript) transcript = transcript.slice(-options.maxTranscript);
  };
  // Different origins stay apart in new histories; old ones may hold batches or steers across them.
  const apart = () => patched(ORIGINS_APART_PATCH);
  /** A turn's id names its chat where the session key does not (see turnWorkflowId). */
  const turnIdOf = (message: InboundMessage) => {
    const plain = turnWorkflowId(sessionKey, message.messageId);
    const named = turnWorkflowId(sessionKey, message);
    return named === plain || !patched(TURN_ID_ORIGIN_PATCH) ? plain : named;
  };
  const mayJoinRunning = (message: InboundMessage) =>
    !!running && (sameOrigin(running.input.message as InboundMessage, message) || !apart());

  /** Dedupes (true: it is new), then hands the message to the running turn or queues it. */
  async function accept(incoming: SessionMessage, answer: boolean): Promise<boolean> {
    const { message } = incoming;
    if (seen.has(message)) {
      log.info('re-delivered message dropped', { sessionKey, messageId: message.messageId });
      return false;
    }
    seen.remember(message);
    lastMessageAt = Date.now();
    const mode =
      incoming.queueMode && QUEUE_MODES.includes(incoming.queueMode)
        ? incoming.queueMode
        : (options.queueMode ?? DEFAULT_QUEUE_MODE);
    if (running && mode === 'steer' && mayJoinRunning(message) && (await running.steer(message))) {
      running.record.steered.push(message.messageId);
      running.steeredKeys.push(answerKey(message));
      record({ ...userEntry(incoming), turnId: running.record.workflowId, steered: true });
      return true;
    }
    if (running && mode === 'interrupt' && mayJoinRunning(message)) running.interrupt();
    pending.push({
      ...incoming,
      mode,
      startsTurn: !running && pending.length === 0,
      ...(answer ? { answer: true as const } : {}),
    });
    return true;
  }

  setHandler(sessionMessageSignal, async (incoming: SessionMessage) => {
    if (!validMessage(incoming)) {
      // The gateway validates envelopes at the door; this is a bug in whoever signalled.
      log.error('session.message without message.messageId, message.chat.id or ir: dropped', {
        sessionKey,
      });
      return;
    }
    await accept(incoming, false);
  });

  setHandler(
    sessionTurnUpdate,
    async (incoming: SessionMessage): Promise<TurnAnswer> => {
      const key = answerKey(incoming.message);
      if (seen.has(incoming.message)) {
        // Sent again (a retry of the gateway): the first one's answer, whenever it comes.
        if (answers.owes(key) || inFlight(key)) return answers.wait(key);
        return knownAnswer(incoming.message);
      }
      const answer = answers.wait(key);
      await accept(incoming, true);
      return answer;
    },
    {
      validator: (incoming) => {
        if (!validMessage(incoming)) {
          throw new Error(
            'session.turn: expected a SessionMessage with message.messageId, message.chat.id and ir',
          );
        }
        if (closing) {
          throw ApplicationFailure.create({
            type: SESSION_CONTINUING,
            message: 'the session is continuing as new: send the update again',
          });
        }
      },
    },
  );

  setHandler(sessionTurnRerunSignal, (rerun: TurnRerun) => {
    // The turn's first run is still running here (a reset of a running child): its end decides.
    if (running?.record.workflowId === rerun.turnId) reruns.set(rerun.turnId, rerun);
    else applyRerun(rerun);
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
          const { message } = pending[i]!;
          if (wanted && !wanted.has(message.messageId)) continue;
          pending.splice(i, 1);
          result.messageIds.push(message.messageId);
          result.dropped.unshift(message.messageId);
          answers.settle(answerKey(message), { status: 'interrupted', replies: [] });
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

  /** Is the message waiting or being answered right now? */
  function inFlight(key: string): boolean {
    return pending.some((p) => answerKey(p.message) === key) || !!running?.answers(key);
  }

  /** The answer of a message whose turn has ended, from the turn records and the transcript. */
  function knownAnswer(message: InboundMessage): TurnAnswer {
    const turn = [...turns]
      .reverse()
      .find((t) => t.messageIds.includes(message.messageId) || t.steered.includes(message.messageId));
    if (!turn || turn.status === 'running') return { status: 'unknown', replies: [] };
    const reply = transcript.find((e) => e.role === 'assistant' && e.turnId === turn.workflowId);
    return {
      status: turn.status,
      turnId: turn.workflowId,
      replies: reply ? [{ text: reply.text }] : [],
      ...(turn.error ? { error: turn.error } : {}),
    };
  }

  /** A re-run turn ended: record its outcome, and its answer right after its own messages. */
  function applyRerun(rerun: TurnRerun): void {
    const turn = turns.find((t) => t.workflowId === rerun.turnId);
    if (turn?.status === 'completed') return;
    if (rerun.status === 'failed') {
      if (turn && rerun.error) turn.error = rerun.error;
      return;
    }
    if (turn) {
      turn.status = 'completed';
      turn.rerun = true;
      delete turn.error;
      delete turn.usage; // the re-run keeps its own in its memo (the first run's uncertain sends stay)
    }
    const reply = replyText(rerun.outputs);
    if (reply === undefined) return;
    const entry: TranscriptEntry = { role: 'assistant', text: reply, at: Date.now(), turnId: rerun.turnId };
    let at = -1;
    transcript.forEach((e, i) => {
      if (e.turnId === rerun.turnId) at = i;
    });
    if (at < 0) record(entry);
    else transcript = [...transcript.slice(0, at + 1), entry, ...transcript.slice(at + 1)];
    log.info('a re-run turn rejoined the conversation', { sessionKey, turn: rerun.turnId });
  }

  const runTurn = async (turn: Turn) => {
    const first = turn.messages[0]!;
    const turnRecord: TurnRecord = {
      workflowId: turnIdOf(first.message),
      messageIds: turn.messages.map((m) => m.message.messageId),
      mode: turn.mode,
      status: 'running',
      steered: [],
    };
    // The turn reads the conversation BEFORE its own messages (they are its prompt).
    const input = turnInput(turn, { sessionKey, transcript: [...transcript], summary });
    const inline = first.ir.inline === true && patched(INLINE_TURN_PATCH);
    if (inline) turnRecord.inline = true;
    for (const m of turn.messages) record({ ...userEntry(m), turnId: turnRecord.workflowId });
    turnCount++;
    turnsThisRun++;
    watchIdleness();
    const keys = turn.messages.map((m) => answerKey(m.message));
    const current = new RunningTurn(turnRecord, input, keys, inline);
    running = current;
    const outcome = await current.run();
    running = undefined;
    turnRecord.status = outcome.status;
    if (outcome.uncertainSends) turnRecord.uncertainSends = outcome.uncertainSends;
    if (outcome.status === 'failed') {
      turnRecord.error = failureLine(outcome.error);
      log.warn('turn failed', { sessionKey, turn: turnRecord.workflowId, error: turnRecord.error });
    }
    if (outcome.status === 'completed') {
      if (outcome.usage) turnRecord.usage = outcome.usage;
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
    const answer = answerOf(turnRecord, outcome);
    for (const key of [...keys, ...current.steeredKeys]) answers.settle(key, answer);
    const rerun = reruns.get(turnRecord.workflowId);
    reruns.delete(turnRecord.workflowId);
    if (outcome.status === 'failed') {
      if (rerun) applyRerun(rerun);
      else recording.push(current.leaveFailureRecord(outcome.error));
    }
  };

  /** Once a run has had a turn: notice when no message has come for `continueWhenIdleMs`. */
  function watchIdleness(): void {
    if (watchingIdleness || !patched(IDLE_CONTINUE_PATCH)) return;
    watchingIdleness = true;
    const wait = options.continueWhenIdleMs;
    void (async () => {
      for (;;) {
        await sleep(Math.max(1000, wait - (Date.now() - lastMessageAt)));
        if (!running && pending.length === 0 && Date.now() - lastMessageAt >= wait) {
          idle = true;
          return;
        }
      }
    })().catch(() => {
      // Cancelled with the session.
    });
  }

  const timeToContinue = () =>
    idle || turnsThisRun >= options.turnsPerRun || workflowInfo().continueAsNewSuggested;

  for (;;) {
    await condition(() => pending.length > 0 || timeToContinue());
    // A message whose answer is owed to an update is answered in this run.
    if (timeToContinue() && !pending.some((p) => p.answer)) break;
    await runTurn(takeTurn(pending, apart));
  }
  // Between turns: nothing is running, so nothing can be cut off. Let in-flight handlers end.
  closing = true;
  await condition(allHandlersFinished);
  await Promise.all(recording);
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

function validMessage(incoming: SessionMessage | undefined): incoming is SessionMessage {
  return !!incoming?.message?.messageId && !!incoming.message.chat?.id && !!incoming.ir;
}

function answerOf(turn: TurnRecord, outcome: TurnOutcome): TurnAnswer {
  return {
    status: outcome.status,
    turnId: turn.workflowId,
    replies: outcome.replies,
    ...(turn.error ? { error: turn.error } : {}),
  };
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
