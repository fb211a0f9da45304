/**
 * The gateway's single entry into conversations: a connector hands over an accepted
 * InboundMessage; the router resolves agent, pipeline and session key from the config,
 * takes the pipeline's current compiled version from the library, and signals the session.
 * Anything that prevents that (unknown pipeline, one that does not compile, Temporal down)
 * throws, so the connector does not acknowledge the message and the platform re-delivers it.
 */
import type { Client } from '@temporalio/client';
import type { InboundMessage } from '../../channels/envelope.js';
import { DEFAULT_PIPELINE, defaultAgentId, type Route, resolveRoute } from '../../channels/routing.js';
import { parseSessionKey, sessionWorkflowId } from '../../channels/session-key.js';
import {
  ApprovalError,
  type ListedApproval,
  listApprovals,
  parseApprovalCommand,
  resolveApproval,
} from '../../client/approvals.js';
import { type IngestResult, ingestMessage } from '../../client/ingest.js';
import type { PipelineLibrary } from '../../client/pipelines.js';
import type { Config } from '../../config/config.js';
import { formatErrors } from '../../engine/index.js';
import { OPENAI_CHANNEL } from '../../workflows/channel/channel-api.js';

export type Ingest = (message: InboundMessage) => Promise<IngestResult>;
/**
 * For clients that name the session themselves (OpenClaw's apps send a session key).
 * `replyVia: 'answer'`: the answer comes back in `IngestResult.answer` (client/ingest.ts).
 */
export type IngestToSession = (
  message: InboundMessage,
  sessionKey: string,
  options?: { replyVia?: 'answer' },
) => Promise<IngestResult>;

export class PipelineUnavailableError extends Error {
  constructor(name: string, detail: string) {
    super(`Pipeline "${name}" cannot run: ${detail}`);
    this.name = 'PipelineUnavailableError';
  }
}

export interface Router {
  ingest: Ingest;
  ingestToSession: IngestToSession;
}

export function createRouter(options: {
  client: Client;
  /** The config in effect now: routing follows edits of switchyard.yaml. */
  config: () => Config;
  pipelines: PipelineLibrary;
  taskQueue: string;
}): Router {
  const { client, config, pipelines, taskQueue } = options;
  const deliver = async (
    message: InboundMessage,
    route: Pick<Route, 'agentId' | 'pipeline' | 'sessionKey'>,
    replyVia?: 'answer',
  ) => {
    const compiled = pipelines.get(route.pipeline);
    if (!compiled) {
      const broken = [...pipelines.errors()].find(([file]) => file.endsWith(`/${route.pipeline}.yaml`));
      throw new PipelineUnavailableError(
        route.pipeline,
        broken
          ? `it does not compile:\n${formatErrors(broken[1])}`
          : `no pipelines/${route.pipeline}.yaml (known: ${
              pipelines
                .list()
                .map((p) => p.name)
                .join(', ') || 'none'
            })`,
      );
    }
    return ingestMessage(client, {
      message,
      route,
      ir: compiled.ir,
      hash: compiled.hash,
      taskQueue,
      ...(replyVia ? { replyVia } : {}),
    });
  };
  return {
    async ingest(message) {
      const route = resolveRoute(routingFor(config(), message), message);
      // `/approve <id>` or `/deny <id> [reason]` in a direct chat answers a tool approval pending
      // in this same conversation, instead of starting a turn. Approvals of other conversations
      // are out of reach from here (someone paired for one chat cannot approve another's tools):
      // the owner uses `switchyard approvals` for those.
      const command = message.chat.kind === 'direct' ? parseApprovalCommand(message.text) : undefined;
      if (command) return answerApproval(client, taskQueue, message, route.sessionKey, command);
      // The OpenAI API's answer goes back to the HTTP request that asked: no send activity needed.
      return deliver(message, route, message.channel === OPENAI_CHANNEL ? 'answer' : undefined);
    },
    async ingestToSession(message, sessionKey, options) {
      const { routing } = config();
      const agentId = parseSessionKey(sessionKey)?.agentId ?? defaultAgentId(routing);
      const agent = routing.agents?.find((a) => a.id.toLowerCase() === agentId.toLowerCase());
      const route = { agentId, pipeline: agent?.pipeline ?? DEFAULT_PIPELINE, sessionKey };
      return deliver(message, route, options?.replyVia);
    },
  };
}

/**
 * The OpenAI-compatible API is a door for programs, not the owner's own chat: each API
 * conversation (`user`) gets its own session instead of joining the owner's main one, so
 * concurrent requests are never batched into someone else's turn.
 */
function routingFor(config: Config, message: InboundMessage): Config['routing'] {
  if (message.channel !== OPENAI_CHANNEL) return config.routing;
  return { ...config.routing, session: { ...config.routing.session, dmScope: 'per-account-channel-peer' } };
}

/** Resolves the approval and tells the sender in the same chat, through the exactly-once send. */
async function answerApproval(
  client: Client,
  taskQueue: string,
  message: InboundMessage,
  sessionKey: string,
  command: NonNullable<ReturnType<typeof parseApprovalCommand>>,
): Promise<IngestResult> {
  let text: string;
  // The turn itself, or a pipeline it runs as a tool (a child, whose root is the session).
  const inConversation = (a: ListedApproval) =>
    a.workflowId.startsWith(`turn:${sessionKey}:`) || a.rootWorkflowId === sessionWorkflowId(sessionKey);
  const pending = (await listApprovals(client, { taskQueue })).find(
    (a) => a.id === command.id && inConversation(a),
  );
  if (!pending) {
    text = `No approval ${command.id} is waiting in this conversation.`;
  } else {
    try {
      const resolved = await resolveApproval(
        client,
        pending.workflowId,
        pending.id,
        command.decision,
        command.reason,
      );
      text = `${resolved.status === 'approved' ? 'Approved' : 'Denied'} ${pending.id} (${pending.tool}).`;
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      text = err.message;
    }
  }
  const workflowId = `approval-reply:${message.platformId}`;
  await client.workflow.start('channelMessageWorkflow', {
    taskQueue,
    workflowId,
    args: [
      {
        channel: message.channel,
        accountId: message.accountId,
        chatId: message.chat.id,
        text,
        replyToMessageId: message.messageId,
        idempotencyKey: workflowId,
      },
    ],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return { sessionKey: '', workflowId, runId: '' };
}
