/**
 * One run of a proactive task, started by its Temporal Schedule (`cron:<taskId>`): run the
 * payload through the same machinery as a chat message, then deliver the result exactly once.
 * A failure is reported at the failure destination and then fails the run, so the Schedule sees
 * it (`pauseOnFailure`) and `switchyard cron runs` shows it.
 */

import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  type Workflow,
  workflowInfo,
} from '@temporalio/workflow';
import type { SendToChannelInput, SendToChannelResult } from '../../activities/channel-send.js';
import { directMessage } from '../../channels/direct-message.js';
import type { InboundMessage } from '../../channels/envelope.js';
import type { CronDestination, CronTask } from '../../config/cron-task.js';
import { Failures } from '../../engine/failures.js';
import type { ThinkingLevel } from '../agent/agent-api.js';
import { runAgentTurn } from '../agent/index.js';
import { CRON_CHANNEL, channelTaskQueue, SEND_HEARTBEAT_TIMEOUT_MS } from '../channel/channel-api.js';
import type { PipelineOutputs, PipelineRunInput } from '../pipeline/pipeline-api.js';
import {
  type DeliveryOutcome,
  isEffectivelyEmpty,
  isHeartbeatAck,
  type LoadedPipeline,
  type ScheduleActivities,
  type ScheduledTaskInput,
  type ScheduledTaskResult,
} from './schedule-api.js';

const cron = proxyActivities<ScheduleActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

/** The connector's channel-send activity, on its own task queue (served by the gateway). */
function channelSend(channel: string) {
  return proxyActivities<{ sendToChannel(input: SendToChannelInput): Promise<SendToChannelResult> }>({
    taskQueue: channelTaskQueue(workflowInfo().taskQueue, channel),
    startToCloseTimeout: '1m',
    heartbeatTimeout: SEND_HEARTBEAT_TIMEOUT_MS,
    // A gateway that is down holds the send in its queue; after 10 minutes the run reports failure.
    scheduleToCloseTimeout: '10m',
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  }).sendToChannel;
}

/** An agent turn cut off by `timeoutSeconds`: a failure of the run, not a cancellation of it. */
class TimeoutCancelled extends Error {}

interface Produced {
  text?: string;
  skipped?: string;
  ranIn?: ScheduledTaskResult['ranIn'];
}

export async function scheduledTaskWorkflow(input: ScheduledTaskInput): Promise<ScheduledTaskResult> {
  const { task } = input;
  const { workflowId } = workflowInfo();
  let produced: Produced;
  try {
    produced = await runPayload(input, workflowId);
  } catch (error) {
    // Cancelled (overlap cancelOther/terminateOther, or by hand): not a failure to report.
    if (isCancellation(error)) throw error;
    throw await failed(task, workflowId, `the ${task.payload.kind} payload failed: ${reasonOf(error)}`);
  }
  const base = { taskId: task.id, payload: task.payload.kind, ranIn: produced.ranIn };
  const text = produced.text === undefined ? undefined : clip(produced.text, 2000);
  if (produced.skipped) {
    return {
      ...base,
      status: 'skipped',
      reason: produced.skipped,
      text,
      delivery: { mode: 'none', delivered: false },
    };
  }
  let delivery: DeliveryOutcome = { mode: 'none', delivered: false };
  const mode = task.delivery?.mode ?? 'none';
  if (mode !== 'none' && task.delivery) {
    const target = describeTarget({ ...task.delivery, mode });
    if (!produced.text?.trim()) {
      delivery = { mode, delivered: false, target, reason: 'the run produced no text' };
    } else if (input.heartbeat && isHeartbeatAck(produced.text, input.heartbeat.ackMaxChars)) {
      delivery = { mode, delivered: false, target, reason: 'HEARTBEAT_OK: nothing to report' };
    } else {
      try {
        const sent = await deliver({ ...task.delivery, mode }, produced.text, `${workflowId}:announce`, task);
        delivery = { mode, delivered: true, target, ...(sent ? { messageIds: sent } : {}) };
      } catch (error) {
        // Only an explicit failure destination: the delivery target itself just failed.
        throw await failed(task, workflowId, `delivery to ${target} failed: ${reasonOf(error)}`, false);
      }
    }
  }
  return { ...base, status: 'ok', text, delivery };
}

async function runPayload(input: ScheduledTaskInput, workflowId: string): Promise<Produced> {
  const { task } = input;
  const { payload } = task;
  const target = task.sessionTarget ?? 'isolated';
  const agentId = task.agentId ?? 'main';

  let message: string;
  if (payload.kind === 'systemEvent') message = payload.text;
  else if (payload.kind === 'agentTurn') message = payload.message;
  else message = task.name ?? task.id;

  if (input.heartbeat) {
    const file = await cron.cronReadHeartbeat(input.heartbeat.file);
    if (!file.exists || isEffectivelyEmpty(file.text)) {
      return {
        skipped: `${input.heartbeat.file} is ${file.exists ? 'empty' : 'missing'}: no heartbeat turn`,
      };
    }
    message = `${input.heartbeat.prompt}\n\n${file.text.trim()}`;
  }

  if (payload.kind !== 'pipeline' && target !== 'isolated') {
    // Into a running conversation: the session answers there, in its own turn.
    const sessionKey = target === 'main' ? `agent:${agentId}:main` : target;
    const injected = await cron.cronInjectIntoSession({
      sessionKey,
      agentId,
      text: message,
      messageId: workflowId,
    });
    return { text: message, ranIn: { workflowId: injected.workflowId } };
  }

  if (payload.kind === 'agentTurn' && !input.agentPipeline) {
    // An isolated agent turn, inside this run (each model and tool call is its own activity).
    const turn = () =>
      runAgentTurn(
        {
          agent: agentId,
          prompt: message,
          ...(payload.model ? { model: payload.model } : {}),
          ...(payload.thinking ? { thinking: payload.thinking as ThinkingLevel } : {}),
        },
        { runKey: `cron:${task.id}:${workflowId}` },
      );
    const result = payload.timeoutSeconds
      ? await CancellationScope.withTimeout(payload.timeoutSeconds * 1000, turn).catch((error: unknown) => {
          if (isCancellation(error) && !CancellationScope.current().consideredCancelled) {
            throw new TimeoutCancelled(
              `the agent turn took longer than timeoutSeconds (${payload.timeoutSeconds})`,
            );
          }
          throw error;
        })
      : await turn();
    return { text: result.text, ranIn: { workflowId } };
  }

  const pipelineName = payload.kind === 'pipeline' ? payload.name : input.agentPipeline!;
  const pipeline = await cron.cronLoadPipeline(pipelineName);
  const childId = `${runName()}/run`;
  const outputs = await executeChild<Workflow & ((i: PipelineRunInput) => Promise<PipelineOutputs>)>(
    'pipelineWorkflow',
    {
      workflowId: childId,
      args: [runInput(task, pipeline, message, workflowId)],
      ...(payload.kind === 'agentTurn' && payload.timeoutSeconds
        ? { workflowExecutionTimeout: payload.timeoutSeconds * 1000 }
        : {}),
    },
  );
  return {
    text: textOf(outputs),
    ranIn: { workflowId: childId, pipeline: pipeline.name, pipelineHash: pipeline.hash },
  };
}

function runInput(
  task: CronTask,
  pipeline: LoadedPipeline,
  text: string,
  workflowId: string,
): PipelineRunInput {
  const { payload } = task;
  let inputs: Record<string, unknown>;
  if (payload.kind === 'pipeline') {
    inputs = payload.inputs ?? {};
  } else {
    // Offer what a turn knows; pass only what the pipeline declares (a run rejects the rest).
    const offered: Record<string, unknown> = {
      agent: task.agentId ?? 'main',
      text,
      session: `cron:${task.id}`,
      ...(payload.kind === 'agentTurn' && payload.model ? { model: payload.model } : {}),
      ...(payload.kind === 'agentTurn' && payload.thinking ? { thinking: payload.thinking } : {}),
    };
    const declared = pipeline.ir.inputs.properties;
    inputs = Object.fromEntries(Object.entries(offered).filter(([name]) => name in declared));
  }
  // Pipelines read `message`; a scheduled run's message comes from the `cron` pseudo-channel.
  // `id` too: pipelines written against the engine's message type read `message.id`.
  const message: InboundMessage & { id: string } = {
    id: workflowId,
    ...directMessage({
      channel: CRON_CHANNEL,
      accountId: 'default',
      chatId: `cron:${task.id}`,
      sender: { id: CRON_CHANNEL, name: task.name ?? task.id },
      messageId: workflowId,
      platformId: workflowId,
      text,
    }),
  };
  return {
    ir: pipeline.ir,
    hash: pipeline.hash,
    inputs,
    message,
    ...(pipeline.env ? { env: pipeline.env } : {}),
  };
}

/**
 * `cron:<task>-<scheduled time>` — the run's workflow id, rebuilt from the search attributes
 * Temporal sets on schedule-started runs, which are in the history: a replay under any
 * workflow id (test/replay uses the file name) issues the same child workflow id.
 */
function runName(): string {
  const info = workflowInfo();
  const pairs = info.typedSearchAttributes.getAll();
  const by = pairs.find((p) => p.key.name === 'TemporalScheduledById')?.value;
  const at = pairs.find((p) => p.key.name === 'TemporalScheduledStartTime')?.value;
  if (typeof by !== 'string' || !(at instanceof Date)) return info.workflowId;
  return `${by}-${at.toISOString().replace('.000Z', 'Z')}`;
}

/** The reply a pipeline produced: its `reply` output, else `text`, else the outputs as JSON. */
function textOf(outputs: PipelineOutputs): string | undefined {
  for (const key of ['reply', 'text']) {
    const value = outputs[key];
    if (typeof value === 'string') return value;
  }
  return Object.keys(outputs).length > 0 ? JSON.stringify(outputs) : undefined;
}

async function deliver(
  to: CronDestination & { mode: 'announce' | 'webhook' },
  text: string,
  idempotencyKey: string,
  task: CronTask,
): Promise<string[] | undefined> {
  if (to.mode === 'webhook') {
    const { workflowId, runId } = workflowInfo();
    await cron.cronPostWebhook({
      url: to.url!,
      idempotencyKey,
      body: {
        taskId: task.id,
        name: task.name ?? task.id,
        workflowId,
        runId,
        kind: idempotencyKey.split(':').at(-1),
        text,
      },
    });
    return undefined;
  }
  const sent = await channelSend(to.channel!)({
    channel: to.channel!,
    accountId: to.accountId ?? 'default',
    chatId: to.to!,
    text,
    idempotencyKey,
    ...(to.threadId ? { threadId: to.threadId } : {}),
  });
  return sent?.messageIds;
}

/**
 * Reports a failed run at the failure destination (else the delivery target) and returns the
 * error that fails the run. A failing failure notice is logged, never allowed to hide the cause.
 */
async function failed(
  task: CronTask,
  workflowId: string,
  reason: string,
  fallBackToDeliveryTarget = true,
): Promise<ApplicationFailure> {
  const destination = failureDestination(task, fallBackToDeliveryTarget);
  if (destination) {
    const name = task.name ?? task.id;
    try {
      await deliver(
        destination,
        `⚠️ Scheduled task '${name}' failed: ${reason}`,
        `${workflowId}:failure`,
        task,
      );
    } catch (error) {
      log.error('the failure notice could not be delivered', {
        taskId: task.id,
        target: describeTarget(destination),
        error: reasonOf(error),
      });
    }
  }
  return ApplicationFailure.nonRetryable(reason, Failures.ScheduledTaskFailed);
}

function failureDestination(
  task: CronTask,
  fallBack: boolean,
): (CronDestination & { mode: 'announce' | 'webhook' }) | undefined {
  const d = task.delivery;
  if (d?.failureDestination) {
    const fd = d.failureDestination;
    return { ...fd, mode: fd.mode ?? (fd.url ? 'webhook' : 'announce') };
  }
  if (fallBack && d && d.mode !== 'none') return { ...d, mode: d.mode };
  return undefined;
}

function describeTarget(d: CronDestination): string {
  return d.mode === 'webhook' ? `webhook ${d.url}` : `${d.channel}:${d.to}`;
}

/** The innermost useful message of a failure chain (child workflow → activity → application). */
function reasonOf(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  let message = current?.message ?? String(error);
  while (current?.cause) {
    current = current.cause as { message?: string; cause?: unknown };
    if (current.message) message = current.message;
  }
  return message;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
