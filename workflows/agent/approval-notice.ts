/**
 * Tells the person in the chat that a tool call (or a pipeline step) waits for approval: one message into the
 * conversation the turn answers, through the exactly-once channel send (the connector's own
 * queue, idempotency key = workflow id + approval id, so retries and replays post it once).
 * Fire and forget: the wait never depends on it, and a failure to post is only logged.
 */
import {
  ActivityCancellationType,
  isCancellation,
  log,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChannelSendActivities } from '../../activities/channel-send.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { ANSWER_ONLY_CHANNELS, channelTaskQueue, SEND_HEARTBEAT_TIMEOUT_MS } from '../channel/channel-api.js';
import { failureText } from './activity-options.js';
import type { PendingApproval } from './approval-api.js';

/** The chat a turn answers, where the notice goes (passed in by the pipeline's agent.turn step). */
export interface ApprovalNoticeTarget {
  channel: string;
  accountId: string;
  chatId: string;
  threadId?: string;
  /** `/approve <id>` is read in direct chats only (gateway/channels/router.ts); groups are pointed to the CLI. */
  direct: boolean;
}

/** Where a tool call or step waiting for approval is announced: the chat the message came from, if any. */
export function approvalNoticeTarget(message: InboundMessage | undefined): ApprovalNoticeTarget | undefined {
  if (!message?.chat?.id || ANSWER_ONLY_CHANNELS.includes(message.channel)) return undefined;
  return {
    channel: message.channel,
    accountId: message.accountId,
    chatId: message.chat.id,
    ...(message.chat.threadId ? { threadId: message.chat.threadId } : {}),
    direct: message.chat.kind === 'direct',
  };
}

/** Starts the send and returns at once; the approval wait goes on whatever happens to it. */
export function postApprovalNotice(
  target: ApprovalNoticeTarget,
  request: PendingApproval,
  key: string,
): void {
  const { sendToChannel } = proxyActivities<ChannelSendActivities>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, target.channel),
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
    // A notice is useless once the approval has expired.
    scheduleToCloseTimeout: Math.max(1000, request.expiresAt - request.requestedAt),
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    // A cancelled turn does not wait for its notice.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    summary: `approval ${request.id}: notice to ${target.channel} ${target.chatId}`,
  });
  sendToChannel({
    channel: target.channel,
    accountId: target.accountId,
    chatId: target.chatId,
    text: approvalNoticeText(request, target.direct),
    ...(target.threadId ? { threadId: target.threadId } : {}),
    idempotencyKey: `${key}:approval:${request.id}`,
  }).catch((error: unknown) => {
    if (isCancellation(error)) return;
    log.warn('approval notice could not be posted; the approval still waits', {
      approval: request.id,
      tool: request.tool,
      channel: target.channel,
      chat: target.chatId,
      error: failureText(error),
    });
  });
}

export function approvalNoticeText(request: PendingApproval, direct: boolean): string {
  const within = waitText(request.expiresAt - request.requestedAt);
  const head =
    request.step === undefined
      ? `Approval needed: \`${request.tool}\` ${request.args} (id ${request.id}).`
      : `Approval needed: step \`${request.step}\`${request.args === '{}' ? '' : ` ${request.args}`} (id ${request.id}).`;
  return direct
    ? `${head} Reply /approve ${request.id} or /deny ${request.id} within ${within}.`
    : `${head} The owner can answer with \`switchyard approvals approve ${request.id}\` (or deny) within ${within}.`;
}

function waitText(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
