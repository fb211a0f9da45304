// A tool that changed the world is never run twice: the worker is SIGKILLed after the agent's
// `message` tool posted to the owner's family chat and before the model's next answer. Real
// processes: `switchyard worker` is spawned and killed by PID; the gateway (in this process)
// holds the OpenAI-compatible API and its exactly-once send worker; the family chat is a
// recording channel behind the real send activity and outbox; the model is a local server
// speaking OpenAI's streaming protocol, with tool calls.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { wireModelYaml } from '../../bench/fake-model.js';
import { sessionHistory } from '../../client/sessions.js';
import { loadConfig } from '../../config/load.js';
import { buildGateway, type Gateway } from '../../gateway/server.js';
import { dataConverterOf } from '../../temporal/data-converter.js';
import { scheduledByType, startedAttempts } from '../agent/harness.js';
import { startWireServer, type WireReply } from '../agent/wire-servers.js';
import { openaiSessionKey, uniqueTaskQueue } from '../helpers/config.js';
import { freePort } from '../helpers/ports.js';
import { type Spawned, spawnSwitchyard } from '../helpers/processes.js';
import { startRecordingChannel } from '../helpers/recording-channel.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const TOKEN = 'tool-crash-test-token-0123456789';
const USER = `tool-crash-${Date.now()}`;
const FAMILY_CHAT = 'family-group';
const NOTE = 'Dinner moves to 8 pm tonight.';
const ANSWER = 'Done: I told the family that dinner moves to 8.';

interface ChatRequest {
  messages: Array<{ role: string; content?: unknown }>;
  tools?: Array<{ function: { name: string } }>;
}

/**
 * The model at the wire (OpenAI chat-completions SSE): a request without a tool result is
 * answered with one `message` tool call; the first request that carries the tool result is
 * held unanswered (the test kills the worker that sent it); later ones get the final text.
 */
async function startToolModel(toolArgs: Record<string, string>) {
  let heldArrived!: () => void;
  const held = new Promise<void>((resolve) => {
    heldArrived = resolve;
  });
  let afterTool = 0;
  const wire = await startWireServer('openai', (request): WireReply => {
    const body = request.body as unknown as ChatRequest;
    if (!body.messages.some((m) => m.role === 'tool')) {
      return { toolCalls: [{ id: 'call_family', name: 'message', arguments: toolArgs }] };
    }
    if (afterTool++ === 0) {
      heldArrived(); // never answered: the worker waiting for it dies
      return { hold: true };
    }
    return { text: ANSWER, chunk: ANSWER.length };
  });
  return {
    url: wire.url,
    /** The chat-completions requests, in order. */
    get requests() {
      return wire.requests.map((r) => r.body as unknown as ChatRequest);
    },
    /** Resolves when the model call after the tool is in flight. */
    held,
    close: () => wire.close(),
  };
}

/** The history events of the activities of one type: when each was scheduled and completed. */
function activityEvents(events: HistoryEvent[], activityType: string) {
  const scheduled = events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
  );
  const ids = new Set(scheduled.map((e) => String(e.eventId)));
  const completed = events.filter((e) =>
    ids.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)),
  );
  return { scheduled, completed };
}

/** Awaits `promise`, failing with `what` and the state of the run when it takes longer than `ms`. */
async function within<T>(what: string, ms: number, promise: Promise<T>, state: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s\n${state()}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a worker SIGKILLed after a tool with a side effect completed', () => {
  const address = inject('temporalAddress');
  const taskQueue = uniqueTaskQueue('tool-crash');
  const workers: Spawned[] = [];
  let model: Awaited<ReturnType<typeof startToolModel>>;
  let family: Awaited<ReturnType<typeof startRecordingChannel>>;
  let gateway: Gateway;
  let env: NodeJS.ProcessEnv;
  let base: string;

  beforeAll(async () => {
    // The owner's family chat: a channel of its own, served by the real exactly-once send
    // activity; what its platform received is `family.sent`.
    const home = mkdtempSync(join(tmpdir(), 'switchyard-e2e-tool-crash-'));
    // It decrypts what the worker (sharing this data dir's key) asks it to send.
    const codec = dataConverterOf(loadConfig({ home, env: {} }));
    family = await startRecordingChannel(address, taskQueue, undefined, codec);
    model = await startToolModel({ channel: family.channel, chat: FAMILY_CHAT, text: NOTE });
    writeFileSync(
      join(home, 'switchyard.yaml'),
      wireModelYaml(model.url, [
        'channels:',
        // The `message` tool may write to the chats the owner allows by id.
        `  ${family.channel}:`,
        `    allowFrom: ["${FAMILY_CHAT}"]`,
      ]),
    );
    const port = await freePort();
    env = {
      SWITCHYARD_HOME: home,
      TEMPORAL_ADDRESS: address,
      SWITCHYARD_TASK_QUEUE: taskQueue,
      SWITCHYARD_GATEWAY_TOKEN: TOKEN,
      SWITCHYARD_GATEWAY_PORT: String(port),
    };
    gateway = await buildGateway({
      config: loadConfig({ home, env }),
      token: TOKEN,
      logger: false,
      watchPipelines: false,
    });
    base = await gateway.app.listen({ host: '127.0.0.1', port });
    await gateway.channels.workersReady;
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await gateway?.close();
    await family?.close();
    await model?.close();
  });

  it('does not run the tool again: one family message, the turn completes, one reply', async () => {
    const state = () =>
      [
        `model requests: ${model.requests.length}; family chat got: ${JSON.stringify(family.sent)}`,
        ...workers.map((w, i) => `worker ${i + 1} output:\n${w.output().split('\n').slice(-15).join('\n')}`),
      ].join('\n');
    const first = spawnSwitchyard(['worker'], env);
    workers.push(first);
    await first.waitFor(/worker ready/);

    const response = fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'main',
        user: USER,
        messages: [{ role: 'user', content: 'Tell the family dinner moves to 8.' }],
      }),
    });

    // The model call after the tool is on the wire, unanswered, and the tool's completion is in
    // the turn's history: the side effect is done, the next answer not. Kill exactly there.
    await within('the model call after the tool', 60_000, model.held, state);
    const sessionKey = openaiSessionKey(USER);
    const turnId = (await sessionHistory(gateway.client, sessionKey)).running?.workflowId;
    expect(turnId).toMatch(/^turn:/);
    // The default pipeline's turn runs inside the session workflow: its activities are there.
    const session = gateway.client.workflow.getHandle(`session:${sessionKey}`);
    const toolCalls = async () =>
      activityEvents((await session.fetchHistory()).events ?? [], 'agentToolCall');
    await expect.poll(async () => (await toolCalls()).completed.length, { timeout: 10_000 }).toBe(1);
    expect(family.sent).toEqual([{ chatId: FAMILY_CHAT, text: NOTE }]);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const second = spawnSwitchyard(['worker'], env);
    workers.push(second);
    await second.waitFor(/worker ready/);

    // The turn completes on the new worker (once the killed model call's heartbeat times out,
    // 15 s) and the answer reaches the conversation.
    const res = await within('the reply after the restart', 75_000, response, state);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]!.message.content).toBe(ANSWER);
    await expect
      .poll(async () => (await sessionHistory(gateway.client, sessionKey)).turns.map((t) => t.status), {
        timeout: 10_000,
      })
      .toEqual(['completed']);

    // The side effect happened exactly once: the family chat got one message.
    expect(family.sent).toEqual([{ chatId: FAMILY_CHAT, text: NOTE }]);
    // The tool ran once, in its first attempt; only the interrupted model call was retried.
    const events = (await session.fetchHistory()).events ?? [];
    expect(scheduledByType(events)).toMatchObject({ agentModelCall: 2, agentToolCall: 1 });
    expect(startedAttempts(events, 'agentToolCall')).toEqual([1]);
    expect(startedAttempts(events, 'agentModelCall')).toEqual([1, 2]);
    // The new worker's model call read the tool's recorded result: the model saw the first
    // call, the held one, and its retry.
    expect(model.requests.map((r) => r.messages.filter((m) => m.role === 'tool').length)).toEqual([0, 1, 1]);
    expect(model.requests[0]!.tools?.map((t) => t.function.name)).toContain('message');
    expect(JSON.stringify(model.requests[2]!.messages.find((m) => m.role === 'tool')?.content)).toContain(
      `Sent to ${family.channel} chat ${FAMILY_CHAT}`,
    );
    // One `message` send for the tool call's idempotency key (`<turn id>/tool-<n>/<call id>`). A
    // tool re-run from scratch (its recorded result discarded) would start a second run here, even
    // though the outbox, keyed the same way, would still keep the family chat from getting the
    // message twice.
    const sends = [];
    const query = `WorkflowId = 'message:${turnId}/tool-1/call_family'`;
    for await (const run of gateway.client.workflow.list({ query })) sends.push(run.status.name);
    expect(sends).toEqual(['COMPLETED']);

    // The answer came back as the result of the session's `session.turn` update: nothing went
    // through the channel's send for this chat.
    const replies = gateway.db
      .prepare("SELECT key, state FROM outbox WHERE channel = 'openai' AND chat_id = ?")
      .all(USER) as Array<{ key: string; state: string }>;
    expect(replies).toEqual([]);
    await expect
      .poll(
        async () =>
          (await sessionHistory(gateway.client, sessionKey)).transcript.map((e) => `${e.role}: ${e.text}`),
        { timeout: 10_000 },
      )
      .toEqual(['user: Tell the family dinner moves to 8.', `assistant: ${ANSWER}`]);
  }, 180_000);
});
