// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { afterAll, beforeAll, inject } from 'vitest';
import type { InboundMessage } from '../../channels/envelope.js';
import { buildSessionKey } from '../../channels/session-key.js';
import { registerSessionsCommands } from '../../cli/commands/sessions.js';
import { ingestMessage } from '../../client/ingest.js';
import { sessionHistory } from '../../client/sessions.js';
import { compilePipeline, formatErrors } from '../../engine/index.js';
import type { CompiledPipeline } from '../../engine/ir.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { type RunningWorker, startWorker } from '../../worker/worker.js';
import type { QueueMode, SessionHistory, SessionOptions } from '../../workflows/session/session-api.js';
import { runCli } from '../helpers/cli.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';

/** A turn that takes `pause`, then answers "echo: <text>" and how many messages it answered. */
export function echoPipeline(pause: string): CompiledPipeline {
  const source = [
    'name: session-echo',
    'inputs:',
    '  text:',
    '    type: string',
    '  batch:',
    '    type: array',
    'outputs:',
    '  reply:',
    '    value: "echo: ${{ inputs.text }}"',
    '  count:',
    '    value: ${{ size(inputs.batch) }}',
    'steps:',
    '  - id: pause',
    `    wait: ${pause}`,
    '',
  ].join('\n');
  return compiled(source, 'test/session/session-echo.yaml');
}

/** A pipeline compiled from its YAML lines; a compile error fails the test with its messages. */
export function compiled(source: string | string[], file: string): CompiledPipeline {
  const result = compilePipeline(Array.isArray(source) ? source.join('\n') : source, file);
  if (!result.ok) throw new Error(formatErrors(result.errors));
  return result.pipeline;
}

/** A message from one fresh chat per test, so sessions never mix. */
export function chat() {
  const chatId = randomUUID().slice(0, 8);
  const sessionKey = buildSessionKey({
    agentId: 'main',
    channel: 'telegram',
    peer: { kind: 'direct', id: chatId },
    dmScope: 'per-channel-peer',
  });
  let update = 0;
  const message = (messageId: string, text: string): InboundMessage => ({
    channel: 'telegram',
    accountId: 'default',
    chat: { id: chatId, kind: 'direct' },
    sender: { id: chatId, name: 'Alice' },
    messageId,
    text,
    attachments: [],
    mentions: [],
    wasMentioned: false,
    timestamp: 1_767_225_600_000 + Number(messageId),
    platformId: `update:${++update}`,
  });
  return { chatId, sessionKey, message };
}

/**
 * A real worker on its own task queue, and a client, for the tests of one file. `yaml`: the
 * worker's switchyard.yaml (e.g. a provider for agent steps).
 */
export function sessionHarness(name: string, options: { yaml?: () => string } = {}) {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue(name);
  const h = {
    taskQueue,
    client: undefined as unknown as Client,
    worker: undefined as unknown as RunningWorker,
    /** The worker's data converter (its payload codec), for channel workers serving its turns. */
    dataConverter: undefined as unknown as DataConverter,
    /** Decrypts a payload from a history (the worker's payload codec) and parses its JSON. */
    async decode(payload: Payload): Promise<unknown> {
      const codec = h.dataConverter.payloadCodecs?.[0];
      const [clear] = codec ? await codec.decode([payload]) : [payload];
      return JSON.parse(Buffer.from(clear?.data ?? []).toString('utf8'));
    },
    ingest(
      message: InboundMessage,
      sessionKey: string,
      pipeline: CompiledPipeline,
      extra: { queueMode?: QueueMode; sessionOptions?: SessionOptions; replyVia?: 'answer' } = {},
    ) {
      return ingestMessage(h.client, {
        message,
        route: { agentId: 'main', pipeline: pipeline.name, sessionKey },
        ir: pipeline.ir,
        hash: pipeline.hash,
        taskQueue,
        ...extra,
      });
    },
    history(sessionKey: string) {
      return sessionHistory(h.client, sessionKey);
    },
    /** Polls the history query until `done` holds (the session works asynchronously). */
    async historyWhen(
      sessionKey: string,
      done: (history: SessionHistory) => boolean,
      timeoutMs = 45_000,
    ): Promise<SessionHistory> {
      const deadline = Date.now() + timeoutMs;
      let last: SessionHistory | undefined;
      while (Date.now() < deadline) {
        last = await h.history(sessionKey);
        if (done(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `session ${sessionKey} never got there; last history: ${JSON.stringify(last, null, 2)}`,
      );
    },
  };
  let connection: Connection;
  beforeAll(async () => {
    const config = testConfig(address, {}, options.yaml?.());
    h.worker = await startWorker({ config, taskQueue });
    connection = await Connection.connect({ address });
    h.dataConverter = dataConverterOf(config);
    h.client = new Client({ connection, dataConverter: h.dataConverter });
  });
  afterAll(async () => {
    await connection?.close();
    await h.worker?.shutdown();
  });
  return h;
}

/** No turn running and nothing waiting. */
export const idle = (h: SessionHistory) => h.running === null && h.pending.length === 0;

/**
 * Runs `switchyard sessions …` against the harness's client and worker task queue (as the CLI
 * has its config's) and captures what it prints.
 */
export function runSessionsCli(h: { client: Client; taskQueue: string }, ...args: string[]) {
  const { client, taskQueue } = h;
  return runCli(
    (program) =>
      registerSessionsCommands(program, {
        connect: async () => ({ client, taskQueue, close: async () => {} }),
      }),
    ...args,
  );
}
