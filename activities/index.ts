import { type AgentActivityDeps, createAgentActivities } from './agent/index.js';
import { createEchoActivities } from './echo.js';
import { createPipelineStepActivities, type PipelineStepDeps } from './pipeline-steps.js';

/** Everything a worker needs to perform side effects; grows as activities land. */
export interface ActivityDeps {
  pipelineSteps?: PipelineStepDeps;
  /** Providers, agents, tools and the live-delta sink of the agent turn. Absent: no agent.turn. */
  agent?: AgentActivityDeps;
  /**
   * More activities by name, e.g. the step types a test registers through
   * `compilePipeline(…, { stepTypes })`. They never replace the built-in ones.
   */
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

export function createActivities(deps: ActivityDeps = {}) {
  return {
    ...deps.extraActivities,
    ...createEchoActivities(),
    ...createPipelineStepActivities(deps.pipelineSteps),
    ...(deps.agent ? createAgentActivities(deps.agent) : {}),
  };
}

export type Activities = ReturnType<typeof createActivities>;
