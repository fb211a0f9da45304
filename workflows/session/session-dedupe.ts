/**
 * Dropping re-deliveries: a platform may deliver the same update twice (a gateway restart, a
 * webhook retry). The session remembers the last few hundred messages by two keys, the
 * delivery id (platformId) and the message id, each scoped to its channel account; a message
 * matching either is a duplicate. The memory is bounded and survives continue-as-new.
 */
import type { InboundMessage } from '../../channels/envelope.js';

export function dedupeKeys(message: InboundMessage): string[] {
  const scope = `${message.channel}:${message.accountId}`;
  const keys = [`${scope}:message:${message.chat.id}:${message.messageId}`];
  if (message.platformId) keys.push(`${scope}:delivery:${message.platformId}`);
  return keys;
}

export class SeenMessages {
  private readonly order: string[];
  private readonly keys: Set<string>;

  /** `maxMessages` messages are remembered (two keys each). */
  constructor(
    carried: string[],
    private readonly maxMessages: number,
  ) {
    this.order = carried.slice(-2 * maxMessages);
    this.keys = new Set(this.order);
  }

  has(message: InboundMessage): boolean {
    return dedupeKeys(message).some((key) => this.keys.has(key));
  }

  remember(message: InboundMessage): void {
    for (const key of dedupeKeys(message)) {
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      this.order.push(key);
    }
    while (this.order.length > 2 * this.maxMessages) {
      const dropped = this.order.shift();
      if (dropped !== undefined) this.keys.delete(dropped);
    }
  }

  toJSON(): string[] {
    return [...this.order];
  }
}
