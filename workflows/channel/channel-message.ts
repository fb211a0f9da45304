import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ChannelSendActivities, SendToChannelInput } from '../../activities/channel-send.js';
import { channelTaskQueue, SEND_HEARTBEAT_TIMEOUT_MS } from './channel-api.js';

/**
 * One message to a chat, outside any conversation turn (the agent's `message` tool): the same
 * exactly-once send activity on the connector's queue, keyed by the caller's idempotency key.
 */
export async function channelMessageWorkflow(input: SendToChannelInput) {
  const { sendToChannel } = proxyActivities<ChannelSendActivities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, input.channel),
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
    scheduleToCloseTimeout: '10 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  return await sendToChannel(input);
}
