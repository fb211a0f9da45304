import { randomUUID } from 'node:crypto';
import type { DataConverter } from '@temporalio/common';
import { createChannelSendActivities } from '../../activities/channel-send.js';
import { type RunningChannelWorker, startChannelWorker } from '../../gateway/channels/channel-worker.js';
import { openDb } from '../../gateway/store/db.js';
import { Outbox } from '../../gateway/store/outbox.js';
import { channelTaskQueue } from '../../workflows/channel/channel-api.js';

export interface RecordedSend {
  chatId: string;
  text: string;
  replyTo?: string;
  /** A stored file sent (sha256 and name), instead of text. */
  file?: { sha256: string; name?: string };
}

/**
 * A chat channel served by the real exactly-once send activity and outbox, whose platform call
 * just records. Its queue belongs to the test's worker task queue, so it is this test's alone.
 */
export async function startRecordingChannel(
  address: string,
  workerTaskQueue: string,
  channel = `t${randomUUID().slice(0, 8)}`,
  /** The payload codec of the worker whose turns it serves (dataConverterOf(its config)). */
  dataConverter?: DataConverter,
) {
  const sent: RecordedSend[] = [];
  const worker: RunningChannelWorker = await startChannelWorker({
    connection: { address },
    namespace: 'default',
    ...(dataConverter ? { dataConverter } : {}),
    taskQueue: channelTaskQueue(workerTaskQueue, channel),
    activities: createChannelSendActivities({
      outbox: new Outbox(openDb(':memory:'), { runId: 'test' }),
      senders: [
        {
          channel,
          accountId: 'default',
          textLimit: 4000,
          send: async (chatId, text, opts) => {
            sent.push({
              chatId,
              text,
              ...(opts?.replyToMessageId ? { replyTo: opts.replyToMessageId } : {}),
            });
            return { messageId: String(sent.length) };
          },
          sendFile: async (chatId, file) => {
            sent.push({
              chatId,
              text: '',
              file: { sha256: file.sha256, ...(file.name ? { name: file.name } : {}) },
            });
            return { messageId: String(sent.length) };
          },
        },
      ],
    }),
  });
  return { channel, sent, close: () => worker.shutdown() };
}
