// Side-effecting methods carry an idempotencyKey; a repeat of the same method and key within the
// retention window gets the same reply (the same run) instead of a second turn.
export const IDEMPOTENCY_RETENTION_MS = 10 * 60_000;
const MAX_ENTRIES = 5_000;

/** A method's reply: the first `res` payload and, for two-phase methods, the final one. */
export interface MethodReply {
  payload: unknown;
  final?: Promise<unknown>;
}

interface Entry {
  at: number;
  reply: Promise<MethodReply>;
}

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly retentionMs = IDEMPOTENCY_RETENTION_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the cached reply for `method`+`key`, or runs `produce` once and caches it. Failed calls are not cached. */
  run(
    method: string,
    key: string,
    produce: () => Promise<MethodReply>,
  ): { reply: Promise<MethodReply>; replayed: boolean } {
    const id = `${method}\u0000${key}`;
    const now = this.now();
    const hit = this.entries.get(id);
    if (hit && now - hit.at < this.retentionMs) return { reply: hit.reply, replayed: true };
    const reply = produce();
    this.entries.set(id, { at: now, reply });
    reply.catch(() => this.entries.delete(id));
    if (this.entries.size > MAX_ENTRIES) this.evict(now);
    return { reply, replayed: false };
  }

  private evict(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.at >= this.retentionMs || this.entries.size > MAX_ENTRIES) this.entries.delete(id);
      else break;
    }
  }
}
