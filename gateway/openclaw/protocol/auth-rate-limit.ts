// Failed-auth throttling per remote address: after `maxFailures` failures within `windowMs`
// the address is locked out for `lockoutMs`. Loopback is exempt by default, as in OpenClaw,
// so a local misconfigured client cannot lock its owner out.
export interface AuthRateLimitOptions {
  maxFailures?: number;
  windowMs?: number;
  lockoutMs?: number;
  exemptLocal?: boolean;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class AuthRateLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  readonly exemptLocal: boolean;
  private readonly entries = new Map<string, Entry>();

  constructor(
    options: AuthRateLimitOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.lockoutMs = options.lockoutMs ?? 5 * 60_000;
    this.exemptLocal = options.exemptLocal ?? true;
  }

  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfterMs(address: string, isLocal: boolean): number {
    if (isLocal && this.exemptLocal) return 0;
    const entry = this.entries.get(address);
    return entry ? Math.max(0, entry.lockedUntil - this.now()) : 0;
  }

  recordFailure(address: string, isLocal: boolean): void {
    if (isLocal && this.exemptLocal) return;
    const now = this.now();
    const entry = this.entries.get(address) ?? { failures: [], lockedUntil: 0 };
    entry.failures = entry.failures.filter((t) => now - t < this.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.maxFailures) {
      entry.lockedUntil = now + this.lockoutMs;
      entry.failures = [];
    }
    this.entries.set(address, entry);
    if (this.entries.size > 10_000) this.prune(now);
  }

  recordSuccess(address: string): void {
    this.entries.delete(address);
  }

  private prune(now: number): void {
    for (const [address, entry] of this.entries) {
      if (entry.lockedUntil < now && entry.failures.every((t) => now - t >= this.windowMs))
        this.entries.delete(address);
    }
  }
}
