/**
 * Activities behind the `uses:` step types of engine/step-types.ts: `memory.recall` and
 * `memory.remember` (activities/memory.ts). `mediaEnrich` is the placeholder `media.enrich` ran
 * before the media stage was built; pipelines compiled since run media.enrich in the
 * interpreter (workflows/media/enrich.ts, one activity per conversion: activities/media/). It
 * stays registered only for runs that were already underway with the old compiled form, whose
 * history names this activity. (`agent.turn` and `reply.send` run in the interpreter too:
 * workflows/pipeline/pipeline-builtins.ts.)
 */
import { Context } from '@temporalio/activity';
import {
  createMemoryActivities,
  type MemoryActivityDeps,
  type MemoryRecallArgs,
  type MemoryRememberArgs,
} from './memory.js';

/** Second argument of every step activity: where the call comes from (idempotency keys). */
export interface StepCall {
  pipeline: string;
  step: string;
}

/** Observes every step activity call (tests count attempts and concurrency through it). */
export interface PipelineStepDeps extends MemoryActivityDeps {
  onCall?: (event: { activity: string; call: StepCall; args: unknown; attempt: number }) => void;
}

export interface MediaEnrichArgs {
  attachments: Array<{ id?: string; kind?: string; name?: string; mimeType?: string }>;
  transcribe?: boolean;
  describe?: boolean;
}
export type { MemoryRecallArgs, MemoryRememberArgs };

export function createPipelineStepActivities(deps: PipelineStepDeps = {}) {
  const memory = createMemoryActivities(deps);
  const observe = (activity: string, args: unknown, call: StepCall) =>
    deps.onCall?.({ activity, call, args, attempt: Context.current().info.attempt });

  return {
    /** The old placeholder, for runs compiled before media.enrich was real: lists attachments, reads none. */
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

    /** Searches the agent's notes (hybrid); small snippets with their source and score. */
    async memoryRecall(args: MemoryRecallArgs, call: StepCall) {
      observe('memoryRecall', args, call);
      return memory.memoryRecall(args);
    },

    /** Appends to the agent's daily note or MEMORY.md, exactly once across retries. */
    async memoryRemember(args: MemoryRememberArgs, call: StepCall) {
      observe('memoryRemember', args, call);
      return memory.memoryRemember(args);
    },
  };
}

export type PipelineStepActivities = ReturnType<typeof createPipelineStepActivities>;
