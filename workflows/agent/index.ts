/**
 * The agent turn inside a workflow. `runAgentTurn` is what the pipeline interpreter calls for
 * an `agent.turn` step; `agentTurnWorkflow` runs one turn on its own (tests, or as a child).
 * Bundling needs worker/bundler-options.ts.
 */
import { type AgentTurnArgs, type AgentTurnContext, type AgentTurnResult, runAgentTurn } from './turn.js';

export type { ApprovalNoticeTarget } from './approval-notice.js';
export type { PipelineToolSet } from './pipeline-tools.js';
export type { AgentTurnArgs, AgentTurnContext, AgentTurnResult, AttachmentNote, TurnUsage } from './turn.js';
export { runAgentTurn } from './turn.js';

export interface AgentTurnWorkflowInput {
  args: AgentTurnArgs;
  ctx?: AgentTurnContext;
}

export async function agentTurnWorkflow(input: AgentTurnWorkflowInput): Promise<AgentTurnResult> {
  return runAgentTurn(input.args, input.ctx);
}
