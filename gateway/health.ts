import type { Connection } from '@temporalio/client';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type ConnectorStatus, connectorProblem } from '../channels/status.js';

export interface HealthOptions {
  connection: Connection;
  address: string;
  namespace: string;
  taskQueue: string;
  startedAt: number;
  /** The connector accounts' live states (gateway/channels builds the board). */
  connectors?: () => ConnectorStatus[];
  /** Reply chunks whose send had an unknown outcome: left unsent, and sent again by onUncertain. */
  uncertainSends?: () => { uncertain: number; resent: number };
}

export interface Readiness {
  ok: boolean;
  temporal: { ok: boolean; address: string; namespace: string; error?: string };
  workers: number | null;
  uptimeMs: number;
  /** Every chat-platform account this gateway runs, with its real state. */
  channels: ConnectorStatus[];
  /** Sentences saying which account needs attention and why (logged out, refused, stuck reconnecting). */
  problems: string[];
}

const connectorStatusSchema = {
  type: 'object',
  properties: {
    channel: { type: 'string' },
    accountId: { type: 'string' },
    state: { type: 'string' },
    since: { type: 'integer' },
    attempt: { type: 'integer' },
    lastError: { type: 'string' },
    action: { type: 'string' },
    mode: { type: 'string' },
    lastConnectedAt: { type: 'integer' },
    lastInboundAt: { type: 'integer' },
  },
} as const;

const readinessSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    temporal: {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        address: { type: 'string' },
        namespace: { type: 'string' },
        error: { type: 'string' },
      },
    },
    workers: { type: ['integer', 'null'] },
    uptimeMs: { type: 'integer' },
    channels: { type: 'array', items: connectorStatusSchema },
    problems: { type: 'array', items: { type: 'string' } },
  },
} as const;

/**
 * /healthz (/health): the gateway process is alive. /readyz (/ready): it can reach Temporal;
 * `workers` counts pollers on the task queue so an operator sees a missing worker at a glance,
 * and `channels` / `problems` say what each chat connection is really doing.
 *
 * A connector in trouble (logged out, refused, reconnecting for more than 30 s) is listed in
 * `problems` but does NOT make /readyz 503 by default: readiness says whether the gateway can take
 * work, and taking it out of rotation would also cut off the channels that do work (web chat,
 * webhooks) while fixing nothing. Monitors that only read status codes ask `/readyz?strict`,
 * which answers 503 while any problem is listed.
 */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const { startedAt } = options;
  const live = async () => ({ ok: true, uptimeMs: Date.now() - startedAt });
  for (const url of ['/healthz', '/health']) app.get(url, live);

  const ready = async (request: FastifyRequest, reply: FastifyReply) => {
    const readiness = await checkReadiness(options);
    const strict = Object.hasOwn((request.query as object | undefined) ?? {}, 'strict');
    const ok = readiness.ok && (!strict || readiness.problems.length === 0);
    return reply.code(ok ? 200 : 503).send(readiness);
  };
  for (const url of ['/readyz', '/ready']) {
    app.get(url, { schema: { response: { 200: readinessSchema, 503: readinessSchema } } }, ready);
  }
};

export async function checkReadiness(options: HealthOptions): Promise<Readiness> {
  const { connection, address, namespace, taskQueue, startedAt } = options;
  const base = { address, namespace };
  const channels = options.connectors?.() ?? [];
  const now = Date.now();
  const problems = channels.flatMap((s) => connectorProblem(s, now) ?? []);
  try {
    await connection.withDeadline(Date.now() + 1_500, () => connection.healthService.check({}));
  } catch (err) {
    return {
      ok: false,
      temporal: { ...base, ok: false, error: `Temporal is not reachable: ${firstLine(err)}` },
      workers: null,
      uptimeMs: Date.now() - startedAt,
      channels,
      problems,
    };
  }
  const workers = await connection
    .withDeadline(Date.now() + 1_500, () =>
      connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: 1, // WORKFLOW
      }),
    )
    .then((res) => res.pollers?.length ?? 0)
    .catch(() => null);
  return {
    ok: true,
    temporal: { ...base, ok: true },
    workers,
    uptimeMs: Date.now() - startedAt,
    channels,
    problems,
  };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
