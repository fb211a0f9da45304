/**
 * Activities behind the `uses:` step types of engine/step-types.ts. The two below are honest
 * PLACEHOLDERS (the registry marks them `placeholder: true`): they keep the contract (arguments
 * and output shape) so pipelines compile and run end to end, and every output says plainly
 * that nothing real happened. The media and memory work replaces them. (`agent.turn` and
 * `reply.send` are real and run in the interpreter: workflows/pipeline/pipeline-builtins.ts.)
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

export function createPipelineStepActivities(deps: PipelineStepDeps = {}) {
  const observe = (activity: string, args: unknown, call: StepCall) =>
    deps.onCall?.({ activity, call, args, attempt: Context.current().info.attempt });

  return {
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
  };
}

export type PipelineStepActivities = ReturnType<typeof createPipelineStepActivities>;
