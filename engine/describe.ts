/** The `switchyard pipelines show` view of a compiled pipeline. */
import type { CompiledPipeline, PipelineIR, Step, UsesStep } from './ir.js';
import { renderMermaid } from './mermaid.js';
import { type TurnPlacement, turnPlacement } from './turn-placement.js';

export interface PipelineDescription {
  name: string;
  file: string;
  hash: string;
  description?: string;
  inputs: PipelineIR['inputs'];
  outputs: string[];
  stepCount: number;
  calls: string[];
  /** Pipelines offered to the model as tools, per `agent.turn` step. */
  pipelineTools: Array<{ step: string; name: string; pipeline: string; approval?: 'required' }>;
  /** As a conversation's turn: inside the session workflow, or as a child workflow (and why). */
  turn: TurnPlacement;
  ir: PipelineIR;
  mermaid: string;
}

export function describePipeline(p: CompiledPipeline): PipelineDescription {
  let stepCount = 0;
  const pipelineTools: PipelineDescription['pipelineTools'] = [];
  const count = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) count(x);
    } else if (v && typeof v === 'object') {
      if ('kind' in v && 'after' in v && 'id' in v) {
        stepCount++;
        for (const t of (v as Step).kind === 'uses' ? ((v as UsesStep).pipelineTools ?? []) : []) {
          pipelineTools.push({
            step: (v as Step).id,
            name: t.name,
            pipeline: t.pipeline,
            ...(t.approval ? { approval: t.approval } : {}),
          });
        }
      }
      for (const x of Object.values(v)) count(x);
    }
  };
  count(p.ir.steps);
  return {
    name: p.name,
    file: p.file,
    hash: p.hash,
    ...(p.ir.description ? { description: p.ir.description } : {}),
    inputs: p.ir.inputs,
    outputs: Object.keys(p.ir.outputs),
    stepCount,
    calls: Object.keys(p.ir.calls),
    pipelineTools,
    turn: turnPlacement(p.ir),
    ir: p.ir,
    mermaid: renderMermaid(p.ir),
  };
}
