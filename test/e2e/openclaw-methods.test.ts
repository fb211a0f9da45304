// The OpenClaw methods beyond chat.send on the real stack (gateway, worker, dev server, faux
// model): chat.abort of a turn that is really running, sessions.preview/patch/compact/delete,
// models.list, config.get (redacted) and exec.approval.get/resolve of a tool waiting for the
// owner. Every frame the gateway sends is checked against @openclaw/gateway-protocol, results
// with a published schema too.
import { fauxAssistantMessage, fauxToolCall, type ToolResultMessage } from '@mariozechner/pi-ai';
import { GatewayClient } from '@openclaw/gateway-client';
import type { EventFrame } from '@openclaw/gateway-protocol';
import * as schemas from '@openclaw/gateway-protocol/schema';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listApprovals } from '../../client/approvals.js';
import { sessionHistory } from '../../client/sessions.js';
import { messageIdOfRun } from '../../gateway/openclaw/chat.js';
import { turnWorkflowId } from '../../workflows/session/session-api.js';
import { transferTool } from '../helpers/agent-chat.js';
import { testConfig, uniqueTaskQueue } from '../helpers/config.js';
import { type ConversationStack, startConversationStack } from '../helpers/conversation-stack.js';
import { until } from '../helpers/until.js';
import { connectParams, type Loose, RawClient, RecordingProxy, TOKEN } from '../protocol/harness.js';

const ajv = new Ajv({ strict: false, allErrors: true });
const result = {
  modelsList: ajv.compile(schemas.ModelsListResultSchema),
  sessionsDelete: ajv.compile(schemas.SessionsDeleteResultSchema),
  agentsList: ajv.compile(schemas.AgentsListResultSchema),
};
const conforms = (validate: (typeof result)[keyof typeof result], payload: unknown) =>
  expect(validate(payload), ajv.errorsText(validate.errors)).toBe(true);

const ADMIN = ['operator.read', 'operator.write', 'operator.admin'];
const SECRETS = {
  telegramToken: '123456:telegram-secret-token',
  webhookSecret: 'webhook-secret-value',
  header: 'Bearer sk-header-secret-123',
  urlPassword: 'hunter2pass',
};

const answer = (prompt: string) => `Switchyard heard "${prompt}".`;

describe('OpenClaw methods on Switchyard sessions, models, config and approvals', () => {
  const address = inject('temporalAddress');
  const run = Date.now();
  const key = (name: string) => `agent:main:oc-methods-${run}-${name}`;
  const effects: string[] = [];
  let stack: ConversationStack;
  let wsUrl: string;
  const clients: RawClient[] = [];

  /** Needs approval; "sends money" by appending to `effects`. */
  const transfer = transferTool((line) => effects.push(line));

  beforeAll(async () => {
    const config = testConfig(
      address,
      { SWITCHYARD_TASK_QUEUE: uniqueTaskQueue('oc-methods') },
      [
        'gateway:',
        `  token: ${TOKEN}`,
        'agents:',
        '  - id: main',
        '    model:',
        '      primary: local/m',
        '      fallbacks: [anthropic/claude-sonnet-4-5]',
        'providers:',
        '  local:',
        '    type: openai-compatible',
        `    baseUrl: http://switchyard:${SECRETS.urlPassword}@127.0.0.1:9/v1`,
        '    apiKey: { env: LOCAL_MODEL_KEY }',
        `    headers: { Authorization: '${SECRETS.header}' }`,
        '    models: [{ id: m, name: Local M, contextWindow: 16000 }]',
        'channels:',
        '  telegram:',
        '    enabled: false',
        `    botToken: '${SECRETS.telegramToken}'`,
        `    webhookSecret: ${SECRETS.webhookSecret}`,
        '',
      ].join('\n'),
    );
    stack = await startConversationStack(config, TOKEN, answer, { tools: [transfer] });
    wsUrl = stack.base.replace(/^http/, 'ws');
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await stack?.close();
  });

  async function connected(scopes = ['operator.read', 'operator.write']): Promise<RawClient> {
    const client = await RawClient.open(wsUrl);
    clients.push(client);
    await client.challenge();
    const hello = await client.request('c', 'connect', connectParams({ scopes }));
    expect(hello.ok).toBe(true);
    return client;
  }

  let ids = 0;
  const call = (client: RawClient, method: string, params: unknown) =>
    client.request(`${method}-${++ids}`, method, params);

  /** chat.send, then the run's final answer. */
  async function converse(client: RawClient, sessionKey: string, message: string, runId: string) {
    const ack = await call(client, 'chat.send', { sessionKey, message, idempotencyKey: runId });
    expect(ack).toMatchObject({ ok: true, payload: { runId, status: 'started' } });
    return client.next(
      (f) => f.event === 'chat' && f.payload.runId === runId && f.payload.state === 'final',
      30_000,
    );
  }

  /** How the session recorded the run's turn (it runs inside the session workflow). */
  async function turnStatus(sessionKey: string, runId: string): Promise<string | undefined> {
    const turnId = turnWorkflowId(sessionKey, messageIdOfRun(runId));
    const history = await sessionHistory(stack.gateway.client, sessionKey);
    return [...history.turns, ...(history.running ? [history.running] : [])].find(
      (t) => t.workflowId === turnId,
    )?.status;
  }

  it('announces the methods in hello-ok instead of answering UNAVAILABLE', async () => {
    const client = await RawClient.open(wsUrl);
    clients.push(client);
    await client.challenge();
    const hello = await client.request('c', 'connect', connectParams());
    expect(hello.payload.features.methods).toEqual(
      expect.arrayContaining([
        'chat.abort',
        'sessions.preview',
        'sessions.patch',
        'sessions.compact',
        'sessions.delete',
        'models.list',
        'config.get',
        'exec.approval.get',
        'exec.approval.resolve',
      ]),
    );
  });

  it('chat.abort cancels the running turn: aborted, never a final, no answer kept, and the next message is answered', async () => {
    const sessionKey = key('abort');
    const client = await connected();
    const hold = stack.agent.hold();
    try {
      const ack = await call(client, 'chat.send', {
        sessionKey,
        message: 'tell me a very long story',
        idempotencyKey: 'abort-run-1',
      });
      expect(ack.payload).toEqual({ runId: 'abort-run-1', status: 'started' });
      // The model is answering (and will not finish): the turn is really running.
      expect(await hold.waiting).toContain('tell me a very long story');

      const aborted = await call(client, 'chat.abort', { sessionKey, runId: 'abort-run-1' });
      expect(aborted).toMatchObject({
        ok: true,
        payload: { ok: true, aborted: true, runIds: ['abort-run-1'] },
      });
      const event = await client.next((f) => f.event === 'chat' && f.payload.state === 'aborted');
      expect(event.payload).toMatchObject({ runId: 'abort-run-1', sessionKey, stopReason: 'rpc' });
      const end = await client.next(
        (f) => f.event === 'agent' && f.payload.runId === 'abort-run-1' && f.payload.data?.phase === 'end',
      );
      expect(end.payload.data).toMatchObject({ aborted: true });

      // The turn is cancelled in its session: it can send nothing any more.
      await expect.poll(() => turnStatus(sessionKey, 'abort-run-1'), { timeout: 30_000 }).toBe('interrupted');
      await expect
        .poll(
          async () => (await sessionHistory(stack.gateway.client, sessionKey)).turns.map((t) => t.status),
          {
            timeout: 10_000,
          },
        )
        .toEqual(['interrupted']);
    } finally {
      hold.release();
    }

    // The session goes on: the next message is answered as usual.
    const next = await converse(client, sessionKey, 'are you still there?', 'abort-run-2');
    expect(next.payload.message.content[0].text).toBe(answer('are you still there?'));

    // The answer joins the transcript when its turn completes, a moment after the final event.
    const transcript = async () =>
      (await call(client, 'chat.history', { sessionKey })).payload.messages.map((m: Loose) => [
        m.role,
        typeof m.content === 'string' ? m.content : m.content[0].text,
      ]);
    await expect.poll(transcript, { timeout: 10_000 }).toEqual([
      ['user', 'tell me a very long story'],
      ['user', 'are you still there?'],
      ['assistant', answer('are you still there?')],
    ]);
    const finals = client.frames.filter((f) => f.event === 'chat' && f.payload.state === 'final');
    expect(finals.map((f) => f.payload.runId)).toEqual(['abort-run-2']);
    // Nothing went through the channel: the answer came back in the session's update, and the
    // cancelled turn sent nothing (no apology either).
    const sent = stack.gateway.db
      .prepare("SELECT count(*) AS n FROM outbox WHERE channel = 'openclaw' AND chat_id = ?")
      .get(sessionKey) as { n: number };
    expect(sent.n).toBe(0);

    // A finished run, and a session that never existed, have nothing to abort.
    expect((await call(client, 'chat.abort', { sessionKey, runId: 'abort-run-2' })).payload).toEqual({
      ok: true,
      aborted: false,
      runIds: [],
    });
    expect((await call(client, 'chat.abort', { sessionKey: key('never-started') })).payload).toEqual({
      ok: true,
      aborted: false,
      runIds: [],
    });
    expect(client.problems).toEqual([]);
  });

  it('chat.abort from the official GatewayClient stops the whole session', async () => {
    const sessionKey = key('client-abort');
    const proxy = await RecordingProxy.start(wsUrl);
    const events: EventFrame[] = [];
    let gatewayClient: GatewayClient | undefined;
    const hold = stack.agent.hold();
    try {
      gatewayClient = await new Promise<GatewayClient>((resolve, reject) => {
        const c: GatewayClient = new GatewayClient({
          url: proxy.url,
          token: TOKEN,
          clientName: 'cli',
          mode: 'cli',
          scopes: ['operator.read', 'operator.write'],
          deviceIdentity: null,
          onEvent: (evt) => events.push(evt),
          onHelloOk: () => resolve(c),
          onConnectError: (err) => reject(err),
        });
        c.start();
      });
      const sent = await gatewayClient.request<{ runId: string; status: string }>('chat.send', {
        sessionKey,
        message: 'count to a million',
        idempotencyKey: 'client-abort-run',
      });
      expect(sent).toEqual({ runId: 'client-abort-run', status: 'started' });
      await hold.waiting;

      // A run is aborted in its own session only.
      await expect(
        gatewayClient.request('chat.abort', { sessionKey: key('elsewhere'), runId: 'client-abort-run' }),
      ).rejects.toThrow(/runId does not match sessionKey/);

      // No runId: whatever runs (or waits) in the session stops.
      const aborted = await gatewayClient.request('chat.abort', { sessionKey });
      expect(aborted).toEqual({ ok: true, aborted: true, runIds: ['client-abort-run'] });
      await expect
        .poll(
          () => events.find((e) => e.event === 'chat' && (e.payload as Loose).state === 'aborted')?.payload,
        )
        .toMatchObject({ runId: 'client-abort-run', sessionKey });
      await expect
        .poll(() => turnStatus(sessionKey, 'client-abort-run'), { timeout: 30_000 })
        .toBe('interrupted');
      expect(events.some((e) => e.event === 'chat' && (e.payload as Loose).state === 'final')).toBe(false);
      expect(proxy.problems).toEqual([]);
    } finally {
      hold.release();
      await gatewayClient?.stopAndWait();
      await proxy.close();
    }
  });

  it('sessions.delete while a turn runs stops it first: the live run ends aborted, nothing is sent or kept', async () => {
    const sessionKey = key('delete-running');
    const client = await connected(['operator.read', 'operator.write', 'operator.admin']);
    const hold = stack.agent.hold();
    try {
      await call(client, 'chat.send', { sessionKey, message: 'a long job', idempotencyKey: 'delete-run-1' });
      await hold.waiting;
      const deleted = await call(client, 'sessions.delete', { key: sessionKey });
      expect(deleted.payload).toMatchObject({ ok: true, key: sessionKey, deleted: true });
      const event = await client.next((f) => f.event === 'chat' && f.payload.runId === 'delete-run-1');
      expect(event.payload.state).toBe('aborted');
      // The turn ran inside the session, which is gone: it can send nothing any more.
      const session = await stack.gateway.client.workflow.getHandle(`session:${sessionKey}`).describe();
      expect(session.status.name).toBe('TERMINATED');
    } finally {
      hold.release();
    }
    // No final ever follows for the deleted run, and nothing is left to read.
    expect(
      client.frames.some(
        (f) => f.event === 'chat' && f.payload?.runId === 'delete-run-1' && f.payload.state === 'final',
      ),
    ).toBe(false);
    expect((await call(client, 'chat.history', { sessionKey })).payload.messages).toEqual([]);
    expect(client.problems).toEqual([]);
  });

  it('sessions.preview, patch, compact and delete act on the session workflow', async () => {
    const sessionKey = key('manage');
    const client = await connected(ADMIN);
    for (const [i, text] of ['first question', 'second question', 'third question'].entries()) {
      await converse(client, sessionKey, text, `manage-run-${i}`);
    }
    await expect
      .poll(async () => (await sessionHistory(stack.gateway.client, sessionKey)).transcript.length, {
        timeout: 10_000,
      })
      .toBe(6);

    const preview = await call(client, 'sessions.preview', {
      keys: [sessionKey, key('never-started')],
      limit: 2,
      maxChars: 20,
    });
    expect(preview.payload.previews).toEqual([
      {
        key: sessionKey,
        status: 'ok',
        items: [
          { role: 'user', text: 'third question' },
          { role: 'assistant', text: `${answer('third question').slice(0, 19)}…` },
        ],
      },
      { key: key('never-started'), status: 'missing', items: [] },
    ]);

    // A label is kept by the gateway and shown in sessions.list; other fields are refused by name.
    const patched = await call(client, 'sessions.patch', { key: sessionKey, label: 'Trip planning' });
    expect(patched.payload).toMatchObject({ ok: true, key: sessionKey, entry: { label: 'Trip planning' } });
    const changed = await client.next((f) => f.event === 'sessions.changed' && f.payload.reason === 'patch');
    expect(changed.payload.sessionKey).toBe(sessionKey);
    await expect
      .poll(
        async () =>
          (await call(client, 'sessions.list', {})).payload.sessions.find((s: Loose) => s.key === sessionKey)
            ?.label,
        { timeout: 10_000 },
      )
      .toBe('Trip planning');
    const refused = await call(client, 'sessions.patch', {
      key: sessionKey,
      model: 'anthropic/claude-sonnet-4-5',
    });
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatchObject({ code: 'INVALID_REQUEST', details: { unsupported: ['model'] } });
    expect(refused.error.message).toContain("'model'");

    // Compaction keeps the newest entries, like OpenClaw's maxLines.
    const compacted = await call(client, 'sessions.compact', { key: sessionKey, maxLines: 2 });
    expect(compacted.payload).toEqual({ ok: true, key: sessionKey, compacted: true, kept: 2 });
    const history = await call(client, 'chat.history', { sessionKey });
    expect(history.payload.messages.map((m: Loose) => m.role)).toEqual(['user', 'assistant']);
    expect(history.payload.messages[0].content).toBe('third question');
    expect((await call(client, 'sessions.compact', { key: sessionKey, maxLines: 5 })).payload).toEqual({
      ok: true,
      key: sessionKey,
      compacted: false,
      kept: 2,
    });

    // Delete ends the session workflow; the main session cannot be deleted.
    const deleted = await call(client, 'sessions.delete', { key: sessionKey });
    conforms(result.sessionsDelete, deleted.payload);
    expect(deleted.payload).toEqual({ ok: true, key: sessionKey, deleted: true, archived: [] });
    await client.next((f) => f.event === 'sessions.changed' && f.payload.reason === 'delete');
    expect((await call(client, 'chat.history', { sessionKey })).payload.messages).toEqual([]);
    const again = await call(client, 'sessions.delete', { key: sessionKey });
    expect(again.payload).toEqual({ ok: true, key: sessionKey, deleted: false, archived: [] });
    const main = await call(client, 'sessions.delete', { key: 'agent:main:main' });
    expect(main.error).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'Cannot delete the main session (agent:main:main).',
    });

    // Deleting and patching are for admins, as in OpenClaw.
    const writer = await connected();
    expect((await call(writer, 'sessions.delete', { key: sessionKey })).error).toMatchObject({
      code: 'FORBIDDEN',
      details: { code: 'MISSING_SCOPE', missingScope: 'operator.admin' },
    });
    expect(client.problems).toEqual([]);
  });

  it('models.list names the configured models with provider and context window, and no key', async () => {
    const client = await connected();
    const listed = await call(client, 'models.list', {});
    conforms(result.modelsList, listed.payload);
    expect(listed.payload.models).toEqual([
      {
        id: 'm',
        name: 'Local M',
        provider: 'local',
        contextWindow: 16000,
        reasoning: false,
        input: ['text'],
      },
      expect.objectContaining({ id: 'claude-sonnet-4-5', provider: 'anthropic', contextWindow: 200000 }),
    ]);
    const ofMain = await call(client, 'models.list', { agentId: 'main' });
    expect(ofMain.payload.models.map((m: Loose) => `${m.provider}/${m.id}`)).toEqual([
      'local/m',
      'anthropic/claude-sonnet-4-5',
    ]);
    const unknown = await call(client, 'models.list', { agentId: 'nobody' });
    expect(unknown.error).toMatchObject({ code: 'INVALID_REQUEST', details: { code: 'UNKNOWN_AGENT_ID' } });
    expect(JSON.stringify(listed.payload)).not.toMatch(/sk-header|hunter2|LOCAL_MODEL_KEY/);
    conforms(result.agentsList, (await call(client, 'agents.list', {})).payload);
    expect(client.problems).toEqual([]);
  });

  it('config.get shows the effective config with every token, password, key and secret redacted', async () => {
    const client = await connected();
    const got = await call(client, 'config.get', {});
    expect(got.ok).toBe(true);
    const text = JSON.stringify(got.payload);
    for (const secret of [TOKEN, ...Object.values(SECRETS)]) expect(text).not.toContain(secret);
    const { payload } = got;
    expect(payload).toMatchObject({ exists: true, valid: true, issues: [] });
    expect(payload.path).toMatch(/switchyard\.yaml$/);
    expect(payload.hash).toMatch(/^sha256:/);
    expect(payload.config.gateway.token).toBe('__OPENCLAW_REDACTED__');
    expect(payload.config.channels.telegram).toMatchObject({
      enabled: false,
      botToken: '__OPENCLAW_REDACTED__',
      webhookSecret: '__OPENCLAW_REDACTED__',
    });
    expect(payload.config.providers.local).toMatchObject({
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: '__OPENCLAW_REDACTED__',
      headers: { Authorization: '__OPENCLAW_REDACTED__' },
      models: [{ id: 'm', name: 'Local M', contextWindow: 16000 }],
    });
    expect(payload.config.agents).toEqual([
      { id: 'main', model: { primary: 'local/m', fallbacks: ['anthropic/claude-sonnet-4-5'] } },
    ]);
    expect(payload.parsed.gateway).toEqual({ token: '__OPENCLAW_REDACTED__' });
    expect(payload.raw).toContain('primary: local/m');
    expect(client.problems).toEqual([]);
  });

  it('exec.approval.get and resolve answer a tool call waiting for the owner', async () => {
    const sessionKey = key('approve');
    const seen: ToolResultMessage[][] = [];
    stack.agent.faux.setResponses([
      fauxAssistantMessage([fauxToolCall('transfer', { to: 'bob', amount: 20 })], { stopReason: 'toolUse' }),
      (context) => {
        const results = context.messages.filter((m): m is ToolResultMessage => m.role === 'toolResult');
        seen.push(results);
        return fauxAssistantMessage(
          `Results: ${results.map((r) => r.content.map((c) => ('text' in c ? c.text : '')).join('')).join(' | ')}`,
        );
      },
    ]);
    const client = await connected(['operator.read', 'operator.write', 'operator.approvals']);
    try {
      const ack = await call(client, 'chat.send', {
        sessionKey,
        message: 'send Bob 20',
        idempotencyKey: 'approve-run',
      });
      expect(ack.ok).toBe(true);
      // The owner learns the id out of band (`switchyard approvals list`); the listing lags a moment.
      const id = await until(
        async () =>
          (await listApprovals(stack.gateway.client, { taskQueue: stack.config.temporal.taskQueue })).find(
            (a) => a.workflowId === `session:${sessionKey}` || a.workflowId.startsWith(`turn:${sessionKey}:`),
          )?.id,
        30_000,
        200,
      );

      const got = await call(client, 'exec.approval.get', { id: id.toUpperCase() });
      expect(got.payload).toEqual({
        id,
        commandText: 'transfer {"to":"bob","amount":20}',
        commandPreview: null,
        allowedDecisions: ['allow-once', 'deny'],
        host: null,
        nodeId: null,
        agentId: 'main',
        expiresAtMs: expect.any(Number),
      });
      const missing = await call(client, 'exec.approval.get', { id: 'zzzzzz' });
      expect(missing.error).toMatchObject({
        code: 'INVALID_REQUEST',
        message: 'unknown or expired approval id',
        details: { reason: 'APPROVAL_NOT_FOUND' },
      });
      const always = await call(client, 'exec.approval.resolve', { id, decision: 'allow-always' });
      expect(always.error).toMatchObject({
        code: 'INVALID_REQUEST',
        details: { reason: 'APPROVAL_ALLOW_ALWAYS_UNAVAILABLE' },
      });
      expect(effects).toEqual([]);

      const resolved = await call(client, 'exec.approval.resolve', { id, decision: 'allow-once' });
      expect(resolved.payload).toEqual({ ok: true });
      const final = await client.next(
        (f) => f.event === 'chat' && f.payload.runId === 'approve-run' && f.payload.state === 'final',
        30_000,
      );
      expect(final.payload.message.content[0].text).toBe('Results: sent 20 to bob');
      expect(effects).toEqual(['bob 20']);

      // A retry of the same answer is fine; a different one is refused; the id is gone.
      expect((await call(client, 'exec.approval.resolve', { id, decision: 'allow-once' })).payload).toEqual({
        ok: true,
      });
      expect((await call(client, 'exec.approval.resolve', { id, decision: 'deny' })).error).toMatchObject({
        code: 'INVALID_REQUEST',
        details: { reason: 'APPROVAL_ALREADY_RESOLVED' },
      });
      await expect
        .poll(async () => (await call(client, 'exec.approval.get', { id })).error?.details?.reason, {
          timeout: 10_000,
        })
        .toBe('APPROVAL_NOT_FOUND');

      // Approvals need operator.approvals.
      const writer = await connected();
      expect((await call(writer, 'exec.approval.get', { id })).error).toMatchObject({
        code: 'FORBIDDEN',
        details: { missingScope: 'operator.approvals' },
      });
      expect(client.problems).toEqual([]);
    } finally {
      stack.agent.answerWith(answer);
    }
  });
});
