// The wire format of live token deltas, worker → gateway (`/internal/stream`). Outside Temporal
// history and best-effort: a lost frame costs a flicker on a live client, never a message.

/** Identifies one answer in flight: the inbound message it answers, `${channel}:${chatId}:${messageId}`. */
export function deltaRunKey(channel: string, chatId: string, messageId: string): string {
  return `${channel}:${chatId}:${messageId}`;
}

/** The inverse of deltaRunKey (chat ids may contain `:`; channel ids and message ids do not). */
export function parseDeltaRunKey(runKey: string): { channel: string; chatId: string; messageId: string } {
  const first = runKey.indexOf(':');
  const last = runKey.lastIndexOf(':');
  return {
    channel: runKey.slice(0, first),
    chatId: runKey.slice(first + 1, last),
    messageId: runKey.slice(last + 1),
  };
}

/** A piece of an answer; `seq` counts from 1 per run key, so the gateway can drop repeats and see gaps. */
export interface DeltaTextFrame {
  type: 'delta';
  runKey: string;
  seq: number;
  text: string;
}

/** The worker has no more deltas for this run key (the final answer still comes through the workflow). */
export interface DeltaEndFrame {
  type: 'end';
  runKey: string;
}

/** A tool call of the answer starts or ends (for clients that show "using web_fetch…"). */
export interface DeltaToolFrame {
  type: 'tool';
  runKey: string;
  phase: 'start' | 'end';
  /** Tool name as the model called it. */
  name: string;
  toolCallId: string;
  /** On `end`: the tool reported an error to the model. */
  isError?: boolean;
}

export type DeltaFrame = DeltaTextFrame | DeltaEndFrame | DeltaToolFrame;
