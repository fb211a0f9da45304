import { randomUUID } from 'node:crypto';
import type { AgentToolDefinition } from '../../activities/agent/index.js';
import type { ActivityDeps } from '../../activities/index.js';
import type { InboundMessage } from '../../channels/envelope.js';
import { type Harness, startHarness } from '../pipeline/harness.js';
import { type FauxAgent, fauxAgent } from './faux-agent.js';
import { startRecordingChannel } from './recording-channel.js';

export interface AgentChat {
  /** pi-ai's faux model behind agent `main`. */
  agent: FauxAgent;
  /** A real worker on its own task queue, and a client to start pipelines. */
  h: Harness;
  /** The chat the pipelines answer: the real exactly-once send, recording what it posts. */
  chat: Awaited<ReturnType<typeof startRecordingChannel>>;
  close(): Promise<void>;
}

/**
 * What the agent tests share: a worker whose agent is the faux model (with `agent` deps such as
 * tools added), and a recorded chat on that worker's channel queue.
 */
export async function startAgentChat(
  address: string,
  name: string,
  deps: Omit<ActivityDeps, 'agent'> & { agent?: Omit<NonNullable<ActivityDeps['agent']>, 'config'> } = {},
): Promise<AgentChat> {
  const agent = fauxAgent();
  const h = await startHarness(address, name, { ...deps, agent: { ...deps.agent, config: agent.config } });
  const chat = await startRecordingChannel(address, h.taskQueue, undefined, h.dataConverter);
  return {
    agent,
    h,
    chat,
    async close() {
      await chat.close();
      await h.close();
      agent.close();
    },
  };
}

/** A direct message from Ada in a fresh chat of `channel`. */
export function chatMessage(
  channel: string,
  text: string,
  over: Partial<InboundMessage> = {},
): InboundMessage {
  return {
    channel,
    accountId: 'default',
    chat: { id: `chat-${randomUUID().slice(0, 6)}`, kind: 'direct' },
    sender: { id: 'u-1', name: 'Ada' },
    messageId: `m-${randomUUID().slice(0, 6)}`,
    platformId: `${channel}:1`,
    text,
    attachments: [],
    mentions: [],
    wasMentioned: false,
    timestamp: Date.parse('2026-01-01T00:00:00Z'),
    ...over,
  };
}

/**
 * A tool with a visible side effect that the owner must approve: "sends money", telling
 * `onTransfer` each time it really runs.
 */
export function transferTool(
  onTransfer: (line: string) => void,
  options: { approvalTimeoutMs?: number; receipt?: string } = {},
): AgentToolDefinition {
  return {
    name: 'transfer',
    description: 'Transfers money to someone.',
    parameters: {
      type: 'object',
      properties: { to: { type: 'string' }, amount: { type: 'number' } },
      required: ['to', 'amount'],
    },
    approval: 'required',
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    async execute(args) {
      onTransfer(`${args.to} ${args.amount}`);
      return `sent ${args.amount} to ${args.to}${options.receipt ? `, receipt ${options.receipt}` : ''}`;
    },
  };
}
