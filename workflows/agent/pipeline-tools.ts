/**
 * Pipelines as tools (`pipeline_tools:` of an `agent.turn` step, compiled into
 * `UsesStep.pipelineTools`): each call runs the called pipeline as a child workflow, the way a
 * `call:` step does, with the model's arguments as its inputs and the current message. The
 * child's id comes from the turn's first run id, the step and the tool call id, all in history,
 * so a replay or a reset finds the same child instead of starting another. The tool result is
 * the child's outputs as JSON text; a failed child is an error result the model can read.
 */
import type { AgentTool } from '@mariozechner/pi-agent-core';
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  executeChild,
  isCancellation,
} from '@temporalio/workflow';
import { formatDuration } from '../../engine/duration.js';
import { Failures } from '../../engine/failures.js';
import type { PipelineIR, PipelineToolIR } from '../../engine/ir.js';
import type { PipelineOutputs, PipelineRunInput } from '../pipeline/pipeline-api.js';
import { failureText } from './activity-options.js';
import type { ToolSpec } from './agent-api.js';
import { requireApproval, type ToolRun } from './tools.js';

/** What an agent turn needs to offer pipelines as tools (built by the pipeline's agent.turn step). */
export interface PipelineToolSet {
  tools: PipelineToolIR[];
  /** The IR of every pipeline the tools name (from the caller's `PipelineIR.calls`). */
  pipelines: Record<string, PipelineIR>;
  /** What each child sees as `message`: the message the turn answers. */
  message?: unknown;
  /** The caller's environment values; each child gets those its pipeline lists in `env:`. */
  env?: Record<string, string>;
  /** Child ids are `<pipeline>-<idBase>-<tool call id>`; unique per step run. */
  idBase: string;
}

export function pipelineAgentTools(set: PipelineToolSet, registered: ToolSpec[], run: ToolRun): AgentTool[] {
  const taken = new Set(registered.map((t) => t.name));
  const clash = set.tools.find((t) => taken.has(t.name));
  if (clash) {
    throw ApplicationFailure.nonRetryable(
      `pipeline tool '${clash.name}' (pipeline ${clash.pipeline}) has the name of a tool this worker registers; give it another name: in pipeline_tools, or leave the registered one out with tools:`,
      Failures.PipelineToolConflict,
    );
  }
  const used = new Map<string, number>();
  return set.tools.map((tool) => ({
    name: tool.name,
    label: tool.name,
    description: tool.description,
    parameters: tool.parameters as unknown as AgentTool['parameters'],
    async execute(toolCallId, params) {
      const args = (params ?? {}) as Record<string, unknown>;
      if (tool.approval === 'required') {
        await requireApproval(tool.name, toolCallId, args, tool.approvalTimeout, run);
      }
      run.counter.toolCalls++;
      // A model that repeats a tool call id still gets one child per call.
      const key = `${tool.pipeline}-${set.idBase}-${toolCallId}`;
      const n = (used.get(key) ?? 0) + 1;
      used.set(key, n);
      const workflowId = n > 1 ? `${key}-${n}` : key;
      const outputs = await runChild(set, tool, args, workflowId);
      return {
        content: [{ type: 'text', text: JSON.stringify(outputs) }],
        details: { pipeline: tool.pipeline, workflowId },
      };
    },
  }));
}

async function runChild(
  set: PipelineToolSet,
  tool: PipelineToolIR,
  inputs: Record<string, unknown>,
  workflowId: string,
): Promise<PipelineOutputs> {
  const ir = set.pipelines[tool.pipeline];
  if (!ir) throw new Error(`pipeline ${tool.pipeline} failed: the IR carries no pipeline '${tool.pipeline}'`);
  const env: Record<string, string> = {};
  for (const name of ir.env) {
    const value = set.env?.[name];
    if (value !== undefined) env[name] = value;
  }
  const child: PipelineRunInput = { ir, hash: tool.hash, inputs, message: set.message, env };
  const start = () =>
    // By name, as `call:` does: the agent loop does not import the pipeline interpreter.
    executeChild('pipelineWorkflow', {
      args: [child],
      workflowId,
      memo: { pipeline: tool.pipeline, hash: tool.hash, tool: tool.name },
      staticSummary: `tool ${tool.name}: pipeline ${tool.pipeline}`,
      // At the deadline the model gets its answer at once; the child is asked to stop.
      cancellationType: ChildWorkflowCancellationType.TRY_CANCEL,
    }) as Promise<PipelineOutputs>;
  const outer = CancellationScope.current();
  const timeout = tool.timeout;
  try {
    if (timeout === undefined) return await start();
    return await new CancellationScope({ cancellable: true, timeout }).run(start);
  } catch (err) {
    if (isCancellation(err) && outer.consideredCancelled) throw err;
    // Thrown, so the loop hands the model an error result and the turn goes on.
    if (isCancellation(err)) {
      throw new Error(
        `pipeline ${tool.pipeline} did not finish within ${formatDuration(timeout ?? 0)} and was cancelled`,
      );
    }
    throw new Error(`pipeline ${tool.pipeline} failed: ${failureText(err)}`);
  }
}
