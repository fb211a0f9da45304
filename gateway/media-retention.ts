// The blob store's retention, run by the gateway (the one process that is always up): a sweep
// when the gateway is ready, then hourly. What goes: blobs last stored longer ago than
// media.retention.days, then the oldest until the rest fit in media.retention.maxTotalMB.
import type { FastifyInstance } from 'fastify';
import type { MediaConfig } from '../config/config.js';
import type { BlobStore } from '../media/blob-store.js';

export const SWEEP_EVERY_MS = 60 * 60_000;

export function scheduleMediaRetention(app: FastifyInstance, store: BlobStore, config: MediaConfig): void {
  let running: Promise<void> | undefined;
  const sweep = () => {
    running ??= store
      .sweep({ olderThanMs: config.retention.maxAgeMs, maxTotalBytes: config.retention.maxTotalBytes })
      .then((result) => {
        if (result.deleted > 0) app.log.info({ ...result }, 'media: retention removed old blobs');
      })
      .catch((err: unknown) => app.log.warn({ err }, 'media: retention sweep failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    void sweep();
    timer = setInterval(sweep, SWEEP_EVERY_MS);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
}
