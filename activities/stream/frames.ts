// The wire format of live token deltas, worker → gateway (`/internal/stream`). Outside Temporal
// history and best-effort: a lost frame costs a flicker on a live client, never a message.
// Frames are keyed by the run key of the answer (channels/run-key.ts).

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
