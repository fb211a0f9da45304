/**
 * Answers owed to `session.turn` updates. An update handler waits here under its message's key
 * until the turn that answers the message has ended; the session settles every key of a turn
 * (its messages, and those steered into it) when it records the turn. A message re-sent while
 * its first update still waits shares that wait.
 */
import { condition } from '@temporalio/workflow';
import type { InboundMessage } from '../../channels/envelope.js';
import type { TurnAnswer } from './session-api.js';
import { dedupeKeys } from './session-dedupe.js';

/** A message's key among answers: its channel account, chat and message id. */
export function answerKey(message: InboundMessage): string {
  return dedupeKeys(message)[0]!;
}

export class AnswerBoard {
  private readonly waiting = new Map<string, number>();
  private readonly settled = new Map<string, TurnAnswer>();

  /** Registers at once (before the first await), then waits for the answer. */
  async wait(key: string): Promise<TurnAnswer> {
    this.waiting.set(key, (this.waiting.get(key) ?? 0) + 1);
    try {
      await condition(() => this.settled.has(key));
      return this.settled.get(key)!;
    } finally {
      const left = (this.waiting.get(key) ?? 1) - 1;
      if (left > 0) this.waiting.set(key, left);
      else {
        this.waiting.delete(key);
        this.settled.delete(key);
      }
    }
  }

  /** Hands the answer to whoever waits for `key`; nobody waiting: nothing is kept. */
  settle(key: string, answer: TurnAnswer): void {
    if (this.waiting.has(key)) this.settled.set(key, answer);
  }

  /** Someone waits for `key` and has no answer yet. */
  owes(key: string): boolean {
    return this.waiting.has(key) && !this.settled.has(key);
  }
}
