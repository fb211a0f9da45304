// Handing accepted messages to the gateway without losing one, for platforms that do not deliver
// a message again once the connector received it (WhatsApp acknowledges on receipt; a Discord
// gateway event is gone once read). Each message is written to a journal first, handed on with
// retries (backoff) until the gateway took it — Temporal may be down for a while — and only then
// removed; a gateway that stops or dies meanwhile hands the journal's messages on at its next
// start. Messages are handed on one at a time, in arrival order. Re-delivery is harmless:
// platformId / workflow ids make a message handed on twice the same turn.
import type { InboundMessage } from './envelope.js';
import type { ConnectorLog } from './log.js';

/** Where messages wait until the gateway took them; gateway/store/inbound-journal.ts keeps it in SQLite. */
export interface InboundJournal {
  add(message: InboundMessage): void;
  remove(message: InboundMessage): void;
  /** Messages of one account not yet handed on, oldest first. */
  pending(channel: string, accountId: string): InboundMessage[];
}

export interface InboundQueueOptions {
  channel: string;
  accountId: string;
  /** Hands one message on (router → Temporal). Throwing means: keep it and try again. */
  deliver(message: InboundMessage): Promise<void>;
  journal?: InboundJournal;
  log: ConnectorLog;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface InboundQueue {
  /** Journals the message and queues it for hand-off; resolves once it is journaled. */
  push(message: InboundMessage): void;
  /** Queues what the journal kept from an earlier run (call once at start). */
  replay(): number;
  /** Resolves when everything queued so far was handed on (tests). */
  idle(): Promise<void>;
  /** Stops after the message in hand; what is left stays in the journal. */
  stop(): Promise<void>;
}

export function createInboundQueue(options: InboundQueueOptions): InboundQueue {
  const { deliver, journal, log } = options;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const queue: InboundMessage[] = [];
  const queued = new Set<string>();
  let running: Promise<void> | undefined;
  let stopped = false;
  let wake: () => void = () => {};
  const idleWaiters: Array<() => void> = [];

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function drain(): Promise<void> {
    while (!stopped && queue.length > 0) {
      const message = queue[0]!;
      for (let failures = 0; !stopped; failures++) {
        try {
          await deliver(message);
          journal?.remove(message);
          break;
        } catch (error) {
          const delay = Math.min(maxBackoff, minBackoff * 2 ** failures);
          log.error(
            {
              err: error,
              channel: options.channel,
              accountId: options.accountId,
              platformId: message.platformId,
              retryInMs: delay,
            },
            'handing a message on failed; it is kept and retried',
          );
          await pause(delay);
        }
      }
      if (stopped) break;
      queue.shift();
      queued.delete(message.platformId);
    }
    running = undefined;
    if (queue.length === 0) for (const done of idleWaiters.splice(0)) done();
  }

  function enqueue(message: InboundMessage): void {
    if (queued.has(message.platformId)) return;
    queued.add(message.platformId);
    queue.push(message);
    if (!running && !stopped) running = drain();
  }

  return {
    push(message) {
      journal?.add(message);
      enqueue(message);
    },
    replay() {
      const pending = journal?.pending(options.channel, options.accountId) ?? [];
      for (const message of pending) enqueue(message);
      return pending.length;
    },
    idle() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      stopped = true;
      wake();
      await running;
    },
  };
}
