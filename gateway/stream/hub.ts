// The gateway's fan-out of live token deltas: the relay publishes what workers send, connectors
// (web chat, OpenAI streaming) subscribe by run key. Only subscribed runs cost memory; a frame
// for a run nobody watches is dropped at once. Repeats (seq not beyond the last seen) are dropped,
// so a resend after a reconnect never doubles text; a gap is passed on with its seq, and each
// subscriber decides what a hole means to it.
import type { DeltaFrame } from '../../activities/stream/frames.js';

export type { DeltaFrame } from '../../activities/stream/frames.js';

export type DeltaListener = (frame: DeltaFrame) => void;

export interface DeltaHub {
  /** Listen to one run key until the returned function is called. */
  subscribe(runKey: string, listener: DeltaListener): () => void;
  publish(frame: DeltaFrame): void;
  /** Run keys with at least one subscriber. */
  readonly watched: number;
}

interface Run {
  listeners: Set<DeltaListener>;
  lastSeq: number;
}

export function createDeltaHub(options: { onListenerError?: (error: unknown) => void } = {}): DeltaHub {
  const runs = new Map<string, Run>();
  return {
    subscribe(runKey, listener) {
      let run = runs.get(runKey);
      if (!run) {
        run = { listeners: new Set(), lastSeq: 0 };
        runs.set(runKey, run);
      }
      run.listeners.add(listener);
      return () => {
        const current = runs.get(runKey);
        if (!current) return;
        current.listeners.delete(listener);
        if (current.listeners.size === 0) runs.delete(runKey);
      };
    },
    publish(frame) {
      const run = runs.get(frame.runKey);
      if (!run) return;
      if (frame.type === 'delta') {
        if (frame.seq <= run.lastSeq) return;
        run.lastSeq = frame.seq;
      }
      for (const listener of [...run.listeners]) {
        try {
          listener(frame);
        } catch (error) {
          options.onListenerError?.(error);
        }
      }
    },
    get watched() {
      return runs.size;
    },
  };
}
