import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsync } from 'fastify';
import type { EchoInput, EchoResult } from '../activities/echo.js';
import { requireToken } from './auth.js';

export interface EchoOptions {
  client: Client;
  taskQueue: string;
  token: string;
}

const bodySchema = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: {
    text: { type: 'string', maxLength: 100_000 },
    delayMs: { type: 'integer', minimum: 0, maximum: 60_000 },
  },
} as const;

/** POST /v1/echo: runs the echo workflow on a worker and answers with what came back. */
export const echoPlugin: FastifyPluginAsync<EchoOptions> = async (app, { client, taskQueue, token }) => {
  app.post<{ Body: EchoInput }>(
    '/v1/echo',
    { schema: { body: bodySchema }, preHandler: requireToken(token) },
    async (req) => {
      const workflowId = `echo:${randomUUID()}`;
      const handle = await client.workflow.start('echoWorkflow', {
        taskQueue,
        workflowId,
        args: [req.body],
        workflowExecutionTimeout: '5 minutes',
      });
      const result: EchoResult = await handle.result();
      return { ...result, workflowId, runId: handle.firstExecutionRunId };
    },
  );
};
