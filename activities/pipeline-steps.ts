/**
 * Activities behind the `uses:` step types of engine/step-types.ts. The four below are honest
 * PLACEHOLDERS (the registry marks them `placeholder: true`): they keep the contract (arguments
 * and output shape) so pipelines compile and run end to end, and every output says plainly
 * that nothing real happened. The agent, media, memory and channel issues replace them.
 */
import { Context } from '@temporalio/activity';

/** Second argument of every step activity: where the call comes from (idempotency keys). */
export interface StepCall {
  pipeline: string;
  step: string;
}

/** Observes every step activity call (tests count attempts and concurrency through it). */
export interface PipelineStepDeps {
  onCall?: (event: { activity: string; call: StepCall; args: unknown; attempt: number }) => void;
}

export interface AgentTurnArgs {
  prompt: string;
  agent?: string;
  context?: unknown;
  model?: string;
  thinking?: string;
}
export interface MediaEnrichArgs {
  attachments: Array<{ id?: string; kind?: string; name?: string; mimeType?: string }>;
  transcribe?: boolean;
  describe?: boolean;
}
export interface MemoryRecallArgs {
  query: string;
  limit?: number;
  scope?: string;
}
export interface ReplySendArgs {
  text: string;
  channel?: string;
  chat?: string;
  media?: unknown[];
  reply_to?: string;
  thread?: string;
}

const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function createPipelineStepActivities(deps: PipelineStepDeps = {}) {
  const observe = (activity: string, args: unknown, call: StepCall) =>
    deps.onCall?.({ activity, call, args, attempt: Context.current().info.attempt });

  return {
    /** Placeholder: no model is called; the reply quotes the prompt so runs are traceable. */
    async agentTurn(args: AgentTurnArgs, call: StepCall) {
      observe('agentTurn', args, call);
      const text = `[placeholder agent${args.agent ? ` ${args.agent}` : ''}: no model is wired yet; prompt was "${clip(args.prompt)}"]`;
      return {
        text,
        messages: [{ role: 'assistant', text }],
        usage: { inputTokens: 0, outputTokens: 0 },
        placeholder: true,
      };
    },

    /** Placeholder: attachments are listed, not transcribed or described. */
    async mediaEnrich(args: MediaEnrichArgs, call: StepCall) {
      observe('mediaEnrich', args, call);
      const items = (args.attachments ?? []).map((a) => ({
        id: a.id ?? null,
        kind: a.kind ?? 'file',
        text: `[placeholder media: ${a.kind ?? 'file'} ${a.name ?? a.id ?? ''} was not analysed]`.replace(
          ' ]',
          ']',
        ),
      }));
      return { items, text: items.map((i) => i.text).join('\n'), placeholder: true };
    },

    /** Placeholder: there is no memory store yet, so nothing is ever remembered. */
    async memoryRecall(args: MemoryRecallArgs, call: StepCall) {
      observe('memoryRecall', args, call);
      return { hits: [] as Array<{ text: string; score: number; source: string }>, placeholder: true };
    },

    /** Placeholder: nothing is sent; the id is the idempotency key the real outbox will use. */
    async replySend(args: ReplySendArgs, call: StepCall) {
      observe('replySend', args, call);
      const { workflowId } = Context.current().info.workflowExecution ?? { workflowId: 'unknown' };
      return {
        messageId: `placeholder:${workflowId}:${call.step}`,
        channel: args.channel ?? 'none',
        sent: false,
        placeholder: true,
      };
    },
  };
}

export type PipelineStepActivities = ReturnType<typeof createPipelineStepActivities>;
