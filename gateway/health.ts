import type { Connection } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';

export interface HealthOptions {
  connection: Connection;
  address: string;
  namespace: string;
  taskQueue: string;
  startedAt: number;
}

export interface Readiness {
  ok: boolean;
  temporal: { ok: boolean; address: string; namespace: string; error?: string };
  workers: number | null;
  uptimeMs: number;
}

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
  },
} as const;

/**
 * /healthz (/health): the gateway process is alive. /readyz (/ready): it can reach Temporal;
 * `workers` counts pollers on the task queue so an operator sees a missing worker at a glance.
 */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const { startedAt } = options;
  const live = async () => ({ ok: true, uptimeMs: Date.now() - startedAt });
  for (const url of ['/healthz', '/health']) app.get(url, live);

  const ready = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const readiness = await checkReadiness(options);
    return reply.code(readiness.ok ? 200 : 503).send(readiness);
  };
  for (const url of ['/readyz', '/ready']) {
    app.get(url, { schema: { response: { 200: readinessSchema, 503: readinessSchema } } }, ready);
  }
};

export async function checkReadiness(options: HealthOptions): Promise<Readiness> {
  const { connection, address, namespace, taskQueue, startedAt } = options;
  const base = { address, namespace };
  try {
    await connection.withDeadline(Date.now() + 1_500, () => connection.healthService.check({}));
  } catch (err) {
    return {
      ok: false,
      temporal: { ...base, ok: false, error: `Temporal is not reachable: ${firstLine(err)}` },
      workers: null,
      uptimeMs: Date.now() - startedAt,
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
  return { ok: true, temporal: { ...base, ok: true }, workers, uptimeMs: Date.now() - startedAt };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
