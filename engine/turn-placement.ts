/**
 * Where a conversation's turn runs. Most turns (the default pipeline: route, recall, agent,
 * reply) wait for nothing but activities, so the session workflow runs them itself: no child
 * workflow to start, schedule and report back, which was the most expensive part of a turn.
 * A pipeline that waits durably — for a signal, a timer, the owner's approval, or another
 * pipeline — runs as its own child workflow `turn:…`, where that wait is visible in the Temporal
 * UI, can be signalled (`switchyard pipelines signal`) and does not hold up the session's history.
 * Decided at compile time and recorded in the IR (`inline`), so a replay never decides again.
 */
import type { Block, PipelineIR, Step } from './ir.js';

export type TurnPlacement = { inline: true } | { inline: false; reason: string };

export function turnPlacement(ir: Pick<PipelineIR, 'steps'>): TurnPlacement {
  const reason = durableWait(ir.steps);
  return reason ? { inline: false, reason } : { inline: true };
}

/** The first step that waits durably, said in words; undefined when none does. */
function durableWait(block: Block): string | undefined {
  for (const step of block) {
    const own = ownWait(step);
    if (own) return `step '${step.id}' ${own}`;
    for (const nested of nestedBlocks(step)) {
      const found = durableWait(nested);
      if (found) return found;
    }
  }
  return undefined;
}

function ownWait(step: Step): string | undefined {
  if (step.approval) return 'waits for the owner’s approval';
  switch (step.kind) {
    case 'wait':
      return 'waits on a timer (wait:)';
    case 'wait_for':
      return `waits for the signal '${step.signal}'`;
    case 'call':
      return `runs the pipeline '${step.pipeline}' (call:)`;
    case 'uses':
      if (step.pipelineTools?.length) return 'offers pipelines as tools (pipeline_tools:)';
      if (Object.values(step.toolOptions ?? {}).some((o) => o.approval)) {
        return 'requires approval of tool calls (tool_options:)';
      }
      return undefined;
    default:
      return undefined;
  }
}

function nestedBlocks(step: Step): Block[] {
  switch (step.kind) {
    case 'switch':
      return [...step.cases.map((c) => c.steps), ...(step.default ? [step.default] : [])];
    case 'parallel':
      return step.branches.map((b) => b.steps);
    case 'foreach':
      return [step.steps];
    case 'try':
      return [step.steps, ...(step.catch ? [step.catch.steps] : []), ...(step.finally ? [step.finally] : [])];
    case 'wait_for':
      return step.onTimeout ? [step.onTimeout] : [];
    default:
      return [];
  }
}
