// Long polling that never loses an update. grammY's bot.start() confirms a whole batch once its
// middleware returned — with bot.catch installed an update whose handler threw is confirmed and
// gone, without it the bot stops. Here the offset only moves past an update after it was handled:
// a failing update is retried (with backoff) until it succeeds, and if the gateway stops or dies
// meanwhile Telegram re-delivers it on the next getUpdates. Re-delivery is harmless downstream —
// platformId / workflow ids make it the same turn. Updates are handled one at a time, in order.
import { type Api, GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import type { ConnectorLog } from '../log.js';
import type { ConnectorHealth } from '../status.js';

export interface PollingOptions {
  api: Api;
  handle(update: Update): Promise<void>;
  log: ConnectorLog;
  /** Long-poll timeout in seconds (Telegram holds the request open this long). */
  timeoutSeconds?: number;
  /** Backoff bounds after a failed getUpdates or a failed update. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Told after each getUpdates whether Telegram answered (connected) or not (reconnecting). */
  health?: ConnectorHealth;
}

export interface Polling {
  /** Settles when the loop has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export const ALLOWED_UPDATES = ['message'] as const;

export function startPolling(options: PollingOptions): Polling {
  const { api, handle, log, health } = options;
  const timeout = options.timeoutSeconds ?? 30;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const abort = new AbortController();
  let offset: number | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        abort.signal.removeEventListener('abort', wake);
        resolve();
      }, ms);
      abort.signal.addEventListener('abort', wake, { once: true });
    });

  async function handleUntilDone(update: Update): Promise<boolean> {
    for (let failures = 0; !abort.signal.aborted; failures++) {
      try {
        await handle(update);
        return true;
      } catch (error) {
        const delay = Math.min(maxBackoff, minBackoff * 2 ** failures);
        log.error(
          { err: error, updateId: update.update_id, retryInMs: delay },
          'telegram: handling an update failed; it stays unconfirmed and is retried',
        );
        await pause(delay);
      }
    }
    return false;
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      let updates: Update[];
      try {
        updates = await api.getUpdates(
          { timeout, allowed_updates: [...ALLOWED_UPDATES], ...(offset === undefined ? {} : { offset }) },
          // grammY types its signal with the abort-controller polyfill; the native one works the same.
          abort.signal as Parameters<Api['getUpdates']>[1],
        );
        failures = 0;
        health?.connected();
      } catch (error) {
        if (abort.signal.aborted) break;
        const delay = Math.min(maxBackoff, minBackoff * 2 ** failures++);
        if (error instanceof GrammyError && error.error_code === 401) {
          // The token was revoked while running: keep trying (slowly), but say what to do.
          health?.authFailed(
            error,
            'Set channels.telegram.botToken (or TELEGRAM_BOT_TOKEN) to a valid token from @BotFather, then restart the gateway.',
          );
        } else {
          health?.reconnecting(error);
        }
        log.warn({ err: error, retryInMs: delay }, 'telegram: getUpdates failed; retrying');
        await pause(delay);
        continue;
      }
      for (const update of updates) {
        if (!(await handleUntilDone(update))) return;
        offset = update.update_id + 1;
      }
    }
  }

  const done = loop();
  return {
    done,
    async stop() {
      abort.abort();
      await done;
      // Confirm what was handled, so a restart does not fetch it again (bot.stop() does the same).
      if (offset !== undefined) {
        await api.getUpdates({ offset, limit: 1, timeout: 0 }).catch((error: unknown) => {
          log.warn(
            { err: error },
            'telegram: could not confirm the last handled update; it may be re-delivered',
          );
        });
      }
    },
  };
}
