// The last answers of each web chat, in memory, so a browser that was away (reload, sleep,
// flaky network) gets what it missed when it reconnects. Memory only: a gateway restart forgets
// them, and a browser that was offline across that restart misses those answers (documented).
import type { ServerFrame } from './protocol.js';

export type FinalFrame = Extract<ServerFrame, { type: 'final' }>;

export class RecentFinals {
  private readonly chats = new Map<string, FinalFrame[]>();

  constructor(
    private readonly perChat: number,
    private readonly maxChats: number,
  ) {}

  add(chatId: string, final: FinalFrame): void {
    const list = this.chats.get(chatId) ?? [];
    // Re-insert so the Map's order is least recently used first.
    this.chats.delete(chatId);
    list.push(final);
    if (list.length > this.perChat) list.splice(0, list.length - this.perChat);
    this.chats.set(chatId, list);
    while (this.chats.size > this.maxChats) this.chats.delete(this.chats.keys().next().value!);
  }

  of(chatId: string): readonly FinalFrame[] {
    return this.chats.get(chatId) ?? [];
  }
}
