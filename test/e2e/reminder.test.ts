// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
// "Remind me in 2 seconds to call mum", said on Telegram: the agent's `cron` tool creates a
// one-shot Temporal Schedule from inside a faux-model turn; it fires, a scheduled agent turn
// writes the reminder, and it is announced once in the same Telegram chat (crabline, real Bot API).
import { type Context, fauxAssistantMessage, fauxToolCall } from '@mariozechner/pi-ai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCronTool } from '../../activities/agent/builtin-tools/cron.js';
import { listApprovals } from '../../client/approvals.js';
import { addTask, listRuns, pauseTask } from '../../client/cron/index.js';
import type { Gateway } from '../../gateway/server.js';
import { type RunningWorker, reminderOrigin } from '../../worker/worker.js';
import type { FauxAgent } from '../helpers/faux-agent.js';
import { startTelegramStack, type TelegramStack } from '../helpers/telegram-stack.js';
import { eventually, type FakeTelegram } from '../telegram/helpers.js';

const OWNER = 4004;
/** Routed to a pipeline that offers another pipeline as a tool; that one calls a guarded tool. */
const TINKERER = 4005;
let garageOpened = 0;

describe("the agent's tools from a Telegram chat: reminders, schedules, approvals", () => {
  const address = inject('temporalAddress');
  let stack: TelegramStack;
  let telegram: FakeTelegram;
  let gateway: Gateway;
  let worker: RunningWorker;
  let agent: FauxAgent;

  beforeAll(async () => {
    stack = await startTelegramStack(address, {
      name: 'remind',
      telegram: ['dmPolicy: allowlist', `allowFrom: ["${OWNER}", "${TINKERER}"]`],
      yaml: [
        'bindings:',
        `  - match: { channel: telegram, peer: "${TINKERER}" }`,
        '    agentId: main',
        '    pipeline: guarded',
      ],
      files: {
        'pipelines/guarded.yaml': [
          'name: guarded',
          'outputs:',
          '  reply:',
          '    value: ${{ steps.turn.output.text }}',
          'steps:',
          '  - id: turn',
          '    uses: agent.turn',
          '    with:',
          '      prompt: ${{ message.text }}',
          '      pipeline_tools:',
          '        - garage',
          '  - id: reply',
          '    uses: reply.send',
          '    with:',
          '      text: ${{ steps.turn.output.text }}',
          '',
        ].join('\n'),
        'pipelines/garage.yaml': [
          'name: garage',
          'description: Opens the garage door.',
          'outputs:',
          '  door:',
          '    value: ${{ steps.open.output.text }}',
          'steps:',
          '  - id: open',
          '    uses: agent.turn',
          '    with:',
          '      prompt: open the garage door',
          '      tools: [open_garage]',
          '',
        ].join('\n'),
      },
      deps: ({ gateway, taskQueue }) => ({
        agent: {
          tools: [
            createCronTool({ client: gateway.client, target: { taskQueue } }, reminderOrigin),
            {
              name: 'open_garage',
              description: 'Opens the garage door.',
              parameters: { type: 'object', properties: {} },
              approval: 'required',
              async execute() {
                garageOpened += 1;
                return 'the garage door is open';
              },
            },
          ],
        },
        schedule: { getPipeline: (name) => gateway.pipelines.get(name) },
      }),
    });
    ({ telegram, gateway, worker, agent } = stack);
    agent.faux.setResponses([
      // The chat turn: the model asks for the reminder, then confirms.
      fauxAssistantMessage([fauxToolCall('cron', { text: 'call mum', delaySeconds: 2 })], {
        stopReason: 'toolUse',
      }),
      fauxAssistantMessage('Done: I will remind you to call mum in 2 seconds.'),
      // The scheduled turn, when the reminder fires.
      fauxAssistantMessage('Reminder: call mum!'),
    ]);
  });
  afterAll(async () => stack?.close());

  it('creates a one-shot schedule that fires and is announced once in the same chat', async () => {
    await telegram.inject({
      chatId: OWNER,
      fromId: OWNER,
      fromName: 'Alice',
      text: 'remind me in 2 seconds to call mum',
    });
    const texts = () =>
      telegram
        .calls('sendMessage')
        .filter((c) => String(c.body.chat_id) === String(OWNER))
        .map((c) => String(c.body.text));
    await eventually(() => (texts().includes('Reminder: call mum!') ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(texts()).toEqual(['Done: I will remind you to call mum in 2 seconds.', 'Reminder: call mum!']);
  });

  it('an every-2s task fires at least 3 times in 7 s, each run listed and announced once to the chat', async () => {
    const ctx = { client: gateway.client, target: { taskQueue: worker.taskQueue } };
    let n = 0;
    agent.answerWith(() => `Tick ${++n}`);
    const before = telegram.calls('sendMessage').length;
    await addTask(ctx, {
      id: `tick-${Date.now()}`,
      schedule: { kind: 'every', everyMs: 2_000 },
      payload: { kind: 'agentTurn', message: 'say tick' },
      delivery: { mode: 'announce', channel: 'telegram', to: String(OWNER) },
      overlap: 'allowAll',
    }).then(async ({ view }) => {
      await new Promise((r) => setTimeout(r, 7_000));
      await pauseTask(ctx, view.id);
      // Let the runs already started finish and deliver.
      await new Promise((r) => setTimeout(r, 3_000));
      const { runs } = await listRuns(ctx, view.id);
      const done = runs.filter((r) => r.status === 'ok');
      expect(done.length).toBeGreaterThanOrEqual(3);
      for (const run of done) {
        expect(run.workflowId).toMatch(new RegExp(`^cron:${view.id}-`));
        expect(run.delivered).toBe(true);
      }
      const ticks = telegram
        .calls('sendMessage')
        .slice(before)
        .map((c) => String(c.body.text));
      // Once per run: as many announcements as completed runs, none repeated.
      expect(ticks).toHaveLength(done.length);
      expect(new Set(ticks).size).toBe(ticks.length);
    });
  });

  it('asks for approval before a guarded tool runs; /approve in the chat lets it run', async () => {
    agent.faux.setResponses([
      fauxAssistantMessage([fauxToolCall('open_garage', {})], { stopReason: 'toolUse' }),
      fauxAssistantMessage('The garage is open now.'),
    ]);
    const before = telegram.calls('sendMessage').length;
    const texts = () =>
      telegram
        .calls('sendMessage')
        .slice(before)
        .map((c) => String(c.body.text));
    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: 'open the garage please' });
    let pending: { id: string } | undefined;
    await expect
      .poll(
        async () => {
          pending = (await listApprovals(gateway.client, { taskQueue: worker.taskQueue })).find(
            (a) => a.tool === 'open_garage',
          );
          return pending !== undefined;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    expect(garageOpened).toBe(0);
    // The owner is told in the chat, with the id to answer.
    await eventually(
      () =>
        texts().some(
          (t) => t.startsWith('Approval needed: `open_garage`') && t.includes(`/approve ${pending!.id}`),
        )
          ? true
          : undefined,
      30_000,
    );

    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: `/approve ${pending!.id}` });
    // The confirmation and the turn's answer travel separately; wait for both.
    const confirmation = `Approved ${pending!.id} (open_garage).`;
    await eventually(
      () =>
        texts().includes('The garage is open now.') && texts().includes(confirmation) ? true : undefined,
      30_000,
    );
    expect(garageOpened).toBe(1);
    expect(texts().filter((t) => t === 'The garage is open now.')).toHaveLength(1);

    // An id that waits in no turn of this conversation is answered, not acted on.
    await telegram.inject({ chatId: OWNER, fromId: OWNER, text: '/deny zzzzzz' });
    await eventually(
      () => (texts().includes('No approval zzzzzz is waiting in this conversation.') ? true : undefined),
      30_000,
    );
  });

  it('a guarded tool called inside a pipeline run as a tool asks in the chat; /approve there lets it run', async () => {
    const toolResultText = (context: Context) => {
      const result = [...context.messages].reverse().find((m) => m.role === 'toolResult');
      return result?.content.map((c) => (c.type === 'text' ? c.text : '')).join('') ?? '';
    };
    agent.faux.setResponses([
      // The conversation's turn offers the `garage` pipeline as a tool and calls it…
      fauxAssistantMessage([fauxToolCall('garage', {})], { stopReason: 'toolUse' }),
      // …whose own agent turn calls the guarded tool, which waits for the owner.
      fauxAssistantMessage([fauxToolCall('open_garage', {})], { stopReason: 'toolUse' }),
      (context) => fauxAssistantMessage(`Door: ${toolResultText(context)}`),
      (context) => fauxAssistantMessage(`The garage pipeline answered ${toolResultText(context)}`),
    ]);
    const opened = garageOpened;
    const before = telegram.calls('sendMessage').length;
    const texts = () =>
      telegram
        .calls('sendMessage')
        .slice(before)
        .filter((c) => String(c.body.chat_id) === String(TINKERER))
        .map((c) => String(c.body.text));
    await telegram.inject({
      chatId: TINKERER,
      fromId: TINKERER,
      text: 'open the garage through the pipeline',
    });
    // The approval waits in the child pipeline workflow, under this conversation's session.
    let pending: Awaited<ReturnType<typeof listApprovals>>[number] | undefined;
    await expect
      .poll(
        async () => {
          pending = (await listApprovals(gateway.client, { taskQueue: worker.taskQueue })).find(
            (a) => a.tool === 'open_garage' && a.rootWorkflowId?.includes(String(TINKERER)),
          );
          return pending !== undefined;
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    expect(pending!.workflowId).not.toMatch(/^turn:/);
    await eventually(
      () => (texts().some((t) => t.includes(`/approve ${pending!.id}`)) ? true : undefined),
      30_000,
    );
    expect(garageOpened).toBe(opened);

    await telegram.inject({ chatId: TINKERER, fromId: TINKERER, text: `/approve ${pending!.id}` });
    const answer = 'The garage pipeline answered {"door":"Door: the garage door is open"}';
    await eventually(
      () =>
        texts().includes(answer) && texts().includes(`Approved ${pending!.id} (open_garage).`)
          ? true
          : undefined,
      30_000,
    );
    expect(garageOpened).toBe(opened + 1);
    expect(texts().filter((t) => t === answer)).toHaveLength(1);
  });
});
