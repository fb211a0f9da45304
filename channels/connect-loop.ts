// Connecting to a platform until it works, as Slack's and Discord's connectors do: the first
// attempt decides what start() reports (so a refused token shows at once), later attempts run in
// the background with exponential backoff, each failure reported as reconnecting; a refusal only
// the owner can fix (a bad token) stops the loop as auth-failed.
import type { ConnectorLog } from './log.js';
import { pause } from './pause.js';
import type { ConnectorHealth } from './status.js';

export interface ConnectLoopOptions {
  /** The connector's name in log lines: slack, discord. */
  name: string;
  /** One attempt (`failures` before it); resolves once connected. */
  attempt(failures: number): Promise<void>;
  /** When retrying cannot help (refused credentials): the error and what the owner should do. */
  refused(error: unknown): { error: Error; action: string } | undefined;
  /** The error as the status and the log should show it. */
  explain(error: unknown): Error;
  log: ConnectorLog;
  health?: ConnectorHealth;
  minMs: number;
  maxMs: number;
}

export interface ConnectLoop {
  /** Starts connecting unless already under way; resolves once this run's first attempt settled. */
  run(): Promise<void>;
  /** True while attempts are being made. */
  active(): boolean;
  /** Cuts the wait short and lets the attempt in hand finish; no new attempt starts. */
  stop(): Promise<void>;
}

export function createConnectLoop(options: ConnectLoopOptions): ConnectLoop {
  const { name, log, health } = options;
  let loop: Promise<void> | undefined;
  let stopped = false;
  let wake = new AbortController();

  async function attempts(settleFirst: () => void): Promise<void> {
    for (let failures = 0; !stopped; failures++) {
      try {
        await options.attempt(failures);
        settleFirst();
        return;
      } catch (error) {
        const refused = options.refused(error);
        if (refused) {
          health?.authFailed(refused.error, refused.action);
          log.error({ err: refused.error }, `${name}: credentials refused; not retrying`);
          settleFirst();
          return;
        }
        const explained = options.explain(error);
        health?.reconnecting(explained);
        const delay = Math.min(options.maxMs, options.minMs * 2 ** failures);
        log.warn({ err: explained, retryInMs: delay }, `${name}: could not connect; retrying`);
        settleFirst();
        await pause(delay, wake.signal);
      }
    }
  }

  return {
    async run() {
      stopped = false;
      if (wake.signal.aborted) wake = new AbortController();
      if (loop) return;
      let settleFirst!: () => void;
      const first = new Promise<void>((resolve) => {
        settleFirst = resolve;
      });
      const running = attempts(settleFirst).finally(() => {
        loop = undefined;
      });
      loop = running;
      await Promise.race([running, first]);
    },
    active: () => loop !== undefined,
    async stop() {
      stopped = true;
      wake.abort();
      await loop?.catch(() => undefined);
    },
  };
}
