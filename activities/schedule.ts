/**
 * Side effects of scheduled runs (workflows/schedule/schedule.ts): load the current compiled pipeline by
 * name, read HEARTBEAT.md, POST a webhook, hand a message to a session. Delivery to chats is not
 * here: it is the connector's `sendToChannel` on `<taskQueue>.channel.<id>`.
 */

import { readFile } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { directMessage } from '../channels/direct-message.js';
import type { InboundMessage } from '../channels/envelope.js';
import { Failures } from '../engine/failures.js';
import type { PipelineIR } from '../engine/ir.js';
import { CRON_CHANNEL } from '../workflows/channel/channel-api.js';
import type {
  LoadedPipeline,
  ScheduleActivities,
  SessionInjection,
  WebhookRequest,
} from '../workflows/schedule/schedule-api.js';

/** What the session hand-off needs: a routed message with its compiled pipeline (client/ingest.ts). */
export interface SessionIngestRequest {
  sessionKey: string;
  agentId: string;
  pipeline: string;
  message: InboundMessage;
  ir: PipelineIR;
  hash: string;
  env?: Record<string, string>;
}

export interface ScheduleActivityDeps {
  /** The live pipeline library (`PipelineLibrary.get` of client/pipelines.ts fits). */
  getPipeline: (name: string) => { name: string; ir: PipelineIR; hash: string } | undefined;
  /** Signal-with-start of the session workflow (`ingestMessage` of client/ingest.ts fits). */
  ingest?: (request: SessionIngestRequest) => Promise<{ workflowId: string }>;
  /** Pipeline that answers in a session when the agent names none. Default `default`. */
  sessionPipeline?: (agentId: string) => string;
  /** Where `env:` values of pipelines come from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export function createScheduleActivities(deps: ScheduleActivityDeps): ScheduleActivities {
  const env = deps.env ?? process.env;
  const doFetch = deps.fetch ?? fetch;

  const load = (name: string): LoadedPipeline => {
    const pipeline = deps.getPipeline(name);
    if (!pipeline) {
      throw ApplicationFailure.nonRetryable(
        `no pipeline named '${name}' is loaded (or its file does not compile): check \`switchyard pipelines validate\``,
        Failures.PipelineNotFound,
      );
    }
    const values = Object.fromEntries(
      pipeline.ir.env.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key] as string]])),
    );
    return {
      name: pipeline.name,
      ir: pipeline.ir,
      hash: pipeline.hash,
      ...(Object.keys(values).length > 0 ? { env: values } : {}),
    };
  };

  return {
    async cronLoadPipeline(name: string) {
      return load(name);
    },

    async cronReadHeartbeat(file: string) {
      try {
        return { exists: true, text: await readFile(file, 'utf8') };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, text: '' };
        throw error;
      }
    },

    async cronPostWebhook(request: WebhookRequest) {
      const res = await doFetch(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': request.idempotencyKey },
        body: JSON.stringify(request.body),
        signal: Context.current().cancellationSignal,
      });
      if (res.ok) return { status: res.status };
      const detail = `webhook ${request.url} answered ${res.status} ${res.statusText}`;
      // 4xx (except 408/429) will not get better by retrying.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        throw ApplicationFailure.nonRetryable(detail, Failures.WebhookRejected);
      }
      throw ApplicationFailure.retryable(detail, Failures.WebhookUnavailable);
    },

    async cronInjectIntoSession(injection: SessionInjection) {
      if (!deps.ingest) {
        throw ApplicationFailure.nonRetryable(
          'this worker has no session hand-off wired (ScheduleActivityDeps.ingest): systemEvent and ' +
            'main-session tasks cannot run here',
          Failures.SessionsUnavailable,
        );
      }
      const pipelineName = injection.pipeline ?? deps.sessionPipeline?.(injection.agentId) ?? 'default';
      const pipeline = load(pipelineName);
      const message = directMessage({
        channel: CRON_CHANNEL,
        accountId: 'default',
        chatId: `cron:${injection.sessionKey}`,
        sender: { id: 'system', name: 'scheduled task' },
        messageId: injection.messageId,
        platformId: injection.messageId,
        text: injection.text,
      });
      return deps.ingest({
        sessionKey: injection.sessionKey,
        agentId: injection.agentId,
        pipeline: pipeline.name,
        message,
        ir: pipeline.ir,
        hash: pipeline.hash,
        ...(pipeline.env ? { env: pipeline.env } : {}),
      });
    },
  };
}
