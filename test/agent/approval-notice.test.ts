// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the pipeline expression syntax, not a JS template
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fauxAssistantMessage, fauxToolCall, type ToolResultMessage } from '@mariozechner/pi-ai';
import type { WorkflowHandle } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SendToChannelInput } from '../../activities/channel-send.js';
import type { ChatKind, InboundMessage } from '../../channels/envelope.js';
import { resolveApproval, workflowApprovals } from '../../client/approvals.js';
import { builtInStepTypes } from '../../engine/index.js';
import type { PendingApproval } from '../../workflows/agent/approval-api.js';
import { transferTool } from '../helpers/agent-chat.js';
import { type FauxAgent, fauxAgent } from '../helpers/faux-agent.js';
import { startRecordingChannel } from '../helpers/recording-channel.js';
import { until } from '../helpers/until.js';
import { compile, type Harness, startHarness } from '../pipeline/harness.js';
import { scheduledByType } from './harness.js';

const address = inject('temporalAddress');

/** One agent turn; the prompt is an input so the pipeline also runs without a message. */
const pay = compile(
  `
name: pay
inputs:
  prompt:
    type: string
    default: Send Bob 20.
outputs:
  reply:
    value: \${{ steps.turn.output.text }}
steps:
  - id: turn
    uses: agent.turn
    with:
      prompt: \${{ inputs.prompt }}
`,
  builtInStepTypes,
);

describe('a tool call waiting for approval is announced in the chat the turn answers', () => {
  const home = mkdtempSync(join(tmpdir(), 'switchyard-approval-notice-'));
  const effects = join(home, 'transfers.txt');
  let agent: FauxAgent;
  let h: Harness;
  let chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  let chatNo = 0;

  const transfer = transferTool((line) => appendFileSync(effects, `${line}\n`));

  beforeAll(async () => {
    agent = fauxAgent();
    h = await startHarness(address, 'approval-notice', {
      agent: { config: agent.config, tools: [transfer] },
    });
    chat = await startRecordingChannel(address, h.taskQueue, undefined, h.dataConverter);
  });
  afterAll(async () => {
    await chat?.close();
    await h?.close();
    agent?.close();
  });

  function message(kind: ChatKind = 'direct', channel = chat.channel): InboundMessage {
    const id = `chat-${++chatNo}`;
    return {
      channel,
      accountId: 'default',
      chat: { id, kind },
      sender: { id: 'u-1', name: 'Ada' },
      messageId: `m-${chatNo}`,
      platformId: `${channel}:${id}:1`,
      text: 'Send Bob 20.',
      attachments: [],
      mentions: [],
      wasMentioned: true,
      timestamp: Date.parse('2026-01-01T00:00:00Z'),
    };
  }

  /** The model asks to transfer `amount` to bob, then answers with the tool result. */
  function script(amount: number) {
    agent.faux.setResponses([
      fauxAssistantMessage([fauxToolCall('transfer', { to: 'bob', amount })], { stopReason: 'toolUse' }),
      (context) => {
        const results = context.messages.filter((m): m is ToolResultMessage => m.role === 'toolResult');
        return fauxAssistantMessage(
          `Done: ${results.map((r) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('')).join(' | ')}`,
        );
      },
    ]);
  }

  async function pending(handle: WorkflowHandle): Promise<PendingApproval> {
    return until(async () => (await workflowApprovals(h.client, handle.workflowId))[0]);
  }

  it('posts one notice naming the tool and the id; approving then runs the tool', async () => {
    script(20);
    const msg = message();
    const handle = await h.start(pay, {}, msg);
    const approval = await pending(handle);
    const notice = await until(() => chat.sent.find((s) => s.chatId === msg.chat.id));
    expect(notice.text).toBe(
      `Approval needed: \`transfer\` {"to":"bob","amount":20} (id ${approval.id}). Reply /approve ${approval.id} or /deny ${approval.id} within 10 min.`,
    );
    expect(existsSync(effects)).toBe(false);

    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    expect(await handle.result()).toEqual({ reply: 'Done: sent 20 to bob' });
    expect(readFileSync(effects, 'utf8')).toBe('bob 20\n');

    // Exactly one notice, sent through the exactly-once send with a key of workflow id + approval id.
    expect(chat.sent.filter((s) => s.chatId === msg.chat.id)).toEqual([notice]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(scheduledByType(events).sendToChannel).toBe(1);
    const send = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendToChannel',
    );
    // History holds it encrypted (the payload codec); decrypted with the worker's keys.
    const [input] = await h.dataConverter.payloadCodecs![0]!.decode([
      send!.activityTaskScheduledEventAttributes!.input!.payloads![0]! as Payload,
    ]);
    expect(JSON.parse(Buffer.from(input!.data ?? []).toString()) as SendToChannelInput).toMatchObject({
      channel: chat.channel,
      chatId: msg.chat.id,
      idempotencyKey: `${handle.workflowId}:approval:${approval.id}`,
    });
  });

  it('points a group chat at the CLI, since /approve is read in direct chats only', async () => {
    script(5);
    const msg = message('group');
    const handle = await h.start(pay, {}, msg);
    const approval = await pending(handle);
    const notice = await until(() => chat.sent.find((s) => s.chatId === msg.chat.id));
    expect(notice.text).toBe(
      `Approval needed: \`transfer\` {"to":"bob","amount":5} (id ${approval.id}). The owner can answer with \`switchyard approvals approve ${approval.id}\` (or deny) within 10 min.`,
    );
    await resolveApproval(h.client, handle.workflowId, approval.id, 'deny', 'not in groups');
    expect(await handle.result()).toEqual({
      reply: 'Done: The owner denied the call of transfer: not in groups. The tool was not run.',
    });
  });

  it('posts nothing when the turn answers no chat, and the approval works as before', async () => {
    script(7);
    const sentBefore = chat.sent.length;
    const handle = await h.start(pay, {});
    const approval = await pending(handle);
    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    expect(await handle.result()).toEqual({ reply: 'Done: sent 7 to bob' });
    expect(scheduledByType((await handle.fetchHistory()).events ?? []).sendToChannel).toBeUndefined();
    expect(chat.sent.length).toBe(sentBefore);
  });

  it('does not hold up the approval when the chat cannot be reached', async () => {
    script(9);
    // A connector nobody serves: the notice waits on its queue, the approval does not.
    const handle = await h.start(pay, {}, message('direct', 'offline'));
    const approval = await pending(handle);
    await resolveApproval(h.client, handle.workflowId, approval.id, 'approve');
    expect(await handle.result()).toEqual({ reply: 'Done: sent 9 to bob' });
  });
});
