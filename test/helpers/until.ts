import { vi } from 'vitest';

/**
 * Polls `probe` until it gives a value (not `undefined`): for what Temporal does on its own
 * time (a workflow reaching a wait, visibility catching up). Fails naming how long it waited.
 */
export function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  intervalMs = 100,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined) throw new Error(`condition not met within ${timeoutMs / 1000} s`);
      return value;
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
}
